"""SearchEngine: seed 004's search gate on a real model, failures, timeouts, parallel processes,
pruning, resume, and the study the command line reads."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

from hpsweep.api import SearchConfig, SearchEngine, TrialHandle, TrialPruned
from hpsweep.errors import StudyError, UsageError
from hpsweep.space import SearchSpace
from hpsweep.trial import ErrorKind, TrialState


def config(tmp: Path, **kw: Any) -> SearchConfig:
    base: dict[str, Any] = {"study_dir": str(tmp), "study_name": "s", "seed": 0,
                            "enable_pruning": False, "timeout_per_trial": 60}
    base.update(kw)
    return SearchConfig(**base)


# -- seed 004's gate: random search on a small real model -------------------------------------

def train_classifier(params: dict[str, Any]) -> dict[str, float]:
    """Train a real scikit-learn model; the search maximises validation accuracy."""
    x, y = make_classification(n_samples=600, n_features=20, n_informative=6, random_state=0)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.3, random_state=0)
    model = SGDClassifier(alpha=params["alpha"], eta0=params["eta0"], learning_rate="constant",
                          penalty=params["penalty"], max_iter=params["epochs"], tol=None,
                          random_state=0)
    model.fit(x_tr, y_tr)
    return {"val_accuracy": float(model.score(x_va, y_va)),
            "train_accuracy": float(model.score(x_tr, y_tr))}


def classifier_space() -> SearchSpace:
    return (SearchSpace()
            .add_float("alpha", 1e-6, 10.0, log=True)
            .add_float("eta0", 1e-5, 1.0, log=True)
            .add_categorical("penalty", ["l2", "l1"])
            .add_int("epochs", 2, 20))


def test_random_search_of_ten_trials_beats_its_first_trial(tmp_path: Path) -> None:
    engine = SearchEngine(config(tmp_path, strategy="random", n_trials=10,
                                 metric="val_accuracy", direction="maximize", seed=1))
    result = engine.search(train_classifier, classifier_space())
    assert len(result.trials) == 10 and result.n_completed == 10
    first = result.trials[0].value("val_accuracy")
    assert first is not None
    assert engine.best_value() > first
    best = engine.best_params()
    assert classifier_space().contains(best)
    assert train_classifier(best)["val_accuracy"] == pytest.approx(engine.best_value())
    # Every metric of the dict is stored, not only the objective.
    assert all("train_accuracy" in t.last_metrics for t in result.trials)


# -- failures --------------------------------------------------------------------------------

def flaky(params: dict[str, Any]) -> float:
    x = params["x"]
    if x < 0.3:
        return math.nan
    if x > 0.7:
        raise RuntimeError(f"diverged at x={x:.2f}")
    return (x - 0.5) ** 2


def test_nan_and_exceptions_are_recorded_and_never_best(tmp_path: Path) -> None:
    engine = SearchEngine(config(tmp_path, strategy="grid", n_trials=5, metric="loss",
                                 direction="minimize"))
    space = SearchSpace().add_categorical("x", [0.1, 0.4, 0.5, 0.6, 0.9])
    result = engine.search(flaky, space)
    by_x = {t.config["x"]: t for t in result.trials}
    assert by_x[0.1].state is TrialState.FAILED and by_x[0.1].error_kind is ErrorKind.NAN
    assert by_x[0.9].state is TrialState.FAILED and by_x[0.9].error_kind is ErrorKind.CRASH
    assert "diverged at x=0.90" in (by_x[0.9].error or "")
    assert engine.best_params() == {"x": 0.5} and engine.best_value() == 0.0
    assert result.n_failed == 2
    assert math.isnan(result.values()[0])  # NaN ranks as the worst value


def test_a_study_without_any_completed_trial_says_so(tmp_path: Path) -> None:
    engine = SearchEngine(config(tmp_path, strategy="random", n_trials=2, metric="loss",
                                 direction="minimize"))
    engine.search(lambda p: math.nan, SearchSpace().add_float("x", 0, 1))
    with pytest.raises(StudyError, match="no trial"):
        engine.best_params()


def slow_when_big(params: dict[str, Any]) -> float:
    if params["x"] == "stuck":
        time.sleep(120)
    return 1.0


def test_the_per_trial_timeout_really_stops_a_stuck_trial(tmp_path: Path) -> None:
    engine = SearchEngine(config(tmp_path, strategy="grid", n_trials=2, metric="loss",
                                 direction="minimize", timeout_per_trial=1))
    start = time.monotonic()
    result = engine.search(slow_when_big, SearchSpace().add_categorical("x", ["stuck", "ok"]))
    assert time.monotonic() - start < 20
    stuck = next(t for t in result.trials if t.config["x"] == "stuck")
    assert stuck.state is TrialState.FAILED and stuck.error_kind is ErrorKind.TIMEOUT
    assert engine.best_params() == {"x": "ok"}


def where_and_when(params: dict[str, Any]) -> dict[str, float]:
    start = time.time()
    time.sleep(0.6)
    return {"loss": params["x"], "pid": float(os.getpid()), "start": start, "end": time.time()}


def test_n_jobs_runs_trials_in_parallel_processes(tmp_path: Path) -> None:
    engine = SearchEngine(config(tmp_path, strategy="random", n_trials=4, metric="loss",
                                 direction="minimize", n_jobs=2))
    result = engine.search(where_and_when, SearchSpace().add_float("x", 0, 1))
    metrics = [t.last_metrics for t in result.trials]
    assert len({m["pid"] for m in metrics}) == 4 and os.getpid() not in {m["pid"] for m in metrics}
    spans = sorted((m["start"], m["end"]) for m in metrics)
    overlaps = sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
    assert overlaps >= 1, spans


# -- pruning ---------------------------------------------------------------------------------

def curve(params: dict[str, Any], trial: TrialHandle) -> float:
    """A learning curve whose level is set by ``x``; honours pruning."""
    value = 0.0
    for epoch in range(1, (trial.resource or 9) + 1):
        value = params["x"] + 1.0 / epoch
        trial.report({"loss": value}, epoch)
        if trial.should_prune():
            raise TrialPruned()
    return value


@pytest.mark.parametrize("pruner", ["asha", "median"])
def test_pruning_stops_poor_trials_from_their_reports(tmp_path: Path, pruner: str) -> None:
    engine = SearchEngine(config(tmp_path, strategy="grid", n_trials=9, metric="loss",
                                 direction="minimize", enable_pruning=True, pruner=pruner,
                                 max_resource=9, min_resource=1))
    space = SearchSpace().add_categorical("x", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    result = engine.search(curve, space)
    states = {t.config["x"]: t.state for t in result.trials}
    assert states[0.0] is TrialState.COMPLETED
    stopped = [x for x, s in states.items() if s is TrialState.STOPPED]
    assert stopped and min(stopped) > 0.0
    for trial in result.trials:
        if trial.state is TrialState.STOPPED:
            assert max(r.step or 0 for r in trial.reports) < 9
    assert engine.best_params() == {"x": 0.0}


def test_pruning_needs_max_resource(tmp_path: Path) -> None:
    engine = SearchEngine(config(tmp_path, enable_pruning=True, pruner="asha", metric="loss",
                                 direction="minimize"))
    with pytest.raises(UsageError, match="max_resource"):
        engine.search(curve, SearchSpace().add_float("x", 0, 1))


# -- resume and the command line ---------------------------------------------------------------

def quadratic(params: dict[str, Any]) -> float:
    return (params["x"] - 0.3) ** 2 + (params["y"] + 0.2) ** 2


def quad_space() -> SearchSpace:
    return SearchSpace().add_float("x", -1.0, 1.0).add_float("y", -1.0, 1.0)


def test_resume_continues_the_study_where_it_stopped(tmp_path: Path) -> None:
    whole = SearchEngine(config(tmp_path, strategy="bayesian", sampler="tpe", n_trials=14,
                                metric="loss", direction="minimize", study_name="whole"))
    reference = [t.config for t in whole.search(quadratic, quad_space()).trials]
    part = SearchEngine(config(tmp_path, strategy="bayesian", sampler="tpe", n_trials=12,
                               metric="loss", direction="minimize", study_name="part"))
    part.search(quadratic, quad_space())
    resumed = SearchEngine().resume(tmp_path / "part", objective_fn=quadratic, n_trials=14)
    assert [t.config for t in resumed.trials] == reference
    with pytest.raises(UsageError, match="budget can only grow"):
        SearchEngine().resume(tmp_path / "part", objective_fn=quadratic, n_trials=3)


def test_a_study_grows_search_again_and_resume_by_path_continue_it(tmp_path: Path) -> None:
    """As Optuna's load_if_exists + optimize(n_trials): a second search() into the same study and
    seed 004's resume(study_path) continue it, with a larger n_trials extending the budget."""
    first = SearchEngine(config(tmp_path, strategy="bayesian", sampler="tpe", n_trials=3,
                                metric="loss", direction="minimize")).search(quadratic, quad_space())
    assert len(first.trials) == 3
    grown = SearchEngine(config(tmp_path, strategy="bayesian", sampler="tpe", n_trials=5,
                                metric="loss", direction="minimize")).search(quadratic, quad_space())
    assert [t.config for t in grown.trials[:3]] == [t.config for t in first.trials]
    assert len(grown.trials) == 5
    # seed 004's resume(study_path): no objective argument (the module-level function is found
    # again), and a larger n_trials in the configuration extends the budget
    resumed = SearchEngine(config(tmp_path, strategy="bayesian", sampler="tpe", n_trials=7,
                                  metric="loss", direction="minimize")).resume(str(tmp_path / "s"))
    assert len(resumed.trials) == 7 and resumed.n_completed == 7
    assert resumed.best_value <= grown.best_value
    from hpsweep.store import Store

    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    budgets = [(e.data["was"], e.data["num_trials"]) for e in store.events("budget")]
    store.close()
    assert budgets == [(3, 5), (5, 7)]
    with pytest.raises(StudyError, match="another space"):
        SearchEngine(config(tmp_path, strategy="random", n_trials=9, metric="loss",
                            direction="minimize")).search(quadratic, SearchSpace().add_float("z", 0, 1))
    lam = SearchEngine(config(tmp_path, strategy="random", n_trials=1, metric="loss",
                              direction="minimize", study_name="lam"))
    lam.search(lambda p: p["x"] ** 2, quad_space())
    with pytest.raises(UsageError, match="objective"):
        SearchEngine().resume(tmp_path / "lam")


