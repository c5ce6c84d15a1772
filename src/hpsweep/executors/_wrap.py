"""The trial wrapper: the parent of every local trial process, and the keeper of its tree.

The local executor starts ``python -I -S -c "import _wrap; ..." LIFELINE_FD`` (the module
imported, so its compiled form is cached) in a new session, ahead of need: the wrapper does all
its own set-up, then waits for its launch on stdin (see :func:`launch_message`: the trial's argv,
environment, working directory, log files, ``EXIT_FILE`` and the grace period), so that a trial
starts within a few milliseconds of its launch instead of after an interpreter's start-up. A wrapper
whose stdin closes without a launch, or whose lifeline closes first, exits at once. The wrapper

- makes itself a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so every process the trial
  starts, however it detaches (a new session, a double fork, ``setsid``, a cleared environment),
  is re-parented to the wrapper and never to init while the wrapper lives;
- starts ARGV in a process group of its own and waits for it;
- where its cgroup v2 folder is writable, moves itself, while it waits for its launch, into a
  cgroup of its own (``hpsweep-trial-<wrapper pid>``) that the trial and everything it starts
  inherit, emptied when the trial ends (and removed by the controller once the wrapper exited):
  even a killed wrapper leaves its trial's processes findable there. The move is made before
  the launch because a move between cgroups can take tens of milliseconds (the kernel waits for
  an RCU grace period), which would otherwise delay the trial or leave what it forks at once
  outside the cgroup;
- forwards SIGTERM, SIGINT and SIGHUP to the trial's process group (a stop), and on SIGUSR1
  kills the whole tree at once (the stop's grace period is over);
- holds LIFELINE_FD, the read end of a pipe whose write end only the controller holds: when it
  reads end-of-file the controller is gone, and the wrapper ends the tree (SIGTERM, GRACE
  seconds, SIGKILL);
- when the trial's process has ended, kills what is left of its tree, reaps it, and writes
  EXIT_FILE (``{"exit_code", "signal", "time"}``, atomically: a temporary file and a rename) so
  that the exit is on disk even when the controller died at that moment. A trial ended by the
  wrapper because the controller died gets no EXIT_FILE: it did not end by itself.
- ends the way the trial did (the same exit code, or the same signal).

Standard library only, and runnable as a plain file with ``-I -S`` (fast start-up, no site); the
reaper imports its tree helpers.
"""

from __future__ import annotations

import _signal as signal  # the C module: the enums of `signal` cost a trial several ms
import os
import select
import sys
import time

