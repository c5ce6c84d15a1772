"""The reaper: kills a controller's trial process groups when the controller dies.

Started by the local executor in its own session. It reads ``+PGID`` / ``-PGID`` lines on stdin;
when stdin closes (the controller exited or was killed, even with SIGKILL) it terminates every
process group still registered, then kills what is left after a grace period.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def main() -> None:
    groups: set[int] = set()
    for raw in sys.stdin:
        line = raw.strip()
        if len(line) > 1 and line[1:].isdigit():
            (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
    grace = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pgid in list(groups):
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                groups.discard(pgid)
        deadline = time.monotonic() + grace
        while groups and time.monotonic() < deadline:
            groups = {g for g in groups if _alive(g)}
            time.sleep(0.05)


if __name__ == "__main__":
    main()
