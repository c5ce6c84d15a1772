"""How a study ends, for every pausing scheduler at its defaults, in simulated time.

``--num-trials N`` counts configurations started; the study then runs until every trial is final.
For N in {2, 4, 18, 26} (not only powers of eta) and reports every epoch or every second epoch:
no trial is left paused or running, at least one trial reaches the full budget, every stopped
trial says why, and the resource spent is below what random search over the same N would spend.
"""

from __future__ import annotations

import pytest

from hpsweep.bench.functions import CrossingCurves
from hpsweep.executors.simulated import SimulatedExecutor, SimulatedLauncher
from hpsweep.schedulers import make_scheduler
from hpsweep.search.basic import RandomSearcher
from hpsweep.store import Store
from hpsweep.trial import TrialState
from hpsweep.tuner import Tuner
from hpsweep.tuner._judge import reached_step
from hpsweep.tuner.budget import Budget

PAUSING = ["promotion", "hyperband-promotion", "hyperband", "bohb", "dyhpo", "pbt"]
MAX = 27


def _study(name: str, n: int, every: int, *, workers: int = 3, seed: int = 0):
    bench = CrossingCurves(dim=2, max_resource=MAX)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=seed)
    scheduler = make_scheduler(name, searcher=searcher, metric=bench.metric, mode=bench.mode,
                               max_resource=MAX, seed=seed)  # every other option at its default
    executor = SimulatedExecutor(bench, n_workers=workers, seed=seed, report_every=every)
    store = Store.create(None, name="t", spec={})
    tuner = Tuner(store=store, scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), budget=Budget(num_trials=n), seed=seed)
    return tuner.run(), tuner


@pytest.mark.parametrize("every", [1, 2])
@pytest.mark.parametrize("n", [2, 4, 18, 26])
@pytest.mark.parametrize("name", PAUSING)
def test_a_study_ends_with_every_trial_final(name: str, n: int, every: int) -> None:
    result, tuner = _study(name, n, every)
    trials = result.trials
    assert result.stopped_reason == "all trials done"
    assert len(trials) == n  # N configurations started, no more
    assert all(t.state in (TrialState.COMPLETED, TrialState.STOPPED) for t in trials), \
        [(t.trial_id, t.state.value) for t in trials]
    at_max = [t for t in trials if t.state is TrialState.COMPLETED and reached_step(t) == MAX]
    assert at_max, "no trial reached the full budget"
    assert all(t.error for t in trials if t.state is TrialState.STOPPED)
    spent = sum(reached_step(t) or 0 for t in trials)
    assert spent == tuner.resource_spent
    if name in ("pbt", "hyperband-promotion"):
        # PBT's population trains to the end, and a trial that asynchronous Hyperband draws into
        # its last bracket starts at the full budget: never more than random search spends.
        assert spent <= n * MAX
    else:
        assert spent < n * MAX


@pytest.mark.parametrize("name", ["hyperband", "promotion", "dyhpo"])
def test_resource_budget_ends_the_study(name: str) -> None:
    bench = CrossingCurves(dim=2, max_resource=MAX)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=3)
    scheduler = make_scheduler(name, searcher=searcher, metric=bench.metric, mode=bench.mode,
                               max_resource=MAX, seed=3)
    executor = SimulatedExecutor(bench, n_workers=2, seed=3)
    tuner = Tuner(store=Store.create(None, name="t", spec={}), scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), budget=Budget(resource=60), seed=3)
    result = tuner.run()
    assert result.stopped_reason.startswith("resource budget spent")
    # stopped as soon as the sum of steps reached 60: at most one step per running trial more
    assert 60 <= tuner.resource_spent <= 60 + 2
    assert all(t.state.is_final for t in result.trials)
    assert all(t.error for t in result.trials if t.state is TrialState.STOPPED)


def test_time_budget_stops_running_trials_for_good() -> None:
    bench = CrossingCurves(dim=2, max_resource=MAX)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=4)
    scheduler = make_scheduler("hyperband", searcher=searcher, metric=bench.metric, mode=bench.mode,
                               max_resource=MAX, seed=4)
    executor = SimulatedExecutor(bench, n_workers=2, seed=4)
    tuner = Tuner(store=Store.create(None, name="t", spec={}), scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), budget=Budget(time=30.0), seed=4)
    result = tuner.run()
    assert result.stopped_reason.startswith("time budget spent")
    assert all(t.state in (TrialState.COMPLETED, TrialState.STOPPED) for t in result.trials)
    assert any(t.error and t.error.startswith("time budget spent") for t in result.trials)


def test_a_scheduler_that_forgets_its_paused_trials_cannot_leave_them_paused() -> None:
    """A pausing scheduler that never resumes nor retires: the tuner still ends the study with
    every trial final, and the reason says what happened."""
    from hpsweep.schedulers._common import TrackingScheduler
    from hpsweep.schedulers.base import new_configuration

    class PauseOnce(TrackingScheduler):
        name = "pause-once"
        pauses = True

        def rung_levels(self, trial_id: int) -> list[int]:
            return [3]

        def suggest(self, trial_id: int, *, allow_new: bool):
            return new_configuration(self.searcher, trial_id, 3) if allow_new else None

        def _decide(self, info, step, value):
            return self._pause_or_continue(info, step, "toy")

    bench = CrossingCurves(dim=2, max_resource=MAX)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=0)
    scheduler = PauseOnce(searcher=searcher, metric=bench.metric, mode=bench.mode, max_resource=MAX)
    executor = SimulatedExecutor(bench, n_workers=2, seed=0)
    tuner = Tuner(store=Store.create(None, name="t", spec={}), scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), budget=Budget(num_trials=3))
    result = tuner.run()
    assert [t.state for t in result.trials] == [TrialState.STOPPED] * 3
    assert all(t.error == "the study ended with it paused" for t in result.trials)
