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
    (lambda tm: tm.log_trial({"x": 1}, {"loss": 1.0}, trial_id=1.5), "trial id 1.5"),
    (lambda tm: tm.log_trial([1], {"loss": 1.0}), "both must be dicts"),
    (lambda tm: tm.log_trial({"x": 1}, {}), "needs at least one metric"),
])
def test_bad_input(tmp_path: Path, call, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        call(TrialManager(tmp_path / "s"))


def test_bad_mode() -> None:
    with pytest.raises(UsageError, match="mode='up'"):
        TrialManager("x", mode="up")


def test_the_mode_is_inferred_from_well_known_names_and_refused_for_others(tmp_path: Path) -> None:
    """Seed 004's TrialManager with val_accuracy maximises it (the best trial is the most
    accurate), a loss is minimised, and an unknown name is refused instead of guessed."""
    acc = TrialManager(tmp_path / "acc")
    for i, value in enumerate([0.61, 0.93, 0.75]):
        acc.log_trial({"lr": 0.1 * (i + 1)}, {"val_accuracy": value}, trial_id=f"t{i}")
    assert [t.last_metrics["val_accuracy"] for t in acc.get_best_trials(3)] == [0.93, 0.75, 0.61]
    assert acc.get_trial("t1").config == {"lr": pytest.approx(0.2)}
    acc.log_trial({"lr": 0.2}, {"val_accuracy": 0.95}, trial_id="t1")  # a label names one trial
    assert len(acc.dataframe()) == 3 and acc.get_trial("t1").last_metrics["val_accuracy"] == 0.95
    with pytest.raises(UsageError, match="no trial has this label"):
        acc.get_trial("t9")
    loss = TrialManager(tmp_path / "loss")
    for i, value in enumerate([0.5, 0.1, 0.3]):
        loss.log_trial({"lr": i}, {"val_loss": value})
    assert loss.get_best_trials(1)[0].last_metrics["val_loss"] == 0.1
    with pytest.raises(UsageError, match="mode='min'"):
        TrialManager(tmp_path / "odd").log_trial({"lr": 1}, {"throughput": 3.0})


def test_repeated_configurations_rank_by_their_mean(tmp_path: Path) -> None:
    tm = TrialManager(tmp_path / "reps", metric="loss", mode="min")
    for value in (0.0876, 0.13, 0.1424):  # one lucky run, mean 0.12
        tm.log_trial({"lr": 0.1}, {"loss": value})
    for value in (0.1, 0.1, 0.1):
        tm.log_trial({"lr": 0.01}, {"loss": value})
    best = tm.get_best_configs(2)
    assert [g.config for g in best] == [{"lr": 0.01}, {"lr": 0.1}]
    assert best[1].mean == pytest.approx(0.12) and best[1].n == 3
    assert best[1].sd == pytest.approx(0.028736, abs=1e-6)
    assert tm.get_best_trials(1)[0].config == {"lr": 0.01}
