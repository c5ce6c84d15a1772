"""A run cut short (its worker lost): run again in place, stopped by the scheduler's word, or
only marked, by the re-run policy the tuner consults the scheduler with."""

from __future__ import annotations

from typing import Any

import pytest

from hpsweep.executors.base import LaunchSpec
from hpsweep.executors.fake import FakeExecutor, FakeScript, FakeStep, SimClock
from hpsweep.schedulers.base import FIFOScheduler
from hpsweep.search.basic import RandomSearcher
from hpsweep.space import SearchSpace
from hpsweep.store import Store
from hpsweep.trial import Decision, TrialRecord, TrialState, Verdict
from hpsweep.tuner import Tuner
from hpsweep.tuner._reruns import Reruns


def _script(spec: LaunchSpec) -> FakeScript:
    return FakeScript(steps=tuple(FakeStep(at=i, step=i, metrics={"loss": 1.0 / i})
                                  for i in range(1, 4)), duration=3.5)


class _LoseFirstRun:
    """Loses the worker of trial 0 at its first report, once."""

    def __init__(self) -> None:
        self.done = False

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind == "report" and trial is not None and trial.trial_id == 0 and not self.done:
            self.done = True
            executor = tuner.executor
            assert isinstance(executor, FakeExecutor)
            worker = executor.worker_of(0)
            assert worker is not None
            assert executor.lose_worker(worker) == [0]


class _NoSecondChance(FIFOScheduler):
    name = "no-second-chance"

    def on_interrupted(self, trial: TrialRecord) -> Verdict:
        return Verdict(Decision.STOP, "runs that were cut short are not run again here")


def _run(scheduler_cls: type[FIFOScheduler], **tuner_args: Any) -> list[TrialRecord]:
    space = SearchSpace().add_float("x", 0.0, 1.0)
    searcher = RandomSearcher(space, metric="loss", mode="min", seed=1)
    scheduler = scheduler_cls(searcher=searcher, metric="loss", mode="min")
    store = Store.create(None, name="t", spec={})
    tuner = Tuner(store=store, scheduler=scheduler,
                  executor=FakeExecutor(program=_script, slots=1, clock=SimClock()),
                  num_trials=2, callbacks=[_LoseFirstRun()], **tuner_args)
    result = tuner.run()
    assert [t.trial_id for t in result.trials] == [0, 1], "a re-run takes no trial id"
    return result.trials


def test_a_lost_run_runs_again_in_place_by_default() -> None:
    first, second = _run(FIFOScheduler)
    assert first.state is TrialState.COMPLETED
    assert first.runs == 1, "the cut run does not count"
    assert [r.step for r in first.reports] == [1, 1, 2, 3]  # the cut run's report, then a new run
    assert second.state is TrialState.COMPLETED


def test_the_scheduler_can_refuse_a_rerun() -> None:
    first, second = _run(_NoSecondChance)
    assert first.state is TrialState.STOPPED
    assert first.error == "runs that were cut short are not run again here"
    assert [r.step for r in first.reports] == [1]
    assert second.state is TrialState.COMPLETED


def test_mark_only_records_the_lost_run() -> None:
    first, _ = _run(FIFOScheduler, on_interrupted="mark")
    assert first.state is TrialState.INTERRUPTED
    assert "lost" in (first.error or "")


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="on_interrupted"):
        Reruns("retry")  # type: ignore[arg-type]