TYPE_CHECKING = False  # typing is not imported: every millisecond of start-up delays a trial
if TYPE_CHECKING:
    from collections.abc import Iterable

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process a child subreaper; False where the kernel refuses (not Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


CGROUP_PREFIX = "hpsweep-trial-"


def cgroup_base() -> str | None:
    """This process's cgroup v2 folder when it is writable (a per-trial cgroup can be made
    below it), else None (no unified hierarchy, or not delegated to us)."""
    try:
        with open("/proc/self/cgroup") as fh:
            path = next((line[3:].strip() for line in fh if line.startswith("0::")), None)
        if path is None:
            return None
        mount = None
        with open("/proc/self/mountinfo") as fh:
            for line in fh:
                head, _, tail = line.partition(" - ")
                if tail.startswith("cgroup2 "):
                    mount = head.split()[4]
                    break
    except OSError:
        return None
    if mount is None:
        return None
    base = os.path.join(mount, path.lstrip("/")).rstrip("/")
    return base if os.access(os.path.join(base, "cgroup.procs"), os.W_OK) else None


def trial_cgroup(base: str, wrapper_pid: int) -> str:
    """The cgroup folder of the trial whose wrapper is ``wrapper_pid``."""
    return os.path.join(base, f"{CGROUP_PREFIX}{wrapper_pid}")


def _write(path: str, text: str) -> bool:
    try:
        with open(path, "w") as fh:
            fh.write(text)
        return True
    except OSError:
        return False


def enter_cgroup(base: str, pid: int | None = None) -> str | None:
    """Move process ``pid`` (this one by default) into a new cgroup below ``base`` named for this
    wrapper (the processes it starts afterwards inherit it); None when the kernel refuses."""
    folder = trial_cgroup(base, os.getpid())
    try:
        os.mkdir(folder)
    except OSError:
        return None
    if _write(os.path.join(folder, "cgroup.procs"), str(os.getpid() if pid is None else pid)):
        return folder
    empty_cgroup(folder, base)
    return None


def empty_cgroup(folder: str, base: str, rounds: int = 200, *, remove: bool = True) -> None:
    """Kill every other process in the cgroup ``folder`` and, with ``remove``, remove it (this
    process moves back to ``base`` first). Without ``remove`` this process stays in it: the
    wrapper leaves its empty cgroup to the controller, which removes it once the wrapper has
    exited (a move between cgroups is slow)."""
    me = os.getpid()
    if remove and _member(folder, me):
        _write(os.path.join(base, "cgroup.procs"), str(me))
    for _ in range(rounds):
        try:
            with open(os.path.join(folder, "cgroup.procs")) as fh:
                pids = [int(p) for p in fh.read().split() if int(p) != me]
        except OSError:
            return
        if pids:
            if not remove or not _write(os.path.join(folder, "cgroup.kill"), "1"):
                signal_all(pids, signal.SIGKILL)
            _reap_some()
            time.sleep(0.005)
            continue
        if not remove:
            return
        try:
            os.rmdir(folder)
            return
        except OSError:
            time.sleep(0.005)


def _member(folder: str, pid: int) -> bool:
    try:
        with open(os.path.join(folder, "cgroup.procs")) as fh:
            return str(pid) in fh.read().split()
    except OSError:
        return False


def _reap_some() -> None:
    """Reap children that have ended (as a subreaper, killed descendants come back here)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of ``pid``, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    return int(fields[1]), fields[0].decode()


def parents() -> dict[int, int]:
    """Parent pid of every live (non-zombie) process."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[1] not in ("Z", "X"):
                out[int(entry)] = st[0]
    return out


def _children(pid: int) -> list[int] | None:
    """Direct children of ``pid`` from ``/proc/PID/task/*/children``; None where the kernel
    does not provide these files."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                out.extend(int(c) for c in fh.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}/children") and os.path.isdir(
                    f"/proc/{pid}/task/{tid}"):
                return None
        except (OSError, ValueError):
            continue
    return out


def descendants(roots: Iterable[int]) -> set[int]:
    """Every live process below ``roots`` (not the roots themselves): through the kernel's
    children lists where it has them (cheap for a small tree), else one scan of ``/proc``."""
    found: set[int] = set()
    todo = list(roots)
    while todo:
        kids = _children(todo.pop())
        if kids is None:
            return _descendants_by_scan(roots)
        for child in kids:
            if child not in found and alive(child):
                found.add(child)
                todo.append(child)
    return found


def _descendants_by_scan(roots: Iterable[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in parents().items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    st = _stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            continue


def kill_tree(roots: Iterable[int], *, include_roots: bool = True, rounds: int = 50) -> None:
    """SIGKILL every process below ``roots`` (and the roots): stop them all first, so that none
    can start another while the tree is gathered, then kill them."""
    roots = set(roots)
    seen: set[int] = set()
    for _ in range(rounds):
        tree = descendants(roots | seen) | (roots if include_roots else set())
        tree = {p for p in tree if alive(p)} - {os.getpid()}
        if not tree - seen:
            break
        signal_all(tree, signal.SIGSTOP)
        seen |= tree
    signal_all(seen, signal.SIGKILL)


def _write_exit(path: str, status: int) -> None:
    code = os.waitstatus_to_exitcode(status)
    exit_code, sig = (str(code), "null") if code >= 0 else ("null", str(-code))
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:  # JSON written by hand: the json module costs start-up time
        fh.write(f'{{"exit_code": {exit_code}, "signal": {sig}, "time": {time.time()!r}}}')
    os.replace(tmp, path)


def _readable(fd: int, timeout: float) -> bool:
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    except (OSError, ValueError):
        return True
    return bool(ready)


MAGIC = b"hpsweep-launch-1"


def encode_env(env: dict[str, str]) -> bytes:
    """Variables as a launch message carries them: ``NUL K=V`` each (a later one of the same
    name wins)."""
    return b"".join(b"\0" + os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items())


def launch_message(argv: list[str], env: bytes, cwd: str | None, stdout: str, stderr: str,
                   exit_file: str, grace: float) -> bytes:
    """The bytes the controller writes to a waiting wrapper's stdin (then closes it): fields
    separated by NUL, which no argument, variable or path can hold; ``env`` from
    :func:`encode_env`."""
    fields = [MAGIC, repr(float(grace)).encode(), os.fsencode(exit_file), os.fsencode(cwd or ""),
              os.fsencode(stdout), os.fsencode(stderr), str(len(argv)).encode(),
              *(os.fsencode(a) for a in argv)]
    return b"\0".join(fields) + env


def _read_launch(lifeline: int) -> tuple[float, str, str, str, str, list[str], dict[str, str]] | None:
    """Wait for the launch message (None: stdin closed without one, or the controller is gone)."""
    while True:
        try:
            ready, _, _ = select.select([0, lifeline], [], [])
        except InterruptedError:
            continue
        if lifeline in ready:
            return None
        break
    chunks = []
    while True:
        data = os.read(0, 1 << 16)
        if not data:
            break
        chunks.append(data)
    fields = b"".join(chunks).split(b"\0")
    if len(fields) < 8 or fields[0] != MAGIC or _readable(lifeline, 0):
        return None
    count = int(fields[6])
    argv = [os.fsdecode(a) for a in fields[7:7 + count]]
    env: dict[str, str] = {}
    for item in fields[7 + count:]:
        key, _, value = os.fsdecode(item).partition("=")
        env[key] = value
    grace, exit_file, cwd, out, err = (float(fields[1]), *(os.fsdecode(f) for f in fields[2:6]))
    return grace, exit_file, cwd, out, err, argv, env


def _redirect(path: str, target: int, flags: int) -> None:
    fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    os.dup2(fd, target)
    os.close(fd)


def main(argv: list[str]) -> int:
    lifeline = int(argv[1])
    os.set_inheritable(lifeline, False)
    become_subreaper()
    base = cgroup_base()
    cgroup = enter_cgroup(base) if base is not None else None  # the trial is born in it
    launch = _read_launch(lifeline)
    if launch is None:
        return 0  # its empty cgroup is the controller's to remove
    grace, exit_file, cwd, out, err, command, env = launch
    try:
        _redirect(os.devnull, 0, os.O_RDONLY)
        _redirect(out, 1, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        _redirect(err, 2, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        if cwd:
            os.chdir(cwd)
    except OSError as exc:
        print(f"hpsweep: cannot start {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    if env.get("PATH") != os.environ.get("PATH"):  # posix_spawnp searches this process's PATH
        if "PATH" in env:
            os.environ["PATH"] = env["PATH"]
        else:
            del os.environ["PATH"]
    child = 0

    def forward(sig: int, _frame: object) -> None:
        if child:
            try:
                os.killpg(child, sig)
            except (ProcessLookupError, PermissionError):
                return

    def kill_now(_sig: int, _frame: object) -> None:
        if child:
            kill_tree([child])

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    signal.signal(signal.SIGUSR1, kill_now)
    try:
        child = os.posix_spawnp(command[0], command, env, setpgroup=0,
                                setsigdef=(signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                                           signal.SIGUSR1, signal.SIGPIPE))
    except OSError as exc:
        print(f"hpsweep: cannot start {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    pidfd = os.pidfd_open(child)
    lost = False
    while True:
        ready, _, _ = select.select([pidfd] if lost else [pidfd, lifeline], [], [])
        if pidfd in ready:
            break
        if lifeline in ready and not lost:  # the controller is gone: end the trial
            lost = True
            forward(signal.SIGTERM, None)
            signal_all(descendants([child]), signal.SIGTERM)
            if not _readable(pidfd, grace):
                kill_tree([child])
    lost = lost or _readable(lifeline, 0)
    _, status = os.waitpid(child, 0)
    # What the trial left behind dies with it; it is all below this subreaper (and in its cgroup).
    if cgroup is not None and base is not None:
        empty_cgroup(cgroup, base, remove=False)
    while True:
        kill_tree(descendants([os.getpid()]))
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    if not lost:
        try:
            _write_exit(exit_file, status)
        except OSError as exc:
            print(f"hpsweep: cannot write {exit_file}: {exc}", file=sys.stderr)
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        sys.stderr.flush()
        os._exit(code)  # no interpreter shutdown: the controller is waiting for this exit
    # End by the same signal, without a core file of our own.
    import contextlib
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError, ValueError):  # SIGKILL, SIGSTOP: no handler to reset
        signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
    return 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
