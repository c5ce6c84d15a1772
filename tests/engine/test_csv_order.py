"""results.csv has a trial as soon as the store says it ended (never a moment later)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from hpsweep.store import ResultsCsv, Store
from hpsweep.trial import TrialRecord, TrialState


def test_the_csv_row_is_written_before_the_store_records_the_end(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "study.db", name="s", spec={})
    results = ResultsCsv(tmp_path / "results.csv", param_names=["x"])
    trial = TrialRecord(trial_id=0, config={"x": 1}, state=TrialState.RUNNING)
    store.add_trial(trial)
    seen: list[str] = []

    def record_first(t: TrialRecord) -> None:
        conn = sqlite3.connect(f"file:{tmp_path / 'study.db'}?mode=ro", uri=True)
        seen.append(conn.execute("SELECT state FROM trials").fetchone()[0])
        conn.close()
        results.record(t)

    store.before_final = record_first
    trial.state, trial.last_metrics = TrialState.COMPLETED, {"loss": 0.5}
    store.update_trial(trial, event="end", time=1.0)
    assert seen == ["running"]  # the CSV was written while the store still said running
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [(r["trial_id"], r["state"], r["loss"]) for r in rows] == [("0", "completed", "0.5")]
    before = (tmp_path / "results.csv").stat().st_mtime_ns
    results.record(trial)  # the tuner's own call afterwards: the row is there already
    assert (tmp_path / "results.csv").stat().st_mtime_ns == before
    store.close()


def test_a_study_loaded_for_running_wires_the_csv_to_the_store(tmp_path: Path) -> None:
    from hpsweep.space import parse_inline
    from hpsweep.store import StudyDir
    from hpsweep.tuner.session import SweepOptions, create_study, load_study

    study = StudyDir(tmp_path / "study")
    create_study(study, SweepOptions(cwd=str(tmp_path)),
                 parse_inline(["python", "t.py", "--x", "[1, 2]"], seed=0))
    tuner, store, _, _ = load_study(study)
    try:
        assert store.before_final is not None
        assert store.before_final.__self__ is tuner.csv  # type: ignore[attr-defined]
    finally:
        store.close()
