"""DyHPO's choice between resuming a paused trial and starting a new one, on a crafted surrogate."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from hpsweep.bench.functions import CrossingCurves
from hpsweep.errors import UsageError
from hpsweep.schedulers import DyHPOScheduler
from hpsweep.schedulers._surrogate import CurveSurrogate, expected_improvement
from hpsweep.trial import Report, ResumeTrial, StartTrial, TrialRecord, TrialState
from tests.schedulers.helpers import SeededRandomSearcher


class CraftedSurrogate:
    """Predicts ``mu[i]`` for the i-th candidate row (paused trials first, then new ones)."""

    def __init__(self, mu_of: Any) -> None:
        self.mu_of = mu_of
        self.tuned_key: int | None = None
        self.rows: np.ndarray | None = None

    def tune(self, key: int, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        self.tuned_key = key

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        assert len(x) == len(y) > 0

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.rows = x
        return np.asarray(self.mu_of(len(x)), dtype=float), np.full(len(x), 0.05)


def _dyhpo(**options: Any) -> DyHPOScheduler:
    bench = CrossingCurves(dim=2, max_resource=10)
    searcher = SeededRandomSearcher(bench.space(), metric="loss", mode="min", seed=0)
    opts = {"probability_sh": 0.0, "n_init": 2, "n_candidates": 16, **options}
    return DyHPOScheduler(searcher=searcher, metric="loss", mode="min", max_resource=10, seed=0,
                          **opts)


def _paused_population(sched: DyHPOScheduler, losses: list[float]) -> None:
    for tid, loss in enumerate(losses):
        trial = TrialRecord(tid, {"x0": 0.1 * (tid + 1), "x1": 0.5}, TrialState.RUNNING, resource=1)
        sched.on_trial_start(trial)
        report = Report(tid, 1, {"loss": loss}, time=float(tid))
        trial.reports.append(report)
        sched.on_report(trial, report)
        trial.state = TrialState.PAUSED
        sched.on_trial_end(trial)


def test_resumes_the_paused_trial_the_surrogate_favours() -> None:
    sched = _dyhpo()
    _paused_population(sched, [0.5, 0.6, 0.7])
    # trial 1 is predicted to reach 0.1 at its next rung; everything else 0.9
    sched.surrogate = CraftedSurrogate(lambda n: [0.9, 0.1, 0.9] + [0.9] * (n - 3))  # type: ignore[assignment]
    out = sched.suggest(3, allow_new=True)
    assert isinstance(out, ResumeTrial)
    assert (out.trial_id, out.resource) == (1, 2)  # linear rungs: 1 -> 2
    assert "DyHPO" in out.reason
    rows = sched.surrogate.rows
    assert rows is not None and len(rows) == 3 + 16
    assert np.allclose(rows[:3, -1], np.log(2) / np.log(10))  # paused: scored at the next rung
    assert np.allclose(rows[3:, -1], 0.0)  # new: scored at the minimum resource


def test_starts_the_new_configuration_the_surrogate_favours() -> None:
    sched = _dyhpo()
    _paused_population(sched, [0.5, 0.6, 0.7])
    sched.surrogate = CraftedSurrogate(  # type: ignore[assignment]
        lambda n: [0.9, 0.9, 0.9] + [0.9] * 5 + [0.0] + [0.9] * (n - 9))
    out = sched.suggest(3, allow_new=True)
    assert isinstance(out, StartTrial) and out.resource == 1
    winner = sched.surrogate.rows[8, :-1]  # type: ignore[union-attr]
    assert out.config == sched.encoder.decode(winner)
    assert all(0.0 <= v <= 1.0 for v in out.config.values())


def test_after_the_last_configuration_only_halving_survivors_move_on() -> None:
    """No more arrivals: the model picks among the paused trials successive halving would keep
    (here the top max(1, floor(3/3)) = 1 at step 1), not among all of them; the others are
    stopped once nothing runs and no survivor is left."""
    sched = _dyhpo()
    _paused_population(sched, [0.5, 0.6, 0.7])
    sched.surrogate = CraftedSurrogate(lambda n: [0.9, 0.9, 0.2][:n])  # type: ignore[assignment]
    assert isinstance(sched.suggest(3, allow_new=False), ResumeTrial)  # before: any paused trial
    sched.no_more_arrivals()
    out = sched.suggest(3, allow_new=False)
    assert isinstance(out, ResumeTrial) and out.trial_id == 0
    assert sched.retire() == []  # trial 0 may still move on
    sched.on_trial_end(TrialRecord(0, sched._trials[0].config, TrialState.COMPLETED))
    retired = sched.retire()
    assert [tid for tid, _ in retired] == [1, 2]
    assert all("after the last configuration" in why for _, why in retired)


def test_successive_halving_rule_first_with_probability_one() -> None:
    sched = _dyhpo(probability_sh=1.0)
    _paused_population(sched, [0.5, 0.2, 0.7])
    sched.surrogate = CraftedSurrogate(lambda n: [0.0] * n)  # type: ignore[assignment]
    out = sched.suggest(3, allow_new=True)
    assert isinstance(out, ResumeTrial) and out.trial_id == 1 and "successive halving" in out.reason
    assert sched.surrogate.rows is None  # the model was not asked


def test_random_start_until_n_init_trials_reported() -> None:
    sched = _dyhpo(n_init=5)
    _paused_population(sched, [0.5, 0.6])
    out = sched.suggest(2, allow_new=True)
    assert isinstance(out, StartTrial) and "initial random" in out.reason


def test_invalid_options_name_the_parameter() -> None:
    with pytest.raises(UsageError, match="probability_sh"):
        _dyhpo(probability_sh=1.5)
    with pytest.raises(UsageError, match="rung_increment"):
        _dyhpo(rung_increment=0)


def test_expected_improvement_prefers_low_mean_and_high_spread() -> None:
    ei = expected_improvement(np.array([0.0, 1.0, 1.0]), np.array([0.1, 0.1, 1.0]),
                              np.array([0.5, 0.5, 0.5]))
    assert ei[0] > ei[2] > ei[1] >= 0.0


def test_surrogate_interpolates_a_smooth_function() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((60, 3))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2
    model = CurveSurrogate(dim=3)
    model.tune(60, x, y, rng)
    model.fit(x, y)
    q = rng.random((20, 3))
    mu, sd = model.predict(q)
    assert np.abs(mu - (np.sin(3 * q[:, 0]) + q[:, 1] ** 2)).max() < 0.15
    assert (sd > 0).all()
    assert model.predict(x[:5])[1].max() < sd.mean()  # less uncertain where it has data


def test_decision_time_with_500_trials() -> None:
    sched = _dyhpo(n_candidates=128, rung_increment=1)
    rng = np.random.default_rng(1)
    for tid in range(500):
        config = {"x0": float(rng.random()), "x1": float(rng.random())}
        trial = TrialRecord(tid, config, TrialState.RUNNING, resource=1)
        sched.on_trial_start(trial)
        for step in range(1, int(rng.integers(1, 6)) + 1):
            report = Report(tid, step, {"loss": float(rng.random()) / step}, time=tid + step / 10)
            trial.reports.append(report)
            sched.on_report(trial, report)
        trial.state = TrialState.PAUSED
        sched.on_trial_end(trial)
    sched.suggest(500, allow_new=True)  # tunes the kernel once
    start = time.perf_counter()
    for _ in range(5):
        assert sched.suggest(500, allow_new=True) is not None
    per_decision = (time.perf_counter() - start) / 5
    assert per_decision < 0.25  # the benchmark reports the figure; this only guards regressions


def test_incumbent_is_the_best_value_at_the_candidates_budget() -> None:
    sched = _dyhpo()
    _paused_population(sched, [0.5, 0.6, 0.7])  # three trials at rung 1
    trial = TrialRecord(9, {"x0": 0.9, "x1": 0.9}, TrialState.RUNNING, resource=3)
    sched.on_trial_start(trial)
    for step, loss in ((1, 0.8), (2, 0.4), (3, 0.1)):
        report = Report(9, step, {"loss": loss}, time=10.0 + step)
        trial.reports.append(report)
        sched.on_report(trial, report)
    assert sched.incumbent_rule == "any"  # the default: the best value at any budget
    assert list(sched._incumbents([1, 2, 5], 0.0)) == [0.1, 0.1, 0.1]
    sched.incumbent_rule = "budget"
    # per budget: rung 1 -> 0.5, 2 -> 0.4, 3 -> 0.1; rung 5 has none: the largest below (3)
    assert list(sched._incumbents([1, 2, 3, 5], 0.0)) == [0.5, 0.4, 0.1, 0.1]
    sched.incumbent_rule = "above"  # the best at this budget or a larger one
    assert list(sched._incumbents([1, 2, 3, 5], 0.0)) == [0.1, 0.1, 0.1, 0.1]
    late = Report(9, 4, {"loss": 0.3}, time=20.0)  # a worse value at a larger budget
    trial.reports.append(late)
    sched.on_report(trial, late)
    assert list(sched._incumbents([4, 5], 0.0)) == [0.3, 0.3]


def test_scored_paused_trials_are_bounded_and_the_best_of_their_rung() -> None:
    sched = _dyhpo(n_candidates=4)
    _paused_population(sched, [0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4])
    kept = sched._candidates(sched._resumable())
    assert sorted(t.trial_id for t in kept) == [1, 3, 5, 7]  # the four lowest losses


class _CheckedHalving(DyHPOScheduler):
    """DyHPO whose successive-halving choice is checked against a walk down each level's full
    (value, trial id) ranking."""

    checked = 0

    def _successive_halving(self, paused: Any) -> ResumeTrial | None:
        chosen = super()._successive_halving(paused)
        steps, _ = self._last_of(paused)
        tids = [t.trial_id for t in paused]
        expected = None
        for level in sorted(set(steps.tolist()), reverse=True):
            ranked = sorted((v, tid) for tid, v in self._at_level.get(level, {}).items())
            waiting = {tid for tid, s in zip(tids, steps.tolist()) if s == level}
            found = [tid for _, tid in ranked[: len(ranked) // self.reduction_factor] if tid in waiting]
            if found:
                expected = (found[0], self.next_level(level))
                break
        assert (chosen.trial_id, chosen.resource) == expected if chosen else expected is None
        type(self).checked += 1
        return chosen


def test_successive_halving_promotes_the_first_waiting_trial_of_the_highest_level() -> None:
    from tests.schedulers.helpers import simulate

    bench = CrossingCurves(dim=2, max_resource=9)
    searcher = SeededRandomSearcher(bench.space(), metric="loss", mode="min", seed=2)
    scheduler = _CheckedHalving(searcher=searcher, metric="loss", mode="min", seed=2,
                                max_resource=9, probability_sh=1.0, n_candidates=8, n_init=3)
    trials, _ = simulate(scheduler, bench, workers=4, num_trials=60, seed=2)
    assert _CheckedHalving.checked > 20 and all(t.state.is_final for t in trials)