@pytest.mark.slow
def test_hpsweep_report_reads_an_api_study(tmp_path: Path) -> None:
    engine = SearchEngine(config(tmp_path, strategy="random", n_trials=4, metric="loss",
                                 direction="minimize", study_name="api"))
    engine.search(quadratic, quad_space())
    env = dict(os.environ)
    done = subprocess.run([sys.executable, "-m", "hpsweep", "report", str(tmp_path / "api")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "trials   4: 4 completed" in done.stdout
    assert "best 4 by loss (min)" in done.stdout
    first_rank = next(line.split() for line in done.stdout.splitlines() if line.startswith("1 "))
    assert engine.result is not None and engine.result.best_trial is not None
    assert int(first_rank[1]) == engine.result.best_trial.trial_id
    assert (tmp_path / "api" / "results.csv").is_file()


# -- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "words"), [
    ("strategy", "annealing", "strategy"),
    ("direction", "up", "direction"),
    ("sampler", "nuts", "sampler"),
    ("pruner", "psychic", "pruner"),
    ("n_trials", 0, "n_trials"),
    ("n_jobs", -1, "n_jobs"),
    ("timeout_per_trial", 0, "timeout_per_trial"),
    ("max_resource", 0, "max_resource"),
    ("study_name", "a/b", "study_name"),
])
def test_bad_configurations_are_usage_errors(field: str, value: Any, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        SearchEngine(SearchConfig(**{field: value}))


def test_configuration_maps_to_strategy_and_scheduler() -> None:
    cfg = SearchConfig(strategy="bayesian", sampler="cmaes", pruner="median")
    assert cfg.searcher_name() == "cmaes"
    assert cfg.scheduler_name(reports=True) == "median"
    assert cfg.scheduler_name(reports=False) == "fifo"
    assert SearchConfig(strategy="hyperband").scheduler_name(reports=False) == "hyperband"
    assert SearchConfig(strategy="hyperband").searcher_name() == "random"
    assert SearchConfig(strategy="grid", enable_pruning=False).scheduler_name(reports=True) == \
        "fifo"


def test_results_before_any_search_are_usage_errors() -> None:
    engine = SearchEngine()
    with pytest.raises(UsageError, match="no search"):
        engine.best_value()
    assert np.isfinite(SearchConfig().min_resource)


# -- budgets and scheduler options -------------------------------------------------------------

def three_steps(params: dict[str, Any], trial: TrialHandle) -> float:
    for step in (1, 2, 3):
        trial.report({"loss": params["x"] + 1.0 / step}, step)
    return params["x"] + 1.0 / 3


def test_a_resource_budget_ends_the_search(tmp_path: Path) -> None:
    """Trials of 3 steps and a budget of 5: the first completes, the second is stopped at the
    report that spends the budget, and no third starts."""
    engine = SearchEngine(config(tmp_path, strategy="random", n_trials=10, metric="loss",
                                 direction="minimize", resource_budget=5))
    result = engine.search(three_steps, SearchSpace().add_float("x", 0, 1))
    states = [t.state for t in sorted(result.trials, key=lambda t: t.trial_id)]
    assert states == [TrialState.COMPLETED, TrialState.STOPPED]


def test_scheduler_options_come_from_the_spec(tmp_path: Path) -> None:
    ok = config(tmp_path, strategy="hyperband", n_trials=4, metric="loss", direction="minimize",
                max_resource=3, scheduler_options={"brackets": 1})
    result = SearchEngine(ok).search(three_steps, SearchSpace().add_float("x", 0, 1))
    assert all(t.state.is_final for t in result.trials)
    bad = config(tmp_path, study_name="bad", strategy="hyperband", n_trials=4, metric="loss",
                 direction="minimize", max_resource=3, scheduler_options={"probability_sh": 0.5})
    with pytest.raises(UsageError, match="does not take option\\(s\\) probability_sh"):
        SearchEngine(bad).search(three_steps, SearchSpace().add_float("x", 0, 1))
