"""Every trial state, a study without a frozen space, and the export of both."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from hpsweep.cli.main import main
from hpsweep.results import load_study_data, to_optuna_study
from hpsweep.store import Store, StudyDir
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState

STATES = {
    TrialState.COMPLETED: optuna.trial.TrialState.COMPLETE,
    TrialState.FAILED: optuna.trial.TrialState.FAIL,
    TrialState.INTERRUPTED: optuna.trial.TrialState.FAIL,
    TrialState.STOPPED: optuna.trial.TrialState.PRUNED,
    TrialState.PAUSED: optuna.trial.TrialState.RUNNING,
    TrialState.RUNNING: optuna.trial.TrialState.RUNNING,
}


@pytest.fixture
def mixed_study(tmp_path: Path) -> Path:
    """A store written directly: one trial per state, no sweep.json (like a hand-logged one)."""
    study = StudyDir(tmp_path / "mixed")
    study.root.mkdir()
    store = Store.create(study.db, name="mixed",
                         spec={"options": {"metrics": ["loss"], "modes": ["max"]}})
    for tid, state in enumerate(STATES):
        final = state.is_final
        trial = TrialRecord(tid, {"opt": ["sgd", "adam", {"k": 1}][tid % 3], "lr": 0.1 * (tid + 1)},
                            state, created=100.0 + tid, started=100.0 + tid,
                            finished=(101.0 + tid) if final else None,
                            last_metrics={} if state is TrialState.FAILED else {"loss": tid},
                            error_kind=ErrorKind.CRASH if state is TrialState.FAILED else None)
        store.add_trial(trial)
        if trial.last_metrics:
            store.add_report(Report(tid, 1, {"loss": tid / 2}, 100.0 + tid, 0))
            store.add_report(Report(tid, 2, {"loss": float(tid)}, 100.5 + tid, 1))
    store.close()
    return study.root


@pytest.mark.parametrize("target", ["sqlite", "journal"])
def test_states_map_to_optuna_states(mixed_study: Path, tmp_path: Path, target: str) -> None:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    url = f"sqlite:///{tmp_path / 'o.db'}" if target == "sqlite" else str(tmp_path / "o.log")
    assert main(["export", str(mixed_study), "--optuna", url]) == 0
    storage = url if target == "sqlite" else JournalStorage(JournalFileBackend(url))
    loaded = optuna.load_study(study_name="mixed", storage=storage)
    assert loaded.direction == optuna.study.StudyDirection.MAXIMIZE
    got = {t.user_attrs["hpsweep_state"]: t for t in loaded.trials}
    for state, expected in STATES.items():
        assert got[state.value].state == expected, state
    assert got["completed"].value == 0.0
    assert got["stopped"].intermediate_values == {1: 1.5, 2: 3.0}
    assert got["failed"].user_attrs["error"].startswith("crash")
    # values the space does not describe get inferred distributions; dicts become JSON text
    assert set(got["completed"].distributions) == {"opt", "lr"}
    assert got["interrupted"].params["opt"] == '{"k": 1}'


def test_report_and_importance_without_a_frozen_space(mixed_study: Path, capsys) -> None:
    data = load_study_data(mixed_study)
    assert data.space() is None and data.mode == "max"
    assert main(["report", str(mixed_study), "--all", "--format", "json"]) == 0
    ranked = capsys.readouterr().out
    assert '"trial_id": 5' in ranked  # the running trial is listed with --all
    assert len(to_optuna_study(data).trials) == 6
