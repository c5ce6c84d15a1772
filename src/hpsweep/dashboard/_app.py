"""The dashboard's read-only routes, independent of the HTTP server that carries them.

:meth:`Dashboard.get` maps a path and query to a :class:`Response`; the server in ``_server``
only adds sockets, the access token and headers. Tests call :meth:`Dashboard.get` directly.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from hpsweep.dashboard._data import clean, study_bundle, summary, trial_detail, trial_json
from hpsweep.dashboard._files import PathRefused, resolve_inside, tail
from hpsweep.dashboard._importance import importance
from hpsweep.errors import StudyError, UsageError
from hpsweep.results import StudyData, load_study_data
from hpsweep.store import Store, StudyDir

__all__ = ["SCRIPTS", "Dashboard", "Response", "plotly_js_path", "static_text"]

SCRIPTS = ("util.js", "charts.js", "app.js")  # the page's own scripts, in loading order
_STATIC = {**dict.fromkeys(SCRIPTS, "text/javascript"), "style.css": "text/css",
           "index.html": "text/html"}
_STUDY = re.compile(r"^/api/studies/(\d+)(/.*)?$")
_TRIAL = re.compile(r"^/trials/(\d+)$")


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status, content type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
    return Response(status, "application/json", body, {"Cache-Control": "no-store"})


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def static_text(name: str) -> str:
    """The text of one file of the page (``index.html``, ``app.js``, ``style.css``)."""
    return resources.files("hpsweep.dashboard").joinpath("static", name).read_text("utf-8")


def plotly_js_path() -> Path:
    """The Plotly bundle shipped inside the ``plotly`` Python package (never a CDN)."""
    try:
        import plotly
    except ImportError as exc:
        raise UsageError("the dashboard needs the `plotly` package: pip install plotly") from exc
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise UsageError(f"the plotly package has no {path.name} at {path.parent}; "
                         "reinstall plotly.")
    return path


class _Source:
    """One study folder, re-read only when its store changed since the last read."""

    def __init__(self, study: StudyDir) -> None:
        self.study = study
        self._lock = threading.Lock()
        self._importance_lock = threading.Lock()
        self._stamp: tuple[int, ...] | None = None
        self._info: StudyData | None = None
        self._importance: tuple[tuple[int, ...], dict[str, Any]] | None = None
        self._bundle: tuple[object, Response] | None = None

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever the controller writes (the database or its write-ahead log)."""
        out: list[int] = []
        for path in (self.study.db, self.study.db.with_name("study.db-wal"), self.study.lock_file):
            try:
                st = path.stat()
                out += [st.st_mtime_ns, st.st_size]
            except FileNotFoundError:
                out += [0, 0]
        return tuple(out)

    def info(self) -> StudyData:
        return self._snapshot()[1]

    def _snapshot(self) -> tuple[tuple[int, ...], StudyData]:
        with self._lock:
            stamp = self.stamp()
            if self._info is None or stamp != self._stamp:
                self._info, self._stamp = load_study_data(self.study.root), stamp
            return stamp, replace(self._info, live=self.study.is_locked())

    def bundle(self, study_id: str) -> Response:
        """The study page's answer, encoded once per change of the store."""
        stamp, info = self._snapshot()
        key = (stamp, info.live)
        cached = self._bundle
        if cached is not None and cached[0] == key:
            return cached[1]
        response = _json(study_bundle(info, study_id))
        self._bundle = (key, response)
        return response

    def importance(self) -> dict[str, Any]:
        info = self.info()
        key = tuple(sorted(t.trial_id for t in info.trials if t.state.is_final))
        with self._importance_lock:  # a slow fit must not hold up the study page or the poll
            if self._importance is None or self._importance[0] != key:
                self._importance = (key, importance(info))
            return self._importance[1]


