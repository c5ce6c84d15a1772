"""The reaper: kills a controller's trial processes when the controller dies.

Started by the local executor in its own session, with the controller's token as argument. It
reads its stdin, a pipe from the controller, on which the controller writes ``+PID`` when it
starts a trial's wrapper (see ``_wrap``) and ``-PID`` when that wrapper has ended. When the pipe
closes (the controller exited or was killed, even with SIGKILL) the reaper

1. waits for the wrappers it was given: they saw the same death on their own lifelines and end
   their trees themselves (SIGTERM, a grace period, SIGKILL), each tree being below its wrapper
   (a child subreaper) however its processes detached;
2. terminates, then kills, the process groups of every process whose environment carries
   ``HPSWEEP_CONTROLLER=<token>`` (what a trial started outside a wrapper would carry);
3. stops and kills whatever is still alive of the given wrappers' trees.

Nothing is sent to it but two short lines per trial, so it costs the controller nothing while
the sweep runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

from hpsweep.executors._wrap import alive, descendants, kill_tree

ENV_KEY = "HPSWEEP_CONTROLLER"


def marked_groups(token: str) -> set[int]:
    """Process groups of the processes that carry ``token`` in their environment."""
    needle = f"{ENV_KEY}={token}".encode()
    groups: set[int] = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            groups.add(os.getpgid(int(entry)))
        except (OSError, ProcessLookupError):
            continue
    return groups


def reap(token: str, grace: float, wrappers: set[int] | None = None) -> None:
    """End every process of the dead controller (see the module's docstring)."""
    wrappers = {p for p in (wrappers or set()) if alive(p)}
    trees = descendants(wrappers) | wrappers
    deadline = time.monotonic() + 2 * grace + 5.0
    while time.monotonic() < deadline and any(alive(p) for p in wrappers):
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


def main() -> None:
    token = sys.argv[1]
    grace = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    wrappers: set[int] = set()
    for line in sys.stdin.buffer:  # ends at EOF: the controller is gone
        text = line.strip()
        with contextlib.suppress(ValueError):
            if text.startswith(b"+"):
                wrappers.add(int(text[1:]))
            elif text.startswith(b"-"):
                wrappers.discard(int(text[1:]))
    reap(token, grace, wrappers)


if __name__ == "__main__":
    main()
