"""A study's budget: configurations started, total resource, and time; the first met ends it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hpsweep.errors import UsageError

__all__ = ["Budget"]


@dataclass(frozen=True)
class Budget:
    """What a study may spend. ``None`` is no limit on that count.

    - ``num_trials``: configurations started (``--num-trials``). Once met, no new configuration
      starts; the scheduler brings the started ones to an end (promotions go on).
    - ``resource``: total resource (``--resource-budget``, e.g. epochs), counted as the sum over
      trials of the largest step each reported.
    - ``time``: seconds of the executor's clock from the start of this controller
      (``--time-budget``; simulated seconds for simulated executors).

    Resource and time end the study at once: running trials are stopped (their reports stay
    valid) and paused ones are stopped, each with the reason.
    """

    num_trials: int | None = None
    resource: float | None = None
    time: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("num_trials", self.num_trials), ("resource", self.resource),
                            ("time", self.time)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise UsageError(f"budget {name} must be a number > 0, got {value!r}.")
        if self.num_trials is not None and not isinstance(self.num_trials, int):
            raise UsageError(f"budget num_trials must be an integer, got {self.num_trials!r}.")

    def spent(self, *, started: int, resource: float, elapsed: float) -> str | None:
        """Why the budget is spent (None while it is not); ``num_trials`` is not an end here."""
        if self.time is not None and elapsed >= self.time:
            return f"time budget spent ({self.time:g} s)"
        if self.resource is not None and resource >= self.resource:
            return f"resource budget spent ({resource:g} of {self.resource:g})"
        return None
