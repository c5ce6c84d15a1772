"""One SQLite file per study, written by the controller only.

Tables: ``meta`` (schema version, study name, the frozen sweep), ``trials`` (one row per trial,
updated in place), ``reports`` (every report of every trial, in order) and ``events`` (state changes
and scheduler decisions: the decision log). WAL mode lets readers (``hpsweep report``, the
dashboard) read while the controller writes; only the controller ever writes, so "database is locked"
cannot happen between workers.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsweep._faults import kill_point
from hpsweep.errors import StudyError
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState

__all__ = ["SCHEMA_VERSION", "Event", "Store"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    trial_id INTEGER PRIMARY KEY,
    config TEXT NOT NULL,
    state TEXT NOT NULL,
    seed INTEGER,
    repetition INTEGER NOT NULL DEFAULT 0,
    resource INTEGER,
    trial_dir TEXT NOT NULL DEFAULT '',
    worker_id INTEGER,
    gpu TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    exit_code INTEGER,
    error_kind TEXT,
    error TEXT,
    last_metrics TEXT NOT NULL DEFAULT '{}',
    runs INTEGER NOT NULL DEFAULT 0,
    run_info TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS reports (
    trial_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER,
    metrics TEXT NOT NULL,
    time REAL NOT NULL,
    PRIMARY KEY (trial_id, seq)
);
CREATE TABLE IF NOT EXISTS events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    trial_id INTEGER,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind);
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, allow_nan=True, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    # NumPy scalars and other number-likes reported by scripts.
    for cast in (int, float):
        try:
            out = cast(value)
        except (TypeError, ValueError):
            continue
        if out == value:
            return out
    return str(value)


@dataclass(frozen=True)
class Event:
    """One row of the event log (state changes, scheduler decisions)."""

    event_id: int
    time: float
    trial_id: int | None
    kind: str
    data: dict[str, Any]


class Store:
    """The study's SQLite store. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, *, readonly: bool) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self._batching = False
        # Called with a trial about to be stored in a final state, before the write, so that a
        # copy kept elsewhere (results.csv) never lags behind the store.
        self.before_final: Callable[[TrialRecord], None] | None = None

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path | None, *, name: str, spec: dict[str, Any]) -> Store:
        """A new study store at ``path`` (None: in memory, for simulations and tests)."""
        target = Path(path) if path is not None else None
        if target is not None and target.exists():
            raise StudyError(f"a study store already exists at {target}; resume it or choose another --out.")
        try:
            return cls._build(target, name=name, spec=spec)
        except (sqlite3.OperationalError, OSError) as exc:
            if target is None:
                raise
            from hpsweep.store._study import write_failure

            with suppress(OSError):
                target.with_name(target.name + ".new").unlink(missing_ok=True)
            raise write_failure(target, exc, target.parent) from None

    @classmethod
    def _build(cls, target: Path | None, *, name: str, spec: dict[str, Any]) -> Store:
        # Built under a temporary name and renamed: a reader never sees a store without its schema.
        building = target.with_name(target.name + ".new") if target is not None else None
        if building is not None:
            building.unlink(missing_ok=True)
        conn = cls._connect(building, readonly=False)
        conn.executescript(_SCHEMA)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("schema_version", _dumps(SCHEMA_VERSION)), ("name", _dumps(name)),
             ("spec", _dumps(spec)), ("created", _dumps(time.time()))],
        )
        conn.execute("COMMIT")
        if building is None or target is None:
            return cls(conn, None, readonly=False)
        conn.execute("PRAGMA journal_mode=DELETE")  # fold the WAL back before the rename
        conn.close()
        building.rename(target)
        return cls(cls._connect(target, readonly=False), target, readonly=False)

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> Store:
        """Open an existing store; ``readonly`` for readers while a controller may be writing."""
        target = Path(path)
        if not target.is_file():
            raise StudyError(f"no study store at {target}: is this a study folder made by hpsweep?")
        try:
            conn = cls._connect(target, readonly=readonly)
            version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError as exc:
            if not readonly and not _writable(target):
                from hpsweep.store._study import write_failure

                raise write_failure(target, exc, target.parent) from None
            raise StudyError(f"{target} is not a readable hpsweep study store: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StudyError(f"{target} is not a readable hpsweep study store: {exc}") from exc
        if version is None:
            raise StudyError(f"{target} has no schema version: not an hpsweep study store.")
        found = json.loads(version[0])
        if found > SCHEMA_VERSION:
            raise StudyError(
                f"{target} was written by a newer hpsweep (schema {found}, this one reads up to "
                f"{SCHEMA_VERSION}); upgrade hpsweep."
            )
        store = cls(conn, target, readonly=readonly)
        if found < SCHEMA_VERSION and not readonly:
            store._migrate(found)
        return store

    @staticmethod
    def _connect(path: Path | None, *, readonly: bool) -> sqlite3.Connection:
        if path is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        elif readonly:
            # A read-only folder (no writable -shm for the WAL): read the file as immutable.
            mode = "ro" if _writable(path) else "ro&immutable=1"
            conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, check_same_thread=False,
                                   isolation_level=None, timeout=10)
        else:
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                   timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.isolation_level = None  # explicit transactions through `_tx`
        return conn

    def _migrate(self, found: int) -> None:
        """Upgrade an older schema in place (one step per version)."""
        steps: dict[int, str] = {}
        with self._tx():
            for version in range(found, SCHEMA_VERSION):
                self._conn.executescript(steps[version])
            self._set_meta("schema_version", SCHEMA_VERSION)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside is one transaction (the tuner wraps each controller step in one):
        the writes of a step cost one commit. Nested batches join the outer one."""
        if self._batching or self.readonly:
            yield
            return
        self._batching = True
        failure: BaseException | None = None
        try:
            with self._tx():
                try:
                    yield
                except sqlite3.Error:
                    raise  # a failed write: the step's writes roll back together
                except BaseException as exc:  # anything else: keep what the step wrote
                    failure = exc
        finally:
            self._batching = False
        if failure is not None:
            raise failure

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a failed write (the disk is full, the file became read-only)
        rolls back whole and is a :class:`StudyError` that names the file and the fix. Inside
        :meth:`batch`, the batch's transaction."""
        if self.readonly:
            raise StudyError("this store was opened read-only")
        if self._conn.in_transaction and self._batching:
            yield self._conn
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            with suppress(sqlite3.Error):
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            raise self._write_failure(exc) from None

    def _write_failure(self, exc: BaseException) -> StudyError:
        from hpsweep.store._study import write_failure

        path = self.path or Path(":memory:")
        return write_failure(path, exc, path.parent)

    # -- meta ------------------------------------------------------------------------------------
    def _set_meta(self, key: str, value: Any) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, _dumps(value)))

    def set_meta(self, key: str, value: Any) -> None:
        with self._tx():
            self._set_meta(key, value)

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    @property
    def name(self) -> str:
        return str(self.get_meta("name", ""))

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.get_meta("spec", {}))

    # -- trials ----------------------------------------------------------------------------------
    def next_trial_id(self) -> int:
        row = self._conn.execute("SELECT COALESCE(MAX(trial_id) + 1, 0) FROM trials").fetchone()
        return int(row[0])

    def add_trial(self, trial: TrialRecord) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO trials (trial_id, config, state, seed, repetition, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (trial.trial_id, _dumps(trial.config), trial.state.value, trial.seed,
                 trial.repetition, trial.created),
            )
            self._update(conn, trial)

    def update_trial(self, trial: TrialRecord, *, event: str | None = None,
                     data: dict[str, Any] | None = None, time: float | None = None) -> None:
        """Write every mutable field of ``trial``; optionally log an event in the same transaction.
        A final state goes to :attr:`before_final` first."""
        if self.before_final is not None and trial.state.is_final:
            self.before_final(trial)
        with self._tx() as conn:
            self._update(conn, trial)
            if event is not None:
                self._event(conn, time if time is not None else trial.finished or 0.0,
                            trial.trial_id, event, data or {})
        if trial.state.is_final:
            kill_point("stored")

    @staticmethod
    def _update(conn: sqlite3.Connection, t: TrialRecord) -> None:
        conn.execute(
            "UPDATE trials SET config=?, state=?, seed=?, repetition=?, resource=?, trial_dir=?, "
            "worker_id=?, gpu=?, started=?, finished=?, exit_code=?, error_kind=?, error=?, "
            "last_metrics=?, runs=?, run_info=? WHERE trial_id=?",
            (_dumps(t.config), t.state.value, t.seed, t.repetition, t.resource, t.trial_dir,
             t.worker_id, t.gpu, t.started, t.finished, t.exit_code,
             t.error_kind.value if t.error_kind else None, t.error, _dumps(t.last_metrics),
             t.runs, _dumps(t.run_info), t.trial_id),
        )

    def add_report(self, report: Report) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO reports (trial_id, seq, step, metrics, time) VALUES (?, ?, ?, ?, ?)",
                (report.trial_id, report.seq, report.step, _dumps(report.metrics), report.time),
            )

    def drop_reports(self, trial_id: int, *, from_seq: int) -> None:
        """Forget the reports of ``trial_id`` from ``from_seq`` on (a run that will be run again)."""
        with self._tx() as conn:
            conn.execute("DELETE FROM reports WHERE trial_id=? AND seq>=?", (trial_id, from_seq))

    def trials(self, *, with_reports: bool = True, states: Sequence[TrialState] | None = None
               ) -> list[TrialRecord]:
        """Every trial in id order, with its reports unless ``with_reports`` is False; one
        snapshot of the store, even while the controller writes."""
        with self._snapshot():
            return self._trials(with_reports=with_reports, states=states)

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the store (a read transaction, unless one is open)."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            with suppress(sqlite3.Error):
                self._conn.execute("COMMIT")

    def _trials(self, *, with_reports: bool, states: Sequence[TrialState] | None
                ) -> list[TrialRecord]:
        rows = self._conn.execute(
            "SELECT trial_id, config, state, seed, repetition, resource, trial_dir, worker_id, gpu, "
            "created, started, finished, exit_code, error_kind, error, last_metrics, runs, run_info "
            "FROM trials ORDER BY trial_id"
        ).fetchall()
        # Every JSON cell of the table parsed in one call: a study of 10^5 trials reads in seconds.
        cells = _loads_all([text for r in rows for text in (r[1], r[15], r[17])])
        out = [_trial_from_row(r, cells[3 * i:3 * i + 3]) for i, r in enumerate(rows)]
        if states is not None:
            wanted = set(states)
            out = [t for t in out if t.state in wanted]
        if with_reports and out:
            by_id = {t.trial_id: t for t in out}
            reports = self._conn.execute(
                "SELECT trial_id, seq, step, metrics, time FROM reports ORDER BY trial_id, seq"
            ).fetchall()
            metrics = _loads_all([r[3] for r in reports])
            for (tid, seq, step, _, when), values in zip(reports, metrics, strict=True):
                if tid in by_id:
                    by_id[tid].reports.append(Report(tid, step, values, when, seq))
        return out

    def trial(self, trial_id: int) -> TrialRecord:
        row = self._conn.execute(
            "SELECT trial_id, config, state, seed, repetition, resource, trial_dir, worker_id, gpu, "
            "created, started, finished, exit_code, error_kind, error, last_metrics, runs, run_info "
            "FROM trials WHERE trial_id=?", (trial_id,)
        ).fetchone()
        if row is None:
            raise StudyError(f"no trial {trial_id} in this study")
        trial = _trial_from_row(row)
        trial.reports = self.reports(trial_id)
        return trial

    def reports(self, trial_id: int) -> list[Report]:
        return [Report(trial_id, step, json.loads(m), when, seq) for seq, step, m, when in
                self._conn.execute("SELECT seq, step, metrics, time FROM reports WHERE trial_id=? "
                                   "ORDER BY seq", (trial_id,))]

    # -- events ----------------------------------------------------------------------------------
    def add_event(self, kind: str, *, time: float, trial_id: int | None = None,
                  data: dict[str, Any] | None = None) -> None:
        with self._tx() as conn:
            self._event(conn, time, trial_id, kind, data or {})

    @staticmethod
    def _event(conn: sqlite3.Connection, when: float, trial_id: int | None, kind: str,
               data: dict[str, Any]) -> None:
        conn.execute("INSERT INTO events (time, trial_id, kind, data) VALUES (?, ?, ?, ?)",
                     (when, trial_id, kind, _dumps(data)))

    def events(self, kind: str | None = None, *, since: int = 0) -> list[Event]:
        """Events in order; ``kind`` filters (e.g. "decision"), ``since`` skips ids <= since."""
        query = "SELECT event_id, time, trial_id, kind, data FROM events WHERE event_id > ?"
        args: list[Any] = [since]
        if kind is not None:
            query += " AND kind = ?"
            args.append(kind)
        return [Event(eid, when, tid, k, json.loads(d)) for eid, when, tid, k, d in
                self._conn.execute(query + " ORDER BY event_id", args)]


