"""The local executor: trials as processes on this machine, in CPU slots or on GPUs.

Each run is a small wrapper process (``_wrap``: a child subreaper in a session of its own) that
starts the trial's argv in its own process group, stdout and stderr going to files in its trial
folder. One wrapper is kept started ahead of need (a spare that has done its own start-up and
waits for its launch on stdin), so a trial starts as soon as its slot is free; the next spare
starts while the trial runs. The wrapper keeps the trial's whole tree below itself however its
processes detach, kills what is left of it when the trial's process ends, and writes ``exit.json``
in the trial folder (so the exit is on disk even if the controller is dead at that moment). Exits
are noticed at once through pidfds; reports are read by tailing the report file and stdout. If the
controller dies, even by SIGKILL, the wrappers see their lifeline pipe close and end their trees,
and a separate reaper process (which finds the wrappers by a token in their environment) kills
whatever is left, so no trial outlives its controller. The controller is itself a child subreaper:
a process whose wrapper was killed is re-parented to it, and it kills those that carry its token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hpsweep._faults import kill_point
from hpsweep.errors import UsageError
from hpsweep.executors import _wrap
from hpsweep.executors._reaper import ENV_KEY as REAPER_ENV
from hpsweep.executors.base import (
    Executor,
    ExecutorEvent,
    ExitEvent,
    LaunchSpec,
    ReportEvent,
    Slot,
    WallClock,
)
from hpsweep.executors.gpu import GpuAllocator
from hpsweep.executors.metrics import FileTail, MetricParser, read_summary_file
from hpsweep.executors.recovery import EXIT_FILE, RUN_FILE, read_run, settle
from hpsweep.trial import ErrorKind

if TYPE_CHECKING:
    from hpsweep.trial import TrialRecord

__all__ = ["EXIT_FILE", "LocalExecutor"]

# The wrapper is imported by a one-line bootstrap, not run as a script, so that its compiled
# form is cached (a script is compiled at every start); ``-I -S``: no site, no user paths.
_WRAPPER = (f"import sys; sys.path.append({os.path.dirname(os.path.abspath(_wrap.__file__))!r}); "
            "import _wrap; sys.exit(_wrap.main(sys.argv))")


def _launch_problem(argv: Sequence[str], cwd: str | None, path: str | None) -> str | None:
    """Why ``argv`` cannot be started (checked before its wrapper starts), or None."""
    if not argv:
        return "(empty command)"
    program = argv[0]
    if cwd and not os.path.isdir(cwd):
        return f"cannot start {program!r}: no working directory {cwd!r}"
    if os.sep in program:
        full = program if os.path.isabs(program) else os.path.join(cwd or os.getcwd(), program)
        if not os.path.exists(full):
            return f"cannot start {program!r}: No such file or directory"
        if os.path.isdir(full) or not os.access(full, os.X_OK):
            return f"cannot start {program!r}: Permission denied"
        return None
    if shutil.which(program, path=path) is None:
        return f"cannot start {program!r}: not found on PATH"
    return None


class _Wrapper:
    """A wrapper process started by ``posix_spawn`` (no Python-level set-up per start, unlike
    ``subprocess.Popen``): its pid, the write end of its stdin, and its exit once reaped."""

    __slots__ = ("pid", "returncode", "stdin")

    def __init__(self, pid: int, stdin: int) -> None:
        self.pid = pid
        self.stdin: int | None = stdin
        self.returncode: int | None = None

    def send(self, message: bytes) -> None:
        """Write ``message`` to its stdin and close it (OSError when the wrapper is gone)."""
        assert self.stdin is not None
        view = memoryview(message)
        try:
            while view:
                view = view[os.write(self.stdin, view):]
        finally:
            self.close_stdin()

    def close_stdin(self) -> None:
        if self.stdin is not None:
            os.close(self.stdin)
            self.stdin = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: nothing more can be known
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and timeout is not None:
            with contextlib.suppress(OSError):
                fd = os.pidfd_open(self.pid)
                try:
                    select.select([fd], [], [], timeout)
                finally:
                    os.close(fd)
            if self.poll() is None:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
        if self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                self.returncode = 0
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


@dataclass
class _Run:
    spec: LaunchSpec
    slot: Slot
    proc: _Wrapper
    pidfd: int | None
    reports: FileTail
    stdout: FileTail
    deadline: float | None
    stop_requested: bool = False
    timed_out: bool = False
    kill_at: float | None = None


class LocalExecutor(Executor):
    """Runs trials as local processes.

    ``slots`` parallel trials on the CPU, or, with ``gpus``, up to ``jobs_per_gpu`` per GPU
    (``slots`` then caps the total). ``summary_file`` (relative to the trial folder) is read
    when a run ends.
    """

    def __init__(
        self,
        *,
        slots: int | None = None,
        gpus: Sequence[str] = (),
        jobs_per_gpu: int = 1,
        allocator: GpuAllocator | None = None,
        parser: MetricParser | None = None,
        summary_file: str | None = None,
        kill_grace: float = 3.0,
        report_interval: float = 0.1,
    ) -> None:
        if slots is not None and slots < 1:
            raise UsageError(f"--parallel must be >= 1, got {slots}.")
        self.clock = WallClock()
        self.allocator = allocator or (GpuAllocator(gpus, jobs_per_gpu=jobs_per_gpu) if gpus else None)
        gpu_cap = self.allocator.capacity if self.allocator else None
        self.capacity = min(x for x in (slots, gpu_cap) if x is not None) if (slots or gpu_cap) else 1
        self.parser = parser or MetricParser()
        self.summary_file = summary_file
        self.kill_grace = kill_grace
        self.report_interval = report_interval
        self._runs: dict[int, _Run] = {}
        self._reserved: dict[int, Slot] = {}
        self._pending: list[ExecutorEvent] = []
        self._last_tail = 0.0
        self._reaper: subprocess.Popen[bytes] | None = None
        self._token = secrets.token_hex(8)
        self._lifeline: tuple[int, int] | None = None  # (read, write): wrappers hold the read end
        self._spare: _Wrapper | None = None  # a wrapper waiting for its launch
        self._env: tuple[dict[str, str], bytes] | None = None  # the base environment, encoded
        self._devnull = -1
        self._cgroups: list[str] = []  # of ended runs, to be removed when idle
        self._cgroup_base = ""  # where the wrappers make their cgroups ("" for none)

    # -- slots -----------------------------------------------------------------------------------
    def _busy_ids(self) -> set[int]:
        return {r.slot.worker_id for r in self._runs.values()} | set(self._reserved)

    def reserve(self) -> Slot | None:
        busy = self._busy_ids()
        if len(busy) >= self.capacity:
            return None
        gpu = None
        if self.allocator is not None:
            gpu = self.allocator.choose(self.clock.now())
            if gpu is None:
                return None
            self.allocator.take(gpu, self.clock.now())
        worker_id = min(set(range(self.capacity)) - busy)
        slot = Slot(worker_id=worker_id, gpu=gpu)
        self._reserved[worker_id] = slot
        return slot

    def release(self, slot: Slot) -> None:
        if self._reserved.pop(slot.worker_id, None) is not None and slot.gpu and self.allocator:
            self.allocator.give(slot.gpu)

    def _free(self, slot: Slot) -> None:
        if slot.gpu and self.allocator:
            self.allocator.give(slot.gpu)

    # -- launching -------------------------------------------------------------------------------
    def _start_reaper(self) -> None:
        """The reaper outlives this process and kills its trials if it dies (see ``_reaper``)."""
        if self._lifeline is None:
            _wrap.become_subreaper()
            self._cgroup_base = _wrap.cgroup_base() or ""
            # Wrappers inherit the read end; the write end stays close-on-exec, held here only.
            self._lifeline = os.pipe()
            os.set_inheritable(self._lifeline[0], True)
            self._devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        if self._reaper is None or self._reaper.poll() is not None:
            self._reaper = subprocess.Popen(
                [sys.executable, "-m", "hpsweep.executors._reaper", self._token, str(self.kill_grace)],
                stdin=subprocess.PIPE, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )


    def _reap_adopted(self) -> None:
        """Kill and reap processes re-parented to this controller (their wrapper was killed)
        that carry this controller's token."""
        me = os.getpid()
        mine = {r.proc.pid for r in self._runs.values()}
        mine.update(p.pid for p in (self._reaper, self._spare) if p is not None)
        needle = f"{REAPER_ENV}={self._token}".encode()
        for pid, ppid in _wrap.parents().items():
            if ppid != me or pid in mine:
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    if needle not in fh.read().split(b"\0"):
                        continue
            except OSError:
                continue
            _wrap.kill_tree([pid])
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def launch(self, slot: Slot, spec: LaunchSpec) -> None:
        self._reserved.pop(slot.worker_id, None)
        trial_dir = spec.trial_dir  # strings, not paths: a launch is on every trial's way
        os.makedirs(trial_dir, exist_ok=True)
        stdout, stderr = os.path.join(trial_dir, "stdout.log"), os.path.join(trial_dir, "stderr.log")
        base, base_encoded = self._environment()
        extra = dict(spec.env)  # on top of this process's environment
        if slot.gpu is not None:
            extra["CUDA_VISIBLE_DEVICES"] = slot.gpu
        # Earlier runs of a resumed trial were read already: start at the current ends, measured
        # before the child starts so that nothing it writes is skipped.
        stdout_tail = FileTail(stdout, skip_existing=True)
        report_file = spec.env.get("HPSWEEP_REPORT_FILE", os.path.join(trial_dir, "reports.jsonl"))
        report_tail = FileTail(report_file, skip_existing=True)
        problem = _launch_problem(spec.argv, spec.cwd, extra.get("PATH", base.get("PATH")))
        if problem is not None:
            self._free(slot)
            self._pending.append(ExitEvent(spec.trial_id, None, self.clock.now(), ErrorKind.LAUNCH,
                                           problem))
            return
        exit_file = os.path.join(trial_dir, EXIT_FILE)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(exit_file)  # an earlier run's exit is not this run's
        _write_json_atomic(os.path.join(trial_dir, RUN_FILE), {  # where this run began, for recover()
            "reports": report_tail.offset, "stdout": stdout_tail.offset, "report_file": report_file})
        for log in (stdout, stderr):  # made here, so that a disk fault is the controller's error
            os.close(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        self._start_reaper()  # started before the child, so it can never miss one
        extra[REAPER_ENV] = self._token
        message = _wrap.launch_message(list(spec.argv), base_encoded + _wrap.encode_env(extra),
                                       spec.cwd, stdout, stderr, exit_file, self.kill_grace)
        proc = self._hand_over(message)
        if isinstance(proc, OSError):
            self._free(slot)
            self._pending.append(ExitEvent(spec.trial_id, None, self.clock.now(), ErrorKind.LAUNCH,
                                           f"cannot start {spec.argv[0]!r}: {proc.strerror or proc}"))
            return
        kill_point("launch")
        pidfd = None
        with contextlib.suppress(OSError, AttributeError):
            pidfd = os.pidfd_open(proc.pid)
        now = self.clock.now()
        self._runs[spec.trial_id] = _Run(
            spec=spec, slot=slot, proc=proc, pidfd=pidfd, reports=report_tail, stdout=stdout_tail,
            deadline=(now + spec.timeout) if spec.timeout else None,
        )
        spare = self._start_wrapper()  # the next launch's, starting while this trial runs
        self._spare = None if isinstance(spare, OSError) else spare

    def _environment(self) -> tuple[dict[str, str], bytes]:
        """This process's environment with the reaper's token, as the executor first saw it,
        and encoded for a launch message (taken once: copying and encoding it at every launch
        was a large part of a launch's cost)."""
        if self._env is None:
            base = dict(os.environ)
            base[REAPER_ENV] = self._token  # the reaper finds waiting wrappers by it
            self._env = base, _wrap.encode_env(base)
        return self._env

    def _start_wrapper(self) -> _Wrapper | OSError:
        """A wrapper that does its start-up and then waits for its launch on stdin."""
        assert self._lifeline is not None
        read, write = os.pipe()
        try:
            pid = os.posix_spawn(
                sys.executable, [sys.executable, "-I", "-S", "-c", _WRAPPER, str(self._lifeline[0])],
                self._environment()[0], setsid=True,
                file_actions=[(os.POSIX_SPAWN_DUP2, read, 0), (os.POSIX_SPAWN_DUP2, self._devnull, 1),
                              (os.POSIX_SPAWN_DUP2, self._devnull, 2)])
        except OSError as exc:
            os.close(write)
            return exc
        finally:
            os.close(read)
        return _Wrapper(pid, write)

    def _hand_over(self, message: bytes) -> _Wrapper | OSError:
        """Give ``message`` (a launch) to the spare wrapper, or to a new one when there is none
        or the spare is gone; the wrapper that took it, or why none could be started."""
        for attempt in range(2):
            proc = self._spare if attempt == 0 and self._spare is not None else self._start_wrapper()
            self._spare = None
            if isinstance(proc, OSError):
                return proc
            try:
                proc.send(message)
                return proc
            except OSError as exc:  # it died before its launch: end it, and start a fresh one
                self._end_spare(proc)
                if attempt == 1:
                    return exc
        raise AssertionError("unreachable")

    def recover(self, trial: TrialRecord) -> tuple[list[ReportEvent], ExitEvent | None] | None:
        """What the trial's last run left in its folder: every report it wrote and, when it
        ended by itself (its wrapper wrote ``exit.json``), its exit. A run whose tree was ended
        because its controller died leaves no exit record: it is run again."""
        if not trial.trial_dir:
            return None
        run = read_run(Path(trial.trial_dir))
        if run is None:
            return None
        report_file = run.get("report_file")
        settled = settle(Path(trial.trial_dir), self.parser, self.summary_file,
                         Path(report_file) if isinstance(report_file, str) else None, offsets=run)
        reports = [ReportEvent(trial.trial_id, step, metrics, when) for step, metrics, when in settled.reports]
        exit_event = None
        if settled.finished is not None and settled.exit_code is not None:
            exit_event = ExitEvent(trial.trial_id, settled.exit_code, settled.finished)
        return reports, exit_event

    def pid_of(self, trial_id: int) -> int | None:
        run = self._runs.get(trial_id)
        return run.proc.pid if run else None

    # -- watching --------------------------------------------------------------------------------
    def running(self) -> set[int]:
        return set(self._runs) | {e.trial_id for e in self._pending if isinstance(e, ExitEvent)}

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        events, self._pending = self._pending, []
        now = self.clock.now()
        self._enforce_deadlines(now)
        exited = self._exited()
        if not events and not exited:
            while self._cgroups:  # idle: the cgroups of ended runs go now
                self._remove_cgroup(self._cgroups.pop())
            wait = max(0.0, min(timeout, self._next_wakeup(now) - now))
            exited = self._wait(wait)
        now = self.clock.now()
        if exited or now - self._last_tail >= self.report_interval:
            self._last_tail = now
            for tid, run in self._runs.items():
                if tid not in exited:
                    events.extend(self._tail(run, final=False))
        for tid in exited:
            events.extend(self._finish(self._runs.pop(tid)))
        return events

    def _end_spare(self, proc: _Wrapper) -> None:
        """End a wrapper that has no trial: its stdin closed, it exits at once (killed if it
        does not), and its empty cgroup is removed."""
        with contextlib.suppress(OSError):
            proc.close_stdin()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._cgroup_base:
            self._remove_cgroup(_wrap.trial_cgroup(self._cgroup_base, proc.pid))

    def _remove_cgroup(self, folder: str) -> None:
        try:
            os.rmdir(folder)
        except FileNotFoundError:
            pass
        except OSError:
            _wrap.empty_cgroup(folder, self._cgroup_base)

    def _next_wakeup(self, now: float) -> float:
        times = [self._last_tail + self.report_interval] if self._runs else [now + 3600.0]
        for run in self._runs.values():
            times.extend(t for t in (run.deadline, run.kill_at) if t is not None)
        return min(times)

    def _exited(self) -> list[int]:
        return [tid for tid, run in self._runs.items() if run.proc.poll() is not None]

    def _wait(self, wait: float) -> list[int]:
        fds = {run.pidfd: tid for tid, run in self._runs.items() if run.pidfd is not None}
        if fds and len(fds) == len(self._runs):
            with contextlib.suppress(InterruptedError):
                select.select(list(fds), [], [], wait)
        elif wait > 0:
            select.select([], [], [], min(wait, 0.01))
        return self._exited()

    def _enforce_deadlines(self, now: float) -> None:
        for run in self._runs.values():
            if run.deadline is not None and now >= run.deadline and not run.timed_out:
                run.timed_out = True
                self._signal(run, signal.SIGTERM)
                run.kill_at = now + self.kill_grace
            elif run.kill_at is not None and now >= run.kill_at:
                self._signal(run, signal.SIGKILL)
                run.kill_at = None

    @staticmethod
    def _signal(run: _Run, sig: int) -> None:
        """Signal a run through its wrapper: SIGTERM goes on to the trial's process group,
        SIGKILL becomes the wrapper's SIGUSR1 (kill the whole tree now)."""
        if run.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(run.proc.pid, signal.SIGUSR1 if sig == signal.SIGKILL else sig)

    def _tail(self, run: _Run, *, final: bool) -> list[ExecutorEvent]:
        now = self.clock.now()
        events: list[ExecutorEvent] = [
            ReportEvent(run.spec.trial_id, p.step, p.metrics, now)
            for p in self.parser.read(run.reports, run.stdout, final=final)]
        if events:
            kill_point("report")
        return events

    def _finish(self, run: _Run) -> list[ExecutorEvent]:
        code = run.proc.wait()  # the wrapper ended the trial's tree before it exited
        if code == -signal.SIGKILL:  # the wrapper itself was killed: its orphans came here
            self._reap_adopted()
        if self._cgroup_base:  # the wrapper's cgroup: empty unless the wrapper was killed
            folder = _wrap.trial_cgroup(self._cgroup_base, run.proc.pid)
            if code == -signal.SIGKILL:
                self._remove_cgroup(folder)
            else:  # removed once the next launches are made (removing one takes milliseconds)
                self._cgroups.append(folder)
        if run.pidfd is not None:
            os.close(run.pidfd)
        self._free(run.slot)
        events = self._tail(run, final=True)
        kind: ErrorKind | None = None
        message = ""
        if self.summary_file and not run.stop_requested and not run.timed_out:
            summary = read_summary_file(Path(run.spec.trial_dir) / self.summary_file)
            if summary:
                events.append(ReportEvent(run.spec.trial_id, None, summary, self.clock.now()))
                if summary.get("finished") == 0:
                    kind, message = ErrorKind.NO_METRIC, f"{self.summary_file} says finished 0"
        if run.timed_out:
            kind = ErrorKind.TIMEOUT
            message = f"ran past its timeout of {run.spec.timeout:g} s and was killed"
        events.append(ExitEvent(run.spec.trial_id, code, self.clock.now(), kind, message,
                                stopped=run.stop_requested))
        kill_point("exit")
        return events

    # -- stopping --------------------------------------------------------------------------------
    def stop(self, trial_id: int) -> None:
        run = self._runs.get(trial_id)
        if run is None or run.stop_requested:
            return
        run.stop_requested = True
        self._signal(run, signal.SIGTERM)
        run.kill_at = self.clock.now() + self.kill_grace

    def shutdown(self, *, kill: bool) -> None:
        if kill:
            for tid in list(self._runs):
                self.stop(tid)
            while self._runs:
                self.poll(0.05)
                now = self.clock.now()
                self._enforce_deadlines(now)
        while self._cgroups:
            self._remove_cgroup(self._cgroups.pop())
        if self._spare is not None:
            self._end_spare(self._spare)
        self._spare = None
        if self._lifeline is not None:  # wrappers still running end their trees now
            for fd in (*self._lifeline, self._devnull):
                os.close(fd)
            self._lifeline = None
        if self._reaper is not None:
            if self._reaper.stdin:
                with contextlib.suppress(BrokenPipeError):
                    self._reaper.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=self.kill_grace + 5)
            self._reaper = None


def _write_json_atomic(path: str, data: dict[str, object]) -> None:
    import json

    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(json.dumps(data))
    os.replace(tmp, path)
