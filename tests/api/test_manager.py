"""TrialManager: trials logged by hand, read back, ranked, analysed, plotted; the lock rule."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from hpsweep.api.manager import TrialManager
from hpsweep.errors import StudyLockedError, UsageError
from hpsweep.store import StudyDir
from hpsweep.trial import TrialState


def _loss(p: dict[str, float]) -> float:
    return 4.0 * (p["lr"] - 0.3) ** 2 + 3.0 * (p["wd"] - 0.6) ** 2


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> TrialManager:
    tm = TrialManager(tmp_path_factory.mktemp("tm") / "study", metric="loss", mode="min")
    rng = np.random.default_rng(3)
    for i in range(30):
        params = {"lr": float(rng.uniform()), "wd": float(rng.uniform()),
                  "noise": float(rng.uniform())}
        tm.log_trial(params, {"loss": _loss(params), "acc": 1 - _loss(params)}, trial_id=str(i))
    return tm


def test_logged_trials_read_back(manager: TrialManager) -> None:
    trial = manager.get_trial("7")
    assert trial.trial_id == 7 and trial.state is TrialState.COMPLETED
    assert trial.last_metrics["loss"] == pytest.approx(_loss(trial.config))
    assert len(manager.dataframe()) == 30


def test_best_trials_are_sorted(manager: TrialManager) -> None:
    frame = manager.dataframe()
    best = manager.get_best_trials(3)
    assert [t.trial_id for t in best] == list(frame.nsmallest(3, "loss")["trial_id"])


def test_importance_is_non_trivial_for_the_two_parameters_that_matter(
        manager: TrialManager) -> None:
    scores = manager.get_importance()
    assert scores["lr"] > scores["noise"] and scores["wd"] > scores["noise"]
    assert scores["wd"] > 0.05


def test_export_csv_has_every_param_and_metric(manager: TrialManager, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    manager.export_csv(target)
    with target.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30 and {"lr", "wd", "noise", "loss", "acc"} <= set(rows[0])
    assert float(rows[5]["loss"]) == pytest.approx(manager.get_trial(5).last_metrics["loss"])


def test_plots_are_figures(manager: TrialManager) -> None:
    history = manager.plot_optimization_history()
    importance = manager.plot_param_importances()
    assert isinstance(history, Figure) and isinstance(importance, Figure)
    labels = [t.get_text() for t in importance.axes[0].get_yticklabels()]
    assert labels[-1] == "lr"  # most important on top


def test_nan_is_failed_and_relogging_replaces(tmp_path: Path) -> None:
    tm = TrialManager(tmp_path / "s")
    tm.log_trial({"x": 1}, {"loss": float("nan")}, trial_id=None)
    assert tm.get_trial(0).state is TrialState.FAILED
    tm.log_trial({"x": 1}, {"loss": 0.5}, trial_id=0)
    assert tm.get_trial(0).state is TrialState.COMPLETED
    assert tm.get_best_trials(1)[0].value("loss") == 0.5
    assert (tmp_path / "s" / "results.csv").is_file()


def test_refuses_while_a_controller_holds_the_study(tmp_path: Path) -> None:
    tm = TrialManager(tmp_path / "s", metric="loss")
    tm.log_trial({"x": 1}, {"loss": 1.0})
    holder = StudyDir(tmp_path / "s")
    holder.acquire()
    try:
        with pytest.raises(StudyLockedError):
            tm.log_trial({"x": 2}, {"loss": 2.0})
        assert len(tm.dataframe()) == 1  # reading still works
    finally:
        holder.release()
    tm.log_trial({"x": 2}, {"loss": 2.0})
    assert len(tm.dataframe()) == 2


@pytest.mark.parametrize(("call", "message"), [
    (lambda tm: tm.log_trial({"x": 1}, {"loss": 1.0}, trial_id="first"), "trial_id='first'"),
    (lambda tm: tm.log_trial([1], {"loss": 1.0}), "both must be dicts"),
    (lambda tm: tm.log_trial({"x": 1}, {}), "needs at least one metric"),
])
def test_bad_input(tmp_path: Path, call, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        call(TrialManager(tmp_path / "s"))


def test_bad_mode() -> None:
    with pytest.raises(UsageError, match="mode='up'"):
        TrialManager("x", mode="up")
