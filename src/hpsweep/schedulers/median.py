"""Median stopping: stop a trial whose best value so far is worse than the median of the others."""

from __future__ import annotations

import statistics
from typing import Any

from hpsweep.schedulers._common import TrackingScheduler, TrialInfo, check_positive_int
from hpsweep.trial import Decision, StartTrial, Suggestion, Verdict

__all__ = ["MedianStoppingScheduler"]


class MedianStoppingScheduler(TrackingScheduler):
    """Stops trial T at step s when T's best value up to s is worse than the median, over the
    other trials that reached s, of their best values up to s.

    Decisions start at ``grace_period`` (default ``min_resource``) and need ``min_samples`` other
    trials at that step.
    """

    name = "median"

    def __init__(self, *, grace_period: int | None = None, min_samples: int = 3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grace_period = check_positive_int(
            "grace_period", grace_period if grace_period is not None else self.min_resource)
        self.min_samples = check_positive_int("min_samples", min_samples)

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        if not allow_new:
            return None
        config = self.searcher.suggest(trial_id)
        if config is None:
            return None
        return StartTrial(config=config, resource=self.max_resource, reason="new configuration")

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        if step < self.grace_period or step >= self.max_resource:
            return Verdict(Decision.CONTINUE, f"step {step} outside the stopping range")
        others = [
            min(v for s, v in t.values.items() if s <= step)
            for t in self._trials.values()
            if t.trial_id != info.trial_id and t.last_step >= step
        ]
        if len(others) < self.min_samples:
            return Verdict(Decision.CONTINUE, f"only {len(others)} other trials at step {step}")
        median = statistics.median(others)
        mine = min(v for s, v in info.values.items() if s <= step)
        if mine > median:
            return Verdict(Decision.STOP, f"best {self._show(mine)} worse than median "
                                          f"{self._show(median)} of {len(others)} at step {step}")
        return Verdict(Decision.CONTINUE, f"best {self._show(mine)} within median "
                                          f"{self._show(median)} at step {step}")

    def _show(self, signed: float) -> str:
        return f"{signed if self.mode == 'min' else -signed:.4g}"
