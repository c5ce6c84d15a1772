"""The reaper: kills a controller's trial processes when the controller dies.

Started by the local executor in its own session, with the controller's token as argument. It
blocks reading its stdin, a pipe from the controller; when that closes (the controller exited or
was killed, even with SIGKILL) it

1. gathers every process whose environment carries ``HPSWEEP_CONTROLLER=<token>`` (every trial's
   wrapper and trial inherit it) and everything below them: the wrappers are child subreapers,
   so a trial's processes stay below its wrapper however they detach, cleared environment
   included;
2. waits (a bounded time) for the wrappers, which saw the same death on their own lifelines, to
   end their trees themselves (SIGTERM, a grace period, SIGKILL);
3. terminates, then kills, the process groups of whatever still carries the token, stops and
   kills whatever is left of the trees gathered in step 1, and empties the per-trial cgroups
   (cgroup v2, where the wrappers could make them) that a killed wrapper left.

Nothing is sent to it per trial, so it costs the controller nothing while the sweep runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

from hpsweep.executors._wrap import (
    CGROUP_PREFIX,
    alive,
    cgroup_base,
    descendants,
    empty_cgroup,
    kill_tree,
    trial_cgroup,
)

ENV_KEY = "HPSWEEP_CONTROLLER"


def marked_groups(token: str) -> set[int]:
    """Process groups of the processes that carry ``token`` in their environment."""
    groups: set[int] = set()
    for pid in marked_pids(token):
        try:
            groups.add(os.getpgid(pid))
        except (OSError, ProcessLookupError):
            continue
    return groups


def marked_pids(token: str) -> set[int]:
    """The processes that carry ``token`` in their environment."""
    needle = f"{ENV_KEY}={token}".encode()
    found: set[int] = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle in fh.read().split(b"\0"):
                    found.add(int(entry))
        except OSError:
            continue
    return found


def reap(token: str, grace: float) -> None:
    """End every process of the dead controller (see the module's docstring)."""
    marked = {p for p in marked_pids(token) if alive(p)}
    trees = descendants(marked) | marked
    deadline = time.monotonic() + 2 * grace + 5.0
    while time.monotonic() < deadline and any(alive(p) for p in marked):
        time.sleep(0.05)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        groups = marked_groups(token) - {os.getpgid(0)}
        if not groups:
            break
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and marked_groups(token):
            time.sleep(0.05)
    kill_tree({p for p in trees if alive(p)})
    base = cgroup_base()
    if base is not None:  # trial cgroups whose wrapper is gone: empty them and remove them
        for pid in marked:
            if os.path.isdir(trial_cgroup(base, pid)):
                empty_cgroup(trial_cgroup(base, pid), base)
        with contextlib.suppress(OSError):
            for entry in os.listdir(base):
                suffix = entry[len(CGROUP_PREFIX):]
                if entry.startswith(CGROUP_PREFIX) and suffix.isdigit() and not alive(int(suffix)):
                    empty_cgroup(os.path.join(base, entry), base)


def main() -> None:
    token = sys.argv[1]
    grace = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    while sys.stdin.buffer.read(65536):
        pass  # only EOF matters
    reap(token, grace)


if __name__ == "__main__":
    main()
