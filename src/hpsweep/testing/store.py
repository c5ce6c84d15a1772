"""The study store's contract (:class:`hpsweep.store.Store`), as checks to call.

- :func:`check_round_trip`: every field of a trial, its reports (steps, ``None`` steps, NaN and
  infinite values, nested metrics) and the event log read back as written, in order, from a
  fresh connection too;
- :func:`check_concurrent_readers`: readers in other processes, opened read-only while the
  controller writes one transaction per step (a trial, its reports and its end), only ever see
  whole steps, each read one snapshot, and end up seeing everything;
- :func:`check_opens_version`: a store file written by an earlier release (one per schema
  version, committed in ``hpsweep/testing/data/``) opens with today's code, read-only and for
  writing, with the contents it was written with, and a study in it can go on;
- :func:`check_every_version_kept`: each schema version up to today's has its committed file.

:func:`write_example` writes the example study the committed files hold.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import queue
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpsweep.store import SCHEMA_VERSION, Store
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState

__all__ = [
    "DATA",
    "check_concurrent_readers",
    "check_every_version_kept",
    "check_opens_version",
    "check_round_trip",
    "check_store",
    "contents",
    "write_example",
]

DATA = Path(__file__).with_name("data")
StoreFactory = Callable[[Path], Store]


def _example_trials() -> list[TrialRecord]:
    done = TrialRecord(trial_id=0, config={"lr": 0.01, "opt": "adam", "layers": [64, 32]},
                       state=TrialState.COMPLETED, seed=11, resource=9, trial_dir="trials/0",
                       worker_id=0, gpu="0", created=1.0, started=1.5, finished=9.0, exit_code=0,
                       last_metrics={"loss": 0.25, "acc": 0.9}, runs=2,
                       run_info={"first_seq": 2, "from_step": 3})
    paused = TrialRecord(trial_id=1, config={"lr": 0.1, "opt": "sgd", "layers": []},
                         state=TrialState.PAUSED, seed=12, resource=3, trial_dir="trials/1",
                         worker_id=1, created=2.0, started=2.5, finished=4.0, exit_code=0,
                         last_metrics={"loss": float("inf")}, runs=1)
    failed = TrialRecord(trial_id=2, config={"lr": 1.0, "opt": "sgd", "layers": [8]},
                         state=TrialState.FAILED, seed=13, trial_dir="trials/2", created=3.0,
                         started=3.5, finished=3.6, exit_code=-9, error_kind=ErrorKind.CRASH,
                         error="killed by SIGKILL: out of memory", runs=1)
    running = TrialRecord(trial_id=3, config={"lr": 0.001, "opt": "adam", "layers": [1, 2, 3]},
                          state=TrialState.RUNNING, seed=14, repetition=1, resource=9,
                          trial_dir="trials/3", worker_id=0, created=9.0, started=9.1,
                          run_info={"lap_of": 0}, runs=1)
    return [done, paused, failed, running]


def _example_reports() -> list[Report]:
    return [Report(0, 1, {"loss": 0.5, "acc": 0.7}, 2.0, 0),
            Report(0, 3, {"loss": 0.4, "extra": {"lr": [0.01, 0.02]}}, 3.0, 1),
            Report(0, 9, {"loss": 0.25, "acc": 0.9}, 8.9, 2),
            Report(1, 1, {"loss": float("nan")}, 3.0, 0),
            Report(1, None, {"loss": float("inf"), "note": "text"}, 3.5, 1),
            Report(3, 1, {"loss": 0.6}, 9.5, 0)]


def write_example(path: Path | None) -> Store:
    """The example study: trials in four states, reports with odd values, an event log."""
    store = Store.create(path, name="example", spec={"metric": "loss", "mode": "min",
                                                     "space": {"lr": "loguniform(1e-3, 1)"}})
    with store.batch():
        for trial in _example_trials():
            store.add_trial(trial)
        for report in _example_reports():
            store.add_report(report)
        store.add_event("start", time=1.5, trial_id=0, data={"decision": "start", "resource": 3})
        store.add_event("decision", time=3.0, trial_id=1,
                        data={"decision": "pause", "resource": 3, "reason": "rung 0: rank 2 of 2"})
        store.add_event("budget", time=4.0, data={"num_trials": 8})
        store.set_meta("note", {"nested": [1, 2.5, None]})
    return store


def _plain(value: Any) -> Any:
    """JSON-comparable: NaN and infinities as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def contents(store: Store) -> dict[str, Any]:
    """Everything a store holds that readers use, as plain data (for comparisons)."""
    trials = []
    for t in store.trials():
        trials.append(_plain({
            "trial_id": t.trial_id, "config": t.config, "state": t.state.value, "seed": t.seed,
            "repetition": t.repetition, "resource": t.resource, "trial_dir": t.trial_dir,
            "worker_id": t.worker_id, "gpu": t.gpu, "created": t.created, "started": t.started,
            "finished": t.finished, "exit_code": t.exit_code,
            "error_kind": t.error_kind.value if t.error_kind else None, "error": t.error,
            "last_metrics": t.last_metrics, "runs": t.runs, "run_info": t.run_info,
            "reports": [[r.seq, r.step, r.metrics, r.time] for r in t.reports]}))
    events = [[e.time, e.trial_id, e.kind, _plain(e.data)] for e in store.events()]
    return {"name": store.name, "spec": store.spec, "note": store.get_meta("note"),
            "trials": trials, "events": events}


