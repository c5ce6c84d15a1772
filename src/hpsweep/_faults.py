"""Scripted controller deaths, for the crash-consistency tests.

``HPSWEEP_TEST_KILL_AT=POINT[:N]`` makes the controller kill itself with SIGKILL the ``N``-th
time (default the first) it passes ``POINT``. The points, in the order a sweep meets them:

- ``before-study``: about to write ``sweep.json`` (nothing of the study exists yet);
- ``after-sweep``: ``sweep.json`` written, ``study.db`` not yet;
- ``launch``: a trial's process has just started (its start is stored, nothing else);
- ``report``: a trial's report was read (the controller is running trials);
- ``exit``: a trial's process has ended and the controller has seen it, before storing it;
- ``stored``: a trial's end has just been stored.

Unset (always, outside those tests) it costs one environment lookup per point.
"""

from __future__ import annotations

import os
import signal

__all__ = ["ENV", "kill_point"]

ENV = "HPSWEEP_TEST_KILL_AT"
_passed: dict[str, int] = {}


def kill_point(name: str) -> None:
    """Die here if the environment says so (see the module docstring)."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
