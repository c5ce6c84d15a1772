"""The store, the study folder lock and results.csv."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from hpsweep.errors import StudyError, StudyLockedError
from hpsweep.store import SCHEMA_VERSION, ResultsCsv, Store, StudyDir
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState


def _trial(tid: int, **kw) -> TrialRecord:
    return TrialRecord(trial_id=tid, config={"lr": 0.1 * (tid + 1), "opt": "sgd"},
                       state=kw.pop("state", TrialState.RUNNING), created=1.0, **kw)


def test_round_trip(tmp_path):
    store = Store.create(tmp_path / "s.db", name="demo", spec={"a": 1})
    t = _trial(0, seed=7)
    store.add_trial(t)
    store.add_report(Report(0, 1, {"loss": 0.5, "acc": 0.9}, 10.0, 0))
    t.state, t.error_kind, t.error, t.last_metrics = TrialState.FAILED, ErrorKind.NAN, "loss = nan", {"loss": "nan"}
    store.update_trial(t, event="end", data={"state": "failed"}, time=11.0)
    store.close()
    reader = Store.open(tmp_path / "s.db", readonly=True)
    (back,) = reader.trials()
    assert back.config == t.config and back.seed == 7 and back.state is TrialState.FAILED
    assert back.error_kind is ErrorKind.NAN and back.error == "loss = nan"
    assert back.reports == [Report(0, 1, {"loss": 0.5, "acc": 0.9}, 10.0, 0)]
    assert reader.name == "demo" and reader.spec == {"a": 1}
    assert [(e.kind, e.trial_id, e.data) for e in reader.events()] == [("end", 0, {"state": "failed"})]
    assert reader.next_trial_id() == 1
    with pytest.raises(StudyError, match="read-only"):
        reader.add_event("x", time=0.0)


def test_refuses_newer_schema_and_foreign_files(tmp_path):
    store = Store.create(tmp_path / "s.db", name="x", spec={})
    store.set_meta("schema_version", SCHEMA_VERSION + 1)
    store.close()
    with pytest.raises(StudyError, match="newer hpsweep"):
        Store.open(tmp_path / "s.db")
    (tmp_path / "junk.db").write_text("not sqlite at all" * 100)
    with pytest.raises(StudyError, match="not a readable"):
        Store.open(tmp_path / "junk.db")
    conn = sqlite3.connect(tmp_path / "other.db")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StudyError):
        Store.open(tmp_path / "other.db")
    with pytest.raises(StudyError, match="already exists"):
        Store.create(tmp_path / "s.db", name="x", spec={})


def test_lock_is_exclusive_and_released(tmp_path):
    a, b = StudyDir(tmp_path / "st"), StudyDir(tmp_path / "st")
    a.acquire()
    assert b.is_locked()
    with pytest.raises(StudyLockedError, match="held by another live controller"):
        b.acquire()
    a.release()
    assert not b.is_locked()
    b.acquire()
    b.release()


def test_results_csv_appends_and_rewrites(tmp_path):
    path = tmp_path / "results.csv"
    out = ResultsCsv(path, param_names=["lr", "opt"])
    t0 = _trial(0, state=TrialState.COMPLETED)
    t0.last_metrics = {"loss": 0.3}
    out.record(t0)
    t1 = _trial(1, state=TrialState.COMPLETED)
    t1.last_metrics = {"loss": 0.2}
    out.record(t1)
    t2 = _trial(2, state=TrialState.COMPLETED)
    t2.last_metrics = {"loss": 0.1, "acc": 0.8, "lr": 5}  # a new column, and a metric named like a param
    out.record(t2)
    rows = list(csv.DictReader(path.open()))
    assert [r["trial_id"] for r in rows] == ["0", "1", "2"]
    assert rows[2]["acc"] == "0.8" and rows[0]["acc"] == ""
    assert rows[2]["metric:lr"] == "5" and rows[2]["lr"] == str(0.1 * 3)
    assert not path.with_name("results.csv.tmp").exists()
    out2 = ResultsCsv(path, param_names=["lr", "opt"])
    out2.rewrite([t1])
    assert [r["trial_id"] for r in csv.DictReader(path.open())] == ["1"]
    assert json.loads(json.dumps(rows[0]))["opt"] == "sgd"


def test_a_batch_is_one_transaction_and_keeps_its_writes_when_the_step_fails(tmp_path) -> None:
    from hpsweep.store import Store
    from hpsweep.trial import Report, TrialRecord, TrialState

    store = Store.create(tmp_path / "s.db", name="s", spec={})
    store.add_trial(TrialRecord(0, {"x": 1}, TrialState.RUNNING))
    reader = Store.open(tmp_path / "s.db", readonly=True)
    with store.batch():
        store.add_report(Report(0, 1, {"loss": 0.5}, 1.0, 0))
        store.add_report(Report(0, 2, {"loss": 0.4}, 2.0, 1))
        assert reader.reports(0) == []  # not committed before the batch ends
    assert [r.step for r in reader.reports(0)] == [1, 2]
    try:
        with store.batch():
            store.add_report(Report(0, 3, {"loss": 0.3}, 3.0, 2))
            raise KeyError("a step that fails for its own reasons")
    except KeyError:
        pass
    assert [r.step for r in reader.reports(0)] == [1, 2, 3]
    reader.close()
    store.close()
