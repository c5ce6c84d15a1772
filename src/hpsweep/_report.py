"""``hpsweep.report``: the one function a training script may call. Standard library only.

Outside a sweep (no ``HPSWEEP_REPORT_FILE`` in the environment) it does nothing, so a script can
call it unconditionally.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

__all__ = ["report"]

_ENV = "HPSWEEP_REPORT_FILE"


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # "nan", "inf": still visible
    try:
        return float(value)  # NumPy and torch scalars
    except (TypeError, ValueError):
        return str(value)


def report(step: int | None = None, **metrics: Any) -> None:
    """Record ``metrics`` at ``step`` (e.g. the epoch) for the sweep that runs this script.

    >>> report(step=1, val_loss=0.25)  # a no-op when not run by hpsweep
    """
    path = os.environ.get(_ENV)
    if not path:
        return
    line = json.dumps({"step": step, "metrics": {k: _plain(v) for k, v in metrics.items()},
                       "time": time.time()})
    # One write() of a line shorter than PIPE_BUF on an O_APPEND file: never interleaved.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
