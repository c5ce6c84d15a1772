"""Median stopping: stop a trial whose best value so far is worse than the median of the others."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from hpsweep.schedulers._common import TrackingScheduler, TrialInfo
from hpsweep.schedulers._options import FidelityOptions, option
from hpsweep.schedulers.base import new_configuration
from hpsweep.trial import Decision, Suggestion, Verdict

__all__ = ["MedianOptions", "MedianStoppingScheduler"]


@dataclass(frozen=True)
class MedianOptions(FidelityOptions):
    grace_period: int | None = option(None, "first step a trial can be stopped at", minimum=1,
                                      derived="min_resource")
    min_samples: int = option(3, "other trials needed at a step before deciding", minimum=1)


class MedianStoppingScheduler(TrackingScheduler):
    """Stops trial T at step s when T's best value up to s is worse than the median, over the
    other trials that reached s, of their best values up to s (Golovin et al., "Google Vizier",
    KDD 2017). Other trials count only when they have a value at or below s.

    Decisions start at ``grace_period`` (default ``min_resource``) and need ``min_samples`` other
    trials at that step.
    """

    name = "median"
    Options = MedianOptions

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        opts: MedianOptions = self.options  # type: ignore[assignment]
        self.grace_period = opts.grace_period if opts.grace_period is not None else self.min_resource
        self.min_samples = opts.min_samples

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        if not allow_new:
            return None
        return new_configuration(self.searcher, trial_id, self.max_resource)

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        if step < self.grace_period or step >= self.max_resource:
            return Verdict(Decision.CONTINUE, f"step {step} outside the stopping range")
        others = []
        for t in self._trials.values():
            if t.trial_id == info.trial_id or t.last_step < step:
                continue
            upto = [v for s, v in t.values.items() if s <= step]
            if upto:  # a trial whose first report lies above the step has no value to compare
                others.append(min(upto))
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