def check_round_trip(make: StoreFactory, folder: Path) -> None:
    """What is written reads back the same, from the same and from a new connection."""
    path = folder / "round-trip.db"
    store = make(path)
    try:
        with store.batch():
            for trial in _example_trials():
                store.add_trial(trial)
            for report in _example_reports():
                store.add_report(report)
        written = contents(store)
        want = [t.trial_id for t in _example_trials()]
        assert [t["trial_id"] for t in written["trials"]] == want, "trials come back in id order"
        for trial, got in zip(_example_trials(), written["trials"], strict=True):
            assert got["config"] == _plain(trial.config), f"trial {trial.trial_id}'s config"
            assert got["state"] == trial.state.value, f"trial {trial.trial_id}'s state"
            assert got["run_info"] == trial.run_info, f"trial {trial.trial_id}'s run_info"
        reports = {t["trial_id"]: t["reports"] for t in written["trials"]}
        assert [r[1] for r in reports[0]] == [1, 3, 9], "reports keep their order and steps"
        assert reports[1][0][2]["loss"] == "nan" and reports[1][1][1] is None, \
            "NaN values and reports without a step survive"
        assert store.next_trial_id() == 4
        store.drop_reports(0, from_seq=1)
        assert [r.seq for r in store.reports(0)] == [0], "drop_reports forgets from a seq on"
        after = contents(store)
    finally:
        store.close()
    again = Store.open(path, readonly=True)
    try:
        assert contents(again) == after, "a new read-only connection sees what was written"
    finally:
        again.close()


def _reader(path: str, trials: int, reports_per_trial: int, out: Any) -> None:
    seen_final = 0
    reads = 0
    try:
        while seen_final < trials:
            store = Store.open(path, readonly=True)
            try:
                seen = store.trials()
                for t in seen:  # each step adds a trial, its reports and its end at once
                    if t.state is not TrialState.COMPLETED or len(t.reports) != reports_per_trial:
                        out.put(f"trial {t.trial_id} read {t.state.value} with {len(t.reports)} "
                                f"of {reports_per_trial} reports: a step was seen half written")
                        return
                seen_final = len(seen)
            finally:
                store.close()
            reads += 1
        out.put(f"ok {reads}")
    except Exception as exc:  # the reader's failure is the check's message
        out.put(f"reader failed: {type(exc).__name__}: {exc}")


def check_concurrent_readers(folder: Path, *, trials: int = 60, reports_per_trial: int = 4,
                             readers: int = 2) -> None:
    """Readers in other processes see whole controller steps only, and everything at the end."""
    path = folder / "concurrent.db"
    store = Store.create(path, name="concurrent", spec={})
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_reader, args=(str(path), trials, reports_per_trial, out))
             for _ in range(readers)]
    for p in procs:
        p.start()
    try:
        for tid in range(trials):
            with store.batch():  # one controller step: the trial, its reports, its end
                trial = TrialRecord(trial_id=tid, config={"x": tid}, state=TrialState.RUNNING,
                                    created=float(tid))
                store.add_trial(trial)
                for seq in range(reports_per_trial):
                    store.add_report(Report(tid, seq + 1, {"loss": 1.0 / (seq + 1)}, float(tid), seq))
                trial.state, trial.finished = TrialState.COMPLETED, float(tid) + 0.5
                store.update_trial(trial, event="end", data={"state": "completed"})
    finally:
        store.close()
        for p in procs:
            p.join(timeout=300)
            if p.is_alive():
                p.kill()
                p.join()
    results: list[str] = []
    while not out.empty() or len(results) < len(procs):
        try:
            results.append(out.get(timeout=5))
        except queue.Empty:
            break
    assert len(results) == len(procs), f"{len(procs) - len(results)} reader(s) ended without a word"
    for result in results:
        assert result.startswith("ok"), result


def check_opens_version(db_file: Path, expected: dict[str, Any], folder: Path) -> None:
    """A committed store file of an earlier schema opens read-only (unchanged on disk) and for
    writing (upgraded in place), with its contents, and its study can go on."""
    copy = folder / db_file.name
    shutil.copyfile(db_file, copy)
    before = copy.read_bytes()
    reader = Store.open(copy, readonly=True)
    try:
        assert contents(reader) == expected, f"{db_file.name} read-only: contents differ"
    finally:
        reader.close()
    assert copy.read_bytes() == before, "opening read-only must not change the file"
    store = Store.open(copy)
    try:
        assert store.get_meta("schema_version") == SCHEMA_VERSION, "opened for writing: upgraded"
        assert contents(store) == expected, f"{db_file.name} upgraded: contents differ"
        next_id = store.next_trial_id()
        store.add_trial(TrialRecord(trial_id=next_id, config={"lr": 0.5}, state=TrialState.RUNNING,
                                    created=10.0))
        store.add_report(Report(next_id, 1, {"loss": 0.1}, 10.5, 0))
    finally:
        store.close()
    again = Store.open(copy, readonly=True)
    try:
        assert [t.trial_id for t in again.trials()][-1] == next_id, "the study went on"
    finally:
        again.close()


def check_every_version_kept() -> None:
    """Each schema version up to today's has a committed example file and its contents."""
    for version in range(1, SCHEMA_VERSION + 1):
        db, want = DATA / f"study-v{version}.db", DATA / f"study-v{version}.json"
        assert db.is_file() and want.is_file(), (
            f"schema version {version} has no committed example ({db.name}, {want.name}): write "
            "it with hpsweep.testing.store.write_example before changing the schema")


def check_store(folder: Path, make: StoreFactory | None = None) -> None:
    """Every check of this module (``folder``: an empty, writable folder)."""
    make = make or (lambda path: Store.create(path, name="t", spec={}))
    check_round_trip(make, folder)
    check_concurrent_readers(folder)
    check_every_version_kept()
    for version in range(1, SCHEMA_VERSION + 1):
        target = folder / f"v{version}"
        target.mkdir()
        expected = json.loads((DATA / f"study-v{version}.json").read_text())
        check_opens_version(DATA / f"study-v{version}.db", expected, target)
