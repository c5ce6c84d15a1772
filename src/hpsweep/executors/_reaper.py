"""The reaper: kills a controller's trial processes when the controller dies.

Started by the local executor in its own session, with the controller's token as argument. It
blocks reading its stdin, a pipe from the controller; when that closes (the controller exited or
was killed, even with SIGKILL) it finds every process whose environment carries
``HPSWEEP_CONTROLLER=<token>`` (every trial inherits it, and so do the trials' own children),
terminates their process groups, and kills what is left after a grace period. Nothing is sent
to it per trial, so it costs the controller nothing while the sweep runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

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


def reap(token: str, grace: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        groups = marked_groups(token)
        if not groups:
            return
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and marked_groups(token):
            time.sleep(0.05)


def main() -> None:
    token = sys.argv[1]
    grace = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    while sys.stdin.buffer.read(65536):
        pass  # only EOF matters
    reap(token, grace)


if __name__ == "__main__":
    main()
