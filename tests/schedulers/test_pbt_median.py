"""PBT's exploit/explore step and median stopping, on hand-made histories."""

from __future__ import annotations

import numpy as np

from hpsweep.bench.functions import CrossingCurves
from hpsweep.schedulers import MedianStoppingScheduler, PBTScheduler
from hpsweep.schedulers.pbt import perturb_config
from hpsweep.trial import Decision, Report, ResumeTrial, StartTrial, TrialRecord, TrialState
from tests.schedulers.helpers import SeededRandomSearcher

BENCH = CrossingCurves(dim=2, max_resource=12)


def _searcher() -> SeededRandomSearcher:
    return SeededRandomSearcher(BENCH.space(), metric="loss", mode="min", seed=0)


def _report(sched: object, trial: TrialRecord, step: int, loss: float) -> Decision:
    report = Report(trial.trial_id, step, {"loss": loss}, time=float(step))
    trial.reports.append(report)
    return sched.on_report(trial, report).decision  # type: ignore[attr-defined]


def test_pbt_exploits_a_top_trial_and_perturbs_its_config() -> None:
    sched = PBTScheduler(searcher=_searcher(), metric="loss", mode="min", max_resource=12,
                         perturbation_interval=4, population_size=5, seed=0)
    trials = []
    for tid in range(5):
        out = sched.suggest(tid, allow_new=True)
        assert isinstance(out, StartTrial) and out.resource == 4
        trial = TrialRecord(tid, out.config, TrialState.RUNNING, resource=4)
        sched.on_trial_start(trial)
        assert _report(sched, trial, 4, loss=[0.5, 0.1, 0.4, 0.3, 0.9][tid]) is Decision.PAUSE
        trial.state = TrialState.PAUSED
        sched.on_trial_end(trial)
        trials.append(trial)
    assert sched.suggest(5, allow_new=True) == ResumeTrial(  # population full: continue trial 0
        trial_id=0, resource=8, reason=sched.suggest(5, allow_new=True).reason)  # type: ignore[union-attr]
    # trial 4 is the worst: it takes the best trial's checkpoint and a perturbed config
    trials[0].state = TrialState.RUNNING
    sched.on_trial_start(trials[0])
    for tid in (2, 3):
        trials[tid].state = TrialState.RUNNING
        sched.on_trial_start(trials[tid])
    out = sched.suggest(5, allow_new=True)
    assert isinstance(out, ResumeTrial) and out.trial_id == 1  # not bottom: continues
    trials[1].state = TrialState.RUNNING
    sched.on_trial_start(trials[1])
    out = sched.suggest(5, allow_new=True)
    # trial 4 is the worst, but the best (trial 1) is running: its checkpoint is not copied
    assert isinstance(out, ResumeTrial) and out.trial_id == 4 and out.checkpoint_from is None
    assert "free to copy" in out.reason
    # once trial 1 paused at 8, trial 4 copies it and goes on to the next level after 8
    assert _report(sched, trials[1], 8, loss=0.05) is Decision.PAUSE
    trials[1].state = TrialState.PAUSED
    sched.on_trial_end(trials[1])
    out = sched.suggest(5, allow_new=True)
    assert isinstance(out, ResumeTrial) and out.trial_id == 4
    assert out.checkpoint_from == 1 and out.resource == 12
    assert out.config is not None and out.config != trials[1].config
    assert all(0.0 <= v <= 1.0 for v in out.config.values())


def test_perturb_stays_in_bounds() -> None:
    params = list(BENCH.params)
    rng = np.random.default_rng(0)
    config = {"x0": 1.0, "x1": 0.0}
    for _ in range(50):
        out = perturb_config(config, params, rng, resample_probability=0.3)
        assert 0.0 <= out["x0"] <= 1.0 and 0.0 <= out["x1"] <= 1.0


def test_median_stopping() -> None:
    sched = MedianStoppingScheduler(searcher=_searcher(), metric="loss", mode="min",
                                    max_resource=12, min_samples=3, seed=0)
    for tid, loss in enumerate([0.2, 0.3, 0.4]):
        trial = TrialRecord(tid, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=12)
        sched.on_trial_start(trial)
        for step in (1, 2):
            assert _report(sched, trial, step, loss) is Decision.CONTINUE  # < 3 others yet
    good = TrialRecord(3, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=12)
    bad = TrialRecord(4, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=12)
    for trial in (good, bad):
        sched.on_trial_start(trial)
    assert _report(sched, good, 1, 0.25) is Decision.CONTINUE  # median of others is 0.3
    assert _report(sched, bad, 1, 0.35) is Decision.STOP  # others 0.2, 0.25, 0.3, 0.4 -> 0.275


def test_median_skips_trials_without_a_value_at_or_below_the_step() -> None:
    """A trial whose first report lies above the step has nothing to compare there (this used to
    crash the controller with min() of an empty sequence)."""
    sched = MedianStoppingScheduler(searcher=_searcher(), metric="loss", mode="min",
                                    max_resource=12, min_samples=1, seed=0)
    late = TrialRecord(0, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=12)
    sched.on_trial_start(late)
    assert _report(sched, late, 5, 0.1) is Decision.CONTINUE  # alone: no other trial
    early = TrialRecord(1, {"x0": 0.1, "x1": 0.1}, TrialState.RUNNING, resource=12)
    sched.on_trial_start(early)
    verdict = sched.on_report(early, Report(1, 2, {"loss": 0.9}, time=2.0))
    assert verdict.decision is Decision.CONTINUE and "only 0 other trials" in verdict.reason


def test_perturb_moves_away_from_a_bound_instead_of_clipping_to_it() -> None:
    params = list(BENCH.params)
    rng = np.random.default_rng(1)
    config = {"x0": 0.95, "x1": 0.05}
    for _ in range(50):
        out = perturb_config(config, params, rng, resample_probability=0.0)
        assert out["x0"] in (0.95 * 0.8,) and out["x1"] in (0.05 * 1.2, 0.05 * 0.8)
        assert 0.0 < out["x0"] < 1.0 and 0.0 < out["x1"] < 1.0
