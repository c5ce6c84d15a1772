"""MDI importance computed by hpsweep's own forest: what it says on studies whose answer is known
by construction, and that it agrees with scikit-learn's forest and Optuna's evaluator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hpsweep.results import load_study_data, param_importance
from hpsweep.results._forest import mdi_importances
from hpsweep.results._importance import _optuna_importance, encoded_trials, param_columns


def _matrix(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(size=n), rng.integers(0, 20, n).astype(float),
                            rng.integers(0, 2, n).astype(float), rng.normal(size=n)])


def test_the_one_column_that_decides_takes_the_importance() -> None:
    x = _matrix(400)
    for column in range(4):
        scores = mdi_importances(x, x[:, column] ** 3 + 0.001 * x[:, (column + 1) % 4])
        assert scores.sum() == pytest.approx(1.0)
        assert int(np.argmax(scores)) == column and scores[column] > 0.9, (column, scores)


def test_nothing_to_split_gives_zeros_and_the_draws_are_seeded() -> None:
    x = _matrix(50)
    assert mdi_importances(x, np.full(50, 3.0)).tolist() == [0.0] * 4
    assert mdi_importances(x[:1], np.ones(1)).tolist() == [0.0] * 4
    y = x[:, 0] + x[:, 2]
    assert mdi_importances(x, y, seed=4).tolist() == mdi_importances(x, y, seed=4).tolist()
    assert mdi_importances(x, y, seed=4).tolist() != mdi_importances(x, y, seed=5).tolist()


def test_ties_and_repeated_rows_split_only_between_distinct_values() -> None:
    x = np.repeat(np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]), 10, axis=0)
    scores = mdi_importances(x, x[:, 0] ** 2, n_trees=8)
    assert scores.tolist() == [1.0, 0.0]  # the constant column can never split


def test_agrees_with_scikit_learns_forest() -> None:
    ensemble = pytest.importorskip("sklearn.ensemble")
    x = _matrix(300, seed=1)
    y = 2 * x[:, 0] + 0.1 * x[:, 1] + 0.5 * x[:, 2] + np.random.default_rng(2).normal(0, 0.1, 300)
    ours = mdi_importances(x, y)
    forest = ensemble.RandomForestRegressor(n_estimators=64, max_depth=64, random_state=0)
    theirs = forest.fit(x, y).feature_importances_
    assert np.abs(ours - theirs).max() < 0.05, (ours, theirs)  # both seeded: no flakiness


def test_a_study_where_one_parameter_decides(lr_study: Path) -> None:
    data = load_study_data(lr_study)
    names, columns, x, _ = encoded_trials(data) or ([], [], np.zeros(0), np.zeros(0))
    assert names == ["lr", "opt", "width"] and columns == [0, 1, 1, 1, 2]
    assert x.shape == (360, 5) and x[:, 1:4].sum(axis=1).tolist() == [1.0] * 360  # one-hot
    scores = param_importance(data, method="mdi")
    assert next(iter(scores)) == "lr"
    assert scores["lr"] > 0.95 and sum(scores.values()) == pytest.approx(1.0)
    pytest.importorskip("sklearn")
    optuna = _optuna_importance(data, "loss", "mdi", 0, None)  # Optuna's own evaluator
    assert set(optuna) == set(scores)
    assert max(abs(optuna[k] - scores[k]) for k in scores) < 0.02, (optuna, scores)


def test_columns_match_the_optuna_conversion(lr_study: Path, importance_study: Path,
                                             seeded_study: Path) -> None:
    from optuna.distributions import CategoricalDistribution

    from hpsweep.results._optuna import infer_distributions

    for folder in (lr_study, importance_study, seeded_study):
        data = load_study_data(folder)
        kinds = param_columns(data)
        dists = infer_distributions(data)
        assert set(kinds) == set(dists)
        for name, dist in dists.items():
            if isinstance(dist, CategoricalDistribution):
                assert kinds[name] == tuple(dist.choices)
            else:
                assert kinds[name] == ()


def test_mdi_loads_neither_optuna_nor_scikit_learn(lr_study: Path) -> None:
    code = ("import sys\nfrom hpsweep.results import load_study_data, param_importance\n"
            f"s = param_importance(load_study_data({str(lr_study)!r}), method='mdi')\n"
            "assert max(s, key=s.get) == 'lr'\n"
            "print(sorted(m for m in ('optuna', 'sklearn', 'scipy', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_mdi_of_another_metric_and_of_few_trials(lr_study: Path, importance_study: Path) -> None:
    data = load_study_data(importance_study)  # acc = 1 - final: a decides, c does nothing
    scores = param_importance(data, metric="acc", method="mdi")
    assert max(scores, key=scores.__getitem__) == "a" and scores["c"] < scores["b"]
    assert param_importance(data, method="mdi") == param_importance(data, method="mdi")
    assert param_importance(data, metric="nothing", method="mdi") == {}
    many = load_study_data(lr_study)
    assert param_importance(many) == param_importance(many, method="mdi")  # auto above 300


def test_mdi_of_a_two_objective_study_explains_the_first(multi_study: Path) -> None:
    data = load_study_data(multi_study)
    kinds = param_columns(data)
    assert set(kinds) == {"x"} and sorted(kinds["x"]) == [0, 1, 2, 3]  # grid choices: one-hot
    assert param_importance(data, method="mdi") == {"x": 1.0}
