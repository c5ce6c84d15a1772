"""The contract every scheduler keeps, run by every scheduler the factory knows.

Decisions are valid (a new configuration inside the budget, or a paused trial resumed to a larger
one), budgets are respected (trial count, time, max resource), a seed makes a study repeat
exactly, and a scheduler rebuilt from the store with ``restore`` makes the same next decision.
"""

from __future__ import annotations

from typing import Any

import pytest

from hpsweep.bench.functions import CrossingCurves
from hpsweep.schedulers import SCHEDULERS, Scheduler
from hpsweep.trial import ResumeTrial, StartTrial, Suggestion, TrialRecord, TrialState
from tests.schedulers.helpers import SCHEDULER_OPTIONS, build, simulate

NAMES = sorted(SCHEDULER_OPTIONS)
PAUSING = {"promotion", "hyperband", "bohb", "dyhpo", "pbt"}


def test_every_factory_name_is_covered() -> None:
    assert set(SCHEDULERS) - {"hyperband-promotion"} == set(NAMES)


class _Checked:
    """Wraps ``suggest`` to check each decision against the scheduler's own view."""

    def __init__(self, scheduler: Scheduler, bench: CrossingCurves) -> None:
        self.scheduler = scheduler
        self.bench = bench
        self.paused: dict[int, int] = {}  # trial -> last step, as the tuner reports them
        self.decisions: list[Suggestion] = []
        inner = scheduler.suggest

        def suggest(trial_id: int, *, allow_new: bool) -> Suggestion | None:
            out = inner(trial_id, allow_new=allow_new)
            if out is not None:
                self.check(out, allow_new)
            return out

        scheduler.suggest = suggest  # type: ignore[method-assign]
        start = scheduler.on_trial_end

        def on_trial_end(trial: TrialRecord) -> None:
            steps = [r.step for r in trial.reports if r.step is not None]
            if trial.state is TrialState.PAUSED:
                self.paused[trial.trial_id] = max(steps, default=0)
            else:
                self.paused.pop(trial.trial_id, None)
            start(trial)

        scheduler.on_trial_end = on_trial_end  # type: ignore[method-assign]

    def check(self, out: Suggestion, allow_new: bool) -> None:
        self.decisions.append(out)
        # FIFOScheduler lives in the contract module (base.py) and gives no reason.
        assert out.reason or self.scheduler.__class__.__name__ == "FIFOScheduler", \
            "every decision carries a reason for the decision log"
        if isinstance(out, StartTrial):
            assert allow_new, "a new trial was started although the trial budget was spent"
            assert set(out.config) == {p.name for p in self.bench.params}
            for p in self.bench.params:
                assert p.contains(out.config[p.name]), (p.name, out.config[p.name])
            assert out.resource is None or 1 <= out.resource <= self.bench.max_resource
        else:
            assert out.trial_id in self.paused, "only paused trials can be resumed"
            assert self.paused[out.trial_id] < out.resource <= self.bench.max_resource
            if out.config is not None:
                assert all(p.contains(out.config[p.name]) for p in self.bench.params
                           if p.name in out.config)
            if out.checkpoint_from is not None:
                assert out.checkpoint_from != out.trial_id


def _fingerprint(trials: list[TrialRecord]) -> list[Any]:
    return [(t.trial_id, t.state, t.runs, sorted(t.config.items()),
             [(r.step, r.metrics["loss"], r.time) for r in t.reports]) for t in trials]


@pytest.mark.parametrize("name", NAMES)
def test_decisions_valid_and_budgets_respected(name: str) -> None:
    bench = CrossingCurves(dim=3, max_resource=27)
    scheduler = build(name, bench, seed=1)
    checked = _Checked(scheduler, bench)
    trials, _ = simulate(scheduler, bench, num_trials=25, time_budget=None, workers=3)
    assert 0 < len(trials) <= 25
    assert checked.decisions
    for t in trials:
        steps = [r.step for r in t.reports]
        assert steps == sorted(set(steps)), f"trial {t.trial_id} repeated or skipped back: {steps}"
        assert all(1 <= s <= bench.max_resource for s in steps)
        assert steps[0] == 1 or (name == "pbt" and t.runs > 1)
    if name in PAUSING:
        assert any(isinstance(d, ResumeTrial) for d in checked.decisions)
        assert any(t.runs > 1 for t in trials)
    else:
        assert all(t.runs == 1 for t in trials)
    if name in ("asha", "median"):
        assert any(t.state is TrialState.STOPPED for t in trials)


@pytest.mark.parametrize("name", NAMES)
def test_time_budget_respected(name: str) -> None:
    bench = CrossingCurves(dim=3, max_resource=27)
    trials, _ = simulate(build(name, bench, seed=2), bench, num_trials=None, time_budget=150.0)
    assert trials
    for t in trials:
        assert t.created <= 150.0
        assert t.state is not TrialState.RUNNING


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_under_a_seed(name: str) -> None:
    bench = CrossingCurves(dim=3, max_resource=27)
    first, _ = simulate(build(name, bench, seed=3), bench, num_trials=20)
    second, _ = simulate(build(name, bench, seed=3), bench, num_trials=20)
    assert _fingerprint(first) == _fingerprint(second)


@pytest.mark.parametrize("name", NAMES)
def test_restore_gives_the_same_next_decision(name: str) -> None:
    bench = CrossingCurves(dim=3, max_resource=27)
    live = build(name, bench, seed=4)
    _, store = simulate(live, bench, num_trials=None, time_budget=120.0)
    trials = store.trials()
    assert any(t.reports for t in trials)
    rebuilt = build(name, bench, seed=4)
    rebuilt.restore(trials)
    next_id = store.next_trial_id()
    for allow_new in (False, True):
        assert live.suggest(next_id, allow_new=allow_new) == rebuilt.suggest(
            next_id, allow_new=allow_new)
