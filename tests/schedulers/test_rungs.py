"""Rung arithmetic against hand-computed examples, and promotions in order."""

from __future__ import annotations

from typing import Any

import pytest

from hpsweep.bench.functions import CrossingCurves
from hpsweep.errors import UsageError
from hpsweep.schedulers import (
    ASHAScheduler,
    HyperbandScheduler,
    PromotionASHAScheduler,
    geometric_rungs,
    linear_rungs,
)
from hpsweep.schedulers._brackets import BracketPlan
from hpsweep.trial import Decision, Report, ResumeTrial, StartTrial, TrialRecord, TrialState
from tests.schedulers.helpers import SeededRandomSearcher


def test_geometric_rungs_min1_max81_eta3() -> None:
    assert geometric_rungs(1, 81, 3) == [1, 3, 9, 27, 81]


@pytest.mark.parametrize(("low", "high", "eta", "expected"), [
    (1, 52, 3, [1, 3, 9, 27, 52]),
    (2, 52, 3, [2, 6, 18, 52]),
    (1, 16, 2, [1, 2, 4, 8, 16]),
    (5, 5, 3, [5]),
])
def test_geometric_rungs_cut_at_max(low: int, high: int, eta: int, expected: list[int]) -> None:
    assert geometric_rungs(low, high, eta) == expected


def test_linear_rungs() -> None:
    assert linear_rungs(1, 10, 3) == [1, 4, 7, 10]
    assert linear_rungs(2, 8, 2) == [2, 4, 6, 8]


def test_hyperband_table_min1_max81_eta3() -> None:
    # The classic Hyperband table: brackets start 81, 34, 15, 8, 5 configurations.
    plan = BracketPlan(min_resource=1, max_resource=81, eta=3, brackets=5)
    assert [plan.size(b) for b in range(5)] == [81, 34, 15, 8, 5]
    assert plan.rungs(0) == [1, 3, 9, 27, 81]
    assert plan.rungs(3) == [27, 81]
    assert plan.next_level(9) == 27
    assert plan.next_level(81) is None
    weights = plan.weights()
    assert weights[0] == pytest.approx(81 / 143)
    assert sum(weights) == pytest.approx(1.0)


def test_bracket_count_is_checked() -> None:
    with pytest.raises(UsageError, match=r"brackets must be an integer in 1\.\.5"):
        BracketPlan(min_resource=1, max_resource=81, eta=3, brackets=6)


def _scheduler(cls: type, **options: Any) -> Any:
    bench = CrossingCurves(dim=2, max_resource=81)
    searcher = SeededRandomSearcher(bench.space(), metric="loss", mode="min", seed=0)
    return cls(searcher=searcher, metric="loss", mode="min", max_resource=81, seed=0, **options)


def _run(sched: Any, trial: TrialRecord, values: dict[int, float], end: TrialState) -> list[Decision]:
    sched.on_trial_start(trial)
    decisions = []
    for step, value in values.items():
        report = Report(trial.trial_id, step, {"loss": value}, time=float(step))
        trial.reports.append(report)
        decisions.append(sched.on_report(trial, report).decision)
    trial.state = end
    sched.on_trial_end(trial)
    return decisions


def test_promotions_in_order() -> None:
    """9 trials at rung 1: the best 3 (floor(9/3)) are promoted to 3, best first; of those, the
    best one (floor(3/3)) goes on to 9."""
    sched = _scheduler(PromotionASHAScheduler)
    values = [0.9, 0.2, 0.8, 0.1, 0.7, 0.6, 0.3, 0.5, 0.4]
    trials = {}
    for tid in range(len(values)):  # all nine start before any reports
        suggestion = sched.suggest(tid, allow_new=True)
        assert isinstance(suggestion, StartTrial) and suggestion.resource == 1
        trials[tid] = TrialRecord(tid, suggestion.config, TrialState.RUNNING, resource=1)
        sched.on_trial_start(trials[tid])
    for tid, value in enumerate(values):
        assert _run(sched, trials[tid], {1: value}, TrialState.PAUSED) == [Decision.PAUSE]
    promoted = []
    for _ in range(3):
        suggestion = sched.suggest(99, allow_new=False)
        assert isinstance(suggestion, ResumeTrial) and suggestion.resource == 3
        promoted.append(suggestion.trial_id)
        trial = trials[suggestion.trial_id]
        trial.resource = 3
        loss = {3: 0.05, 1: 0.15, 6: 0.02}[suggestion.trial_id]
        _run(sched, trial, {2: loss + 0.01, 3: loss}, TrialState.PAUSED)
    assert promoted == [3, 1, 6]  # values 0.1, 0.2, 0.3 at rung 1
    suggestion = sched.suggest(99, allow_new=False)
    assert suggestion == ResumeTrial(trial_id=6, resource=9, reason=suggestion.reason)
    assert "rung 9" in suggestion.reason


def test_asynchronous_promotion_as_soon_as_in_top_third() -> None:
    sched = _scheduler(PromotionASHAScheduler)
    for tid, value in enumerate([0.9, 0.2, 0.8]):
        suggestion = sched.suggest(tid, allow_new=True)
        assert isinstance(suggestion, StartTrial)
        _run(sched, TrialRecord(tid, suggestion.config, TrialState.RUNNING, resource=1),
             {1: value}, TrialState.PAUSED)
    suggestion = sched.suggest(3, allow_new=True)
    assert isinstance(suggestion, ResumeTrial) and (suggestion.trial_id, suggestion.resource) == (1, 3)


