"""The contract every scheduler keeps, run by every scheduler the registry knows, through the
public suite in :mod:`hpsweep.testing.schedulers` (what a user's own scheduler runs too)."""

from __future__ import annotations

from typing import Any

import pytest

from hpsweep.schedulers import SCHEDULERS, Scheduler, make_scheduler, register_scheduler
from hpsweep.schedulers._common import TrackingScheduler, TrialInfo
from hpsweep.schedulers.base import new_configuration
from hpsweep.search.base import Searcher
from hpsweep.testing import schedulers as suite
from hpsweep.trial import ResumeTrial, Suggestion, TrialState, Verdict

NAMES = sorted(SCHEDULERS)


def _factory(name: str) -> suite.SchedulerFactory:
    def make(searcher: Searcher, seed: int) -> Scheduler:
        options: dict[str, Any] = {"max_resource": suite.MAX_RESOURCE}
        return make_scheduler(name, searcher=searcher, metric="loss", mode="min", seed=seed, **options)
    return make


@pytest.mark.parametrize("name", NAMES)
def test_decisions_are_valid(name: str) -> None:
    decisions = suite.check_decisions(_factory(name))
    pauses = make_scheduler(name, searcher=_searcher(), metric="loss", mode="min",
                            max_resource=suite.MAX_RESOURCE).pauses
    assert pauses == any(isinstance(d, ResumeTrial) for d in decisions)


@pytest.mark.parametrize("name", NAMES)
def test_studies_end_right(name: str) -> None:
    suite.check_end_state(_factory(name))


@pytest.mark.parametrize("name", NAMES)
def test_seeded_and_restored(name: str) -> None:
    suite.check_seeded(_factory(name))
    suite.check_restore(_factory(name))


def test_early_stopping_schedulers_stop_some_trials() -> None:
    for name in ("asha", "median"):
        trials, _, _ = suite.simulate(_factory(name), seed=1, num_trials=25)
        assert any(t.state is TrialState.STOPPED for t in trials), name


def _searcher() -> Searcher:
    from hpsweep.bench.functions import CrossingCurves
    from hpsweep.search.basic import RandomSearcher

    bench = CrossingCurves(dim=3, max_resource=suite.MAX_RESOURCE)
    return RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=0)


class TopHalf(TrackingScheduler):
    """A toy scheduler: every trial pauses at the middle; once all have started, the better half
    of them go on to the end and the rest are retired."""

    name = "top-half"
    pauses = True

    def rung_levels(self, trial_id: int) -> list[int]:
        return [self.max_resource // 2]

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        if self.arrivals_over:
            for tid in self._keep():
                if self._trials[tid].state is TrialState.PAUSED:
                    return ResumeTrial(tid, self.max_resource, reason="in the better half")
            return None
        return new_configuration(self.searcher, trial_id, self.max_resource // 2) if allow_new else None

    def _keep(self) -> list[int]:
        ranked = self.ranking(0, self.max_resource // 2)
        return [tid for _, tid in ranked[: max(1, len(ranked) // 2)]]

    def retire(self) -> list[tuple[int, str]]:
        if not self.arrivals_over or self.running_count():
            return []
        keep = set(self._keep())
        return [(t.trial_id, "in the worse half") for t in self.paused() if t.trial_id not in keep]

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        return self._pause_or_continue(info, step, "toy")


def test_a_new_scheduler_is_one_class_and_one_registration() -> None:
    register_scheduler("top-half", TopHalf)
    try:
        suite.check_scheduler(_factory("top-half"))
        from hpsweep.schedulers import scheduler_options

        assert [o.name for o in scheduler_options("top-half")] == [
            "max_resource", "min_resource", "reduction_factor"]
    finally:
        del SCHEDULERS["top-half"]