class Dashboard:
    """The read-only routes over one or several study folders (ids are positions: 0, 1, ...)."""

    def __init__(self, *, studies: Sequence[str | Path]) -> None:
        if not studies:
            raise UsageError("no study folder given: hpsweep dashboard DIR [DIR ...]")
        self.sources = [_Source(_check_study(s)) for s in studies]

    # -- routing ---------------------------------------------------------------------------------
    def get(self, path: str, query: dict[str, list[str]] | None = None) -> Response:
        """Answer a GET for ``path`` (already split from its query string)."""
        query = query or {}
        try:
            return self._get(path, query)
        except BadRequest as exc:
            return _error(400, str(exc))

    def _get(self, path: str, query: dict[str, list[str]]) -> Response:
        if path in ("/", "/index.html"):
            return Response(200, "text/html; charset=utf-8", static_text("index.html").encode())
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path == "/api/studies":
            rows = [summary(s.info(), str(i)) for i, s in enumerate(self.sources)]
            return _json({"studies": rows})
        match = _STUDY.match(path)
        if match is None:
            return _error(404, f"no such page: {path}")
        index = int(match.group(1))
        if index >= len(self.sources):
            return _error(404, f"no study {index}: this dashboard serves {len(self.sources)}")
        return self._study(index, match.group(2) or "", query)

    def _static(self, name: str) -> Response:
        if name == "plotly.min.js":
            body = plotly_js_path().read_bytes()
            return Response(200, "text/javascript", body, {"Cache-Control": "max-age=86400"})
        if name not in _STATIC:
            return _error(404, f"no static file {name!r}")
        return Response(200, f"{_STATIC[name]}; charset=utf-8", static_text(name).encode(),
                        {"Cache-Control": "no-cache"})

    def _study(self, index: int, rest: str, query: dict[str, list[str]]) -> Response:
        source = self.sources[index]
        if rest in ("", "/"):
            return source.bundle(str(index))
        if rest == "/trials":
            return _json(_trials_answer(source.info()))
        if rest == "/events":
            return self._events(source, query)
        if rest == "/importance":
            return _json(source.importance())
        if rest == "/file":
            return self._file(source, query)
        trial = _TRIAL.match(rest)
        if trial is not None:
            detail = trial_detail(source.info(), int(trial.group(1)))
            if detail is None:
                return _error(404, f"no trial {trial.group(1)} in study {index}")
            detail["study_id"] = str(index)
            return _json(detail)
        return _error(404, f"no such page: /api/studies/{index}{rest}")

    def _events(self, source: _Source, query: dict[str, list[str]]) -> Response:
        since = _int_arg(query, "since", 0)
        store = Store.open(source.study.db, readonly=True)
        try:
            events = store.events(since=since)
        finally:
            store.close()
        last = events[-1].event_id if events else since
        return _json({"since": since, "last": last, "stamp": "-".join(map(str, source.stamp())),
                      "live": source.study.is_locked(),
                      "events": [{"event_id": e.event_id, "time": e.time, "trial_id": e.trial_id,
                                  "kind": e.kind} for e in events]})

    def _file(self, source: _Source, query: dict[str, list[str]]) -> Response:
        relative = (query.get("path") or [""])[0]
        try:
            target = resolve_inside(source.study.root, relative)
        except PathRefused as exc:
            return _error(403, str(exc))
        except FileNotFoundError:
            return _error(404, f"no file {relative!r} in the study folder")
        text, size = tail(target, _int_arg(query, "tail", 65536))
        return _json({"path": relative, "size": size, "text": text})


def _trials_answer(data: StudyData) -> dict[str, Any]:
    """Every trial in id order, and the same trials ranked as ``hpsweep report --format json
    --all`` lists them (the report's own ranking, so the two cannot drift apart): a
    configuration that ran more than once ranks by its mean, given in ``configurations``."""
    from hpsweep.cli.report import ranking

    _, ranked, configs = ranking(data, every=True)
    return {"metric": data.metric, "mode": data.mode,
            "trials": [trial_json(t, data.metrics) for t in data.trials],
            "ranked": clean(json.loads(json.dumps(ranked, default=str))),
            "configurations": clean(json.loads(json.dumps(configs or [], default=str)))}


class BadRequest(ValueError):
    """A query argument the API cannot take (answered with 400)."""


_INT_LIMIT = 2**63 - 1  # SQLite's largest integer


def _int_arg(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = (query.get(name) or [str(default)])[0]
    try:
        value = int(raw) if len(raw) <= 30 else _INT_LIMIT + 1
    except ValueError:
        return default
    if value > _INT_LIMIT:
        raise BadRequest(f"?{name}={raw[:30]} is larger than {_INT_LIMIT}")
    return max(0, value)


def _check_study(path: str | Path) -> StudyDir:
    study = StudyDir(path)
    if not study.root.is_dir():
        raise StudyError(f"study folder {path} does not exist: give the --out folder of a sweep.")
    if not study.exists():
        raise StudyError(f"{path} is not an hpsweep study folder (no study.db in it); "
                         "give the --out folder of a sweep, or run `hpsweep ls` to find one.")
    return study