def _writable(path: Path) -> bool:
    """Whether the store's folder and file can be written (else it is read-only media)."""
    import os

    try:
        return os.statvfs(path.parent).f_flag & os.ST_RDONLY == 0 and os.access(
            path.parent, os.W_OK) and os.access(path, os.W_OK)
    except OSError:
        return False


def _loads_all(texts: Sequence[str]) -> list[Any]:
    """Many JSON texts (each a cell this store wrote) parsed as one array."""
    if not texts:
        return []
    return list(json.loads("[" + ",".join(texts) + "]"))


def _trial_from_row(row: Sequence[Any], cells: Sequence[Any] | None = None) -> TrialRecord:
    (tid, config, state, seed, repetition, resource, trial_dir, worker_id, gpu, created, started,
     finished, exit_code, error_kind, error, last_metrics, runs, run_info) = row
    if cells is None:
        cells = (json.loads(config), json.loads(last_metrics), json.loads(run_info))
    return TrialRecord(
        trial_id=tid, config=cells[0], state=TrialState(state), seed=seed,
        repetition=repetition, resource=resource, trial_dir=trial_dir, worker_id=worker_id, gpu=gpu,
        created=created, started=started, finished=finished, exit_code=exit_code,
        error_kind=ErrorKind(error_kind) if error_kind else None, error=error,
        last_metrics=cells[1], runs=runs, run_info=cells[2],
    )