def test_no_promotion_before_enough_trials() -> None:
    sched = _scheduler(PromotionASHAScheduler)
    for tid, value in enumerate([0.5, 0.1]):
        suggestion = sched.suggest(tid, allow_new=True)
        assert isinstance(suggestion, StartTrial)
        _run(sched, TrialRecord(tid, suggestion.config, TrialState.RUNNING, resource=1),
             {1: value}, TrialState.PAUSED)
    assert sched.suggest(2, allow_new=False) is None  # floor(2/3) = 0 while more may arrive
    assert isinstance(sched.suggest(2, allow_new=True), StartTrial)


def test_after_the_last_configuration_the_best_of_each_rung_moves_on() -> None:
    """Two trials at rung 1 and no more to come: max(1, floor(2/3)) = 1 is promoted, and the
    other is stopped once nothing can change the rung any more."""
    sched = _scheduler(PromotionASHAScheduler)
    trials = {}
    for tid, value in enumerate([0.5, 0.1]):
        suggestion = sched.suggest(tid, allow_new=True)
        assert isinstance(suggestion, StartTrial)
        trials[tid] = TrialRecord(tid, suggestion.config, TrialState.RUNNING, resource=1)
        _run(sched, trials[tid], {1: value}, TrialState.PAUSED)
    sched.no_more_arrivals()
    suggestion = sched.suggest(2, allow_new=False)
    assert isinstance(suggestion, ResumeTrial) and (suggestion.trial_id, suggestion.resource) == (1, 3)
    trials[1].resource = 3
    sched.on_trial_start(trials[1])
    assert sched.retire() == []  # trial 1 runs in that bracket: nothing is final yet
    _run(sched, trials[1], {3: 0.05}, TrialState.PAUSED)
    assert sched.retire() == []  # trial 1 is promotable again (to 9)
    assert sched.suggest(2, allow_new=False) == ResumeTrial(1, 9, reason=sched.suggest(2, allow_new=False).reason)  # type: ignore[union-attr]
    trials[1].resource = 9
    sched.on_trial_start(trials[1])
    _run(sched, trials[1], {9: 0.01}, TrialState.PAUSED)
    trials[1].resource = 81
    sched.on_trial_start(trials[1])
    _run(sched, trials[1], {27: 0.01, 81: 0.0}, TrialState.COMPLETED)
    assert sched.suggest(2, allow_new=False) is None
    retired = sched.retire()
    assert [tid for tid, _ in retired] == [0] and "top 1 of 2 at rung 1" in retired[0][1]


def test_asha_stops_outside_top_third() -> None:
    sched = _scheduler(ASHAScheduler)
    # Rung 1: 0.5 (alone: continue), 0.4 (best: continue), 0.9 (not in top ceil(3/3)=1: stop).
    outcomes = []
    for tid, value in enumerate([0.5, 0.4, 0.9, 0.45]):
        trial = TrialRecord(tid, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=81)
        sched.on_trial_start(trial)
        report = Report(tid, 1, {"loss": value}, time=1.0)
        outcomes.append(sched.on_report(trial, report).decision)
    assert outcomes == [Decision.CONTINUE, Decision.CONTINUE, Decision.STOP, Decision.CONTINUE]
    # a rung is reached at the first report at or above it: step 2 meets rung 1 and stops
    trial = TrialRecord(9, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=81)
    sched.on_trial_start(trial)
    assert sched.on_report(trial, Report(9, 2, {"loss": 99.0}, 2.0)).decision is Decision.STOP
    # a good value at step 2 continues, and step 3 reaches no new rung whatever its value
    good = TrialRecord(10, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=81)
    sched.on_trial_start(good)
    assert sched.on_report(good, Report(10, 2, {"loss": 0.1}, 2.0)).decision is Decision.CONTINUE
    assert sched.on_report(good, Report(10, 3, {"loss": 99.0}, 3.0)).decision is Decision.CONTINUE


def test_synchronous_hyperband_waits_for_the_rung() -> None:
    """max 9, eta 3, one bracket: 9 configurations at 1, then the best 3 at 3, then 1 at 9."""
    bench = CrossingCurves(dim=2, max_resource=9)
    searcher = SeededRandomSearcher(bench.space(), metric="loss", mode="min", seed=0)
    sched = HyperbandScheduler(searcher=searcher, metric="loss", mode="min", max_resource=9)
    trials = {}
    for tid in range(9):
        suggestion = sched.suggest(tid, allow_new=True)
        assert isinstance(suggestion, StartTrial) and suggestion.resource == 1
        trials[tid] = TrialRecord(tid, suggestion.config, TrialState.RUNNING, resource=1)
        sched.on_trial_start(trials[tid])
    # rung 0 is full: the 10th suggestion opens a second bracket run
    tenth = sched.suggest(9, allow_new=True)
    assert isinstance(tenth, StartTrial) and "bracket run 1" in tenth.reason
    for tid in range(8):
        _run(sched, trials[tid], {1: 1.0 - tid / 10}, TrialState.PAUSED)
    assert not isinstance(sched.suggest(10, allow_new=False), ResumeTrial)  # trial 8 still runs
    _run(sched, trials[8], {1: 0.0}, TrialState.PAUSED)
    resumed = []
    for _ in range(3):
        suggestion = sched.suggest(10, allow_new=False)
        assert isinstance(suggestion, ResumeTrial) and suggestion.resource == 3
        resumed.append(suggestion.trial_id)
        trials[suggestion.trial_id].resource = 3
        sched.on_trial_start(trials[suggestion.trial_id])
    assert sorted(resumed) == [6, 7, 8]
    for tid, loss in [(6, 0.3), (7, 0.1), (8, 0.2)]:
        _run(sched, trials[tid], {3: loss}, TrialState.PAUSED)
    final = sched.suggest(10, allow_new=False)
    assert isinstance(final, ResumeTrial) and (final.trial_id, final.resource) == (7, 9)
