"""What the dashboard shows, as plain JSON-ready dicts, read from a study folder (read-only).

Every function here takes a :class:`~hpsweep.store.StudyDir` or records already read from its store
and returns dicts of JSON types only (non-finite numbers become ``None``), so the same data feeds
the live server and the exported HTML file.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hpsweep.results import ConfigGroup, StudyData, study_groups, thin_indices, trial_value
from hpsweep.store import Event, StudyDir, active_seconds
from hpsweep.trial import Report, TrialRecord

__all__ = [
    "clean",
    "learning_marks",
    "seed_groups",
    "study_bundle",
    "thin_reports",
    "timeline",
    "trial_detail",
    "trial_details",
    "trial_json",
]


MAX_PAUSE_MARKS = 4  # pause and resume marks per trial on the learning curves


def clean(value: Any) -> Any:
    """``value`` with non-finite floats made None and tuples made lists (strict JSON)."""
    kind = type(value)  # the exact types first: most values of a study are plain
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(k): clean(v) for k, v in value.items()}
    if kind is list:
        return [clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _clean_flat(values: dict[str, Any]) -> dict[str, Any]:
    """:func:`clean` of a dict of plain values (a report's metrics) without a call per value."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = type(value)
        if kind is float:
            out[str(key)] = value if math.isfinite(value) else None
        elif kind is int or kind is str or kind is bool or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = clean(value)
    return out


def _report_json(report: Report, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    step, when = report.step, report.time
    return {"seq": report.seq,
            "step": step if type(step) is int or step is None else clean(step),
            "time": when if type(when) is float and math.isfinite(when) else clean(when),
            "metrics": _clean_flat(report.metrics if metrics is None else metrics)}


def _number(value: Any) -> float | None:
    if type(value) is float:  # most metrics: no isinstance chain
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def thin_reports(reports: Sequence[Report], metric: str, mode: str, limit: int) -> list[Report]:
    """``limit`` of ``reports`` in their order when there are more: the first and the last, the
    first and the last that carry ``metric``, the one with its best value (by ``mode``), and the
    rest evenly spaced over the others (:func:`hpsweep.results._series.thin_indices`)."""
    if len(reports) <= limit:
        return list(reports)
    kept = thin_indices([_number(r.metrics.get(metric)) for r in reports], mode, limit)
    return [reports[i] for i in kept]


_LAST_GROUPS: list[tuple[StudyData, list[ConfigGroup]]] = []


def _groups(info: StudyData) -> list[ConfigGroup]:
    """``study_groups(info)``, computed once for the snapshot last asked about (the study list,
    the study page and its seed groups all rank the same snapshot: the same trials, even when
    the snapshot was copied to set its ``live`` flag)."""
    last = _LAST_GROUPS[0] if _LAST_GROUPS else None  # one read: the server has threads
    if last is not None and last[0].trials is info.trials and last[0].root == info.root \
            and last[0].metrics == info.metrics and last[0].modes == info.modes:
        return last[1]
    groups = study_groups(info)
    _LAST_GROUPS[:] = [(info, groups)]
    return groups


def _options(data: StudyData) -> dict[str, Any]:
    return dict(data.sweep.get("options") or {})


def trial_json(trial: TrialRecord, metrics: Sequence[str], *, reports: bool = True,
               shown: Sequence[Report] | None = None, only: Sequence[str] | None = None
               ) -> dict[str, Any]:
    """One trial as the API returns it (``value``: the first metric's last finite value).

    ``shown``: the reports to list instead of all of them (``n_reports`` stays the count of
    all); ``only``: the metrics each listed report keeps (the others are left out)."""
    duration = active_seconds(trial)  # the runs' spans, without the time paused between them
    steps = [r.step for r in trial.reports if isinstance(r.step, (int, float))]
    out: dict[str, Any] = {
        "trial_id": trial.trial_id, "state": trial.state.value, "config": trial.config,
        "value": trial_value(trial, metrics[0]) if metrics else None,
        "values": {m: trial_value(trial, m) for m in metrics},
        "metrics": trial.last_metrics, "seed": trial.seed, "repetition": trial.repetition,
        "resource": trial.resource, "steps": max(steps) if steps else None,
        "worker_id": trial.worker_id, "gpu": trial.gpu,
        "created": trial.created, "started": trial.started, "finished": trial.finished,
        "duration": duration, "exit_code": trial.exit_code,
        "error_kind": trial.error_kind.value if trial.error_kind else None, "error": trial.error,
        "trial_dir": trial.trial_dir, "runs": trial.runs, "n_reports": len(trial.reports),
    }
    out = clean(out)
    if reports:
        listed = trial.reports if shown is None else shown
        out["reports"] = [_report_json(r) for r in listed] if only is None else [
            _report_json(r, {m: r.metrics[m] for m in only if m in r.metrics}) for r in listed]
    return out


def _best(info: StudyData) -> dict[str, Any] | None:
    """The best configuration by its mean over its runs (repetitions, or the seeds of a seed
    study with its reference run): mean, SD, SEM, n and the runs' ids."""
    groups = _groups(info)
    if not groups or groups[0].mean is None:
        return None
    best = groups[0]
    return clean({"trial_id": best.representative.trial_id, "value": best.mean,
                  "mean": best.mean, "sd": best.sd, "sem": best.sem, "n": best.n,
                  "trial_ids": best.trial_ids, "config": best.config})


def summary(info: StudyData, study_id: str) -> dict[str, Any]:
    """The study list's row for ``info``."""
    counts: dict[str, int] = {}
    for t in info.trials:
        counts[t.state.value] = counts.get(t.state.value, 0) + 1
    options = _options(info)
    return clean({
        "id": study_id, "name": info.name, "path": str(info.root), "live": info.live,
        "n_trials": len(info.trials), "counts": counts, "metric": info.metric, "mode": info.mode,
        "metrics": list(info.metrics), "modes": list(info.modes), "best": _best(info),
        "strategy": options.get("strategy"), "scheduler": options.get("scheduler"),
        "seed_study": info.seeds_info() is not None,
        "last_event": info.events[-1].event_id if info.events else 0,
    })


def _event_json(event: Event) -> dict[str, Any]:
    return clean({"event_id": event.event_id, "time": event.time, "trial_id": event.trial_id,
                  "kind": event.kind, "data": event.data})


def timeline(info: StudyData) -> list[dict[str, Any]]:
    """Each run of each trial as a segment on its slot (and GPU): start, end, how it ended."""
    open_runs: dict[int, dict[str, Any]] = {}
    segments: list[dict[str, Any]] = []
    for event in info.events:
        if event.trial_id is None:
            continue
        if event.kind in ("start", "resume"):
            worker, gpu = event.data.get("worker_id"), event.data.get("gpu")
            lane = f"slot {worker}" if gpu in (None, "") else f"GPU {gpu} · slot {worker}"
            open_runs[event.trial_id] = {"trial_id": event.trial_id, "lane": lane,
                                         "start": event.time, "end": None, "kind": event.kind,
                                         "state": "running", "resource": event.data.get("resource")}
        elif event.kind in ("end", "interrupted") and event.trial_id in open_runs:
            run = open_runs.pop(event.trial_id)
            run["end"] = event.time
            run["state"] = str(event.data.get("state", "interrupted"))
            segments.append(run)
    now = time.time()
    for run in open_runs.values():
        run["end"] = now if info.live else run["start"]
        segments.append(run)
    segments.sort(key=lambda s: (s["start"], s["trial_id"]))
    return clean(segments)


def _report_before(trial: TrialRecord, when: float, metric: str) -> tuple[Any, float] | None:
    """(step, value) of the last report of ``metric`` at or before ``when``."""
    best: tuple[Any, float] | None = None
    for r in trial.reports:
        value = r.metrics.get(metric)
        if r.time <= when + 1e-6 and isinstance(value, (int, float)) and math.isfinite(value):
            best = (r.step if r.step is not None else r.seq, float(value))
    return best


def learning_marks(info: StudyData) -> list[dict[str, Any]]:
    """Points on the learning curves where a trial was stopped, paused or resumed.

    A stop or pause sits on the trial's last report before it ended; ``decided_at`` is the step
    of the scheduler's decision (a fast script may report a few more steps before it is killed).
    A trial paused and resumed more than :data:`MAX_PAUSE_MARKS` times (DyHPO advances trials one
    step at a time) keeps only its stop mark: a mark at every step would hide the curve.
    """
    by_id = {t.trial_id: t for t in info.trials}
    marks: list[dict[str, Any]] = []
    decided: dict[int, Any] = {}
    for event in info.events:
        trial = by_id.get(event.trial_id) if event.trial_id is not None else None
        if trial is None:
            continue
        kind = None
        if event.kind == "decision" and event.data.get("decision") in ("stop", "pause"):
            decided[trial.trial_id] = event.data.get("resource")
        elif event.kind == "resume":
            kind = "resumed"
        elif event.kind == "end" and event.data.get("state") in ("stopped", "paused"):
            kind = str(event.data["state"])
        if kind is None:
            continue
        point = _report_before(trial, event.time, info.metric)
        if point is not None:
            marks.append({"trial_id": trial.trial_id, "kind": kind, "step": point[0],
                          "value": point[1], "time": event.time,
                          "decided_at": decided.pop(trial.trial_id, None)})
    pauses: dict[int, int] = {}
    for mark in marks:
        if mark["kind"] in ("paused", "resumed"):
            pauses[mark["trial_id"]] = pauses.get(mark["trial_id"], 0) + 1
    marks = [m for m in marks if m["kind"] == "stopped" or pauses.get(m["trial_id"], 0) <= MAX_PAUSE_MARKS]
    return clean(marks)


def seed_groups(info: StudyData) -> list[dict[str, Any]]:
    """Configurations run more than once: per-run values, mean, SD and SEM, best mean first.

    In a study made by ``hpsweep seeds`` the seed is a parameter (``seed_arg`` in ``seeds.json``)
    and the reference run counts as one seed (trial id -1); elsewhere the repetitions of one
    configuration are its runs. The same groups rank configurations in the report and the CSV.
    """
    seeds = info.seeds_info() or {}
    seed_arg = str(seeds["seed_arg"]) if seeds.get("seed_arg") else None
    out: list[dict[str, Any]] = []
    for group in _groups(info):
        if group.n < 2:
            continue
        runs = [{"trial_id": t.trial_id, "state": t.state.value, "reference": t.trial_id < 0,
                 "seed": t.config.get(seed_arg, t.seed) if seed_arg else t.seed,
                 "value": trial_value(t, info.metric)} for t in group.runs]
        values = list(group.values)
        out.append({
            "config": group.config, "runs": runs, "n": group.n, "mean": group.mean,
            "sd": group.sd, "sem": group.sem,
            "min": min(values) if values else None, "max": max(values) if values else None,
        })
    return clean(out)


def _param_kinds(trials: Sequence[TrialRecord]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for t in trials:
        for name, value in t.config.items():
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            kind = "number" if numeric else "category"
            if kinds.get(name) == "category":
                continue
            kinds[name] = kind
    return kinds


CURVE_POINTS = 40_000  # learning-curve points of all trials together in an exported study page
CURVE_MIN, CURVE_MAX = 3, 200  # points per curve there: first, last and best at the least


def _curve_limit(n_curves: int, total: int) -> int:
    return max(CURVE_MIN, min(CURVE_MAX, total // max(n_curves, 1)))


def study_bundle(info: StudyData, study_id: str, *, curve_points: int | None = None
                 ) -> dict[str, Any]:
    """Everything the study page draws, in one answer.

    ``curve_points`` (the export) bounds the learning curves: each trial lists only its reports
    of the study's metrics, thinned by :func:`thin_reports` to about ``curve_points`` points in
    all (between :data:`CURVE_MIN` and :data:`CURVE_MAX` per trial). The live page (None) gets
    every report."""
    if curve_points is None:
        trials = [trial_json(t, info.metrics) for t in info.trials]
    else:
        metric, mode = info.metric, info.mode
        curves = {t.trial_id: [r for r in t.reports if _number(r.metrics.get(metric)) is not None]
                  for t in info.trials}
        limit = _curve_limit(sum(1 for c in curves.values() if c), curve_points)
        trials = [trial_json(t, info.metrics, only=info.metrics,
                             shown=thin_reports(curves[t.trial_id], metric, mode, limit))
                  for t in info.trials]
    return {
        "summary": summary(info, study_id),
        "options": clean({k: v for k, v in _options(info).items() if k != "executor_options"}),
        "params": _param_kinds(info.trials),
        "trials": trials,
        "events": [_event_json(e) for e in info.events],
        "timeline": timeline(info),
        "marks": learning_marks(info),
        "seed_groups": seed_groups(info),
        "now": time.time(),
    }


def _manifest(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            return dict(json.load(fh))
    except (OSError, ValueError, TypeError):
        return {}


DETAIL_POINTS = 100_000  # reports of all trial pages together in an export
DETAIL_MIN, DETAIL_MAX = 5, 1000  # reports per trial page there


def trial_detail(info: StudyData, trial_id: int) -> dict[str, Any] | None:
    """One trial with its command line, state history and the log files it has."""
    trial = next((t for t in info.trials if t.trial_id == trial_id), None)
    if trial is None:
        return None
    history = [_event_json(e) for e in info.events if e.trial_id == trial_id]
    return _detail(info, trial, history, None, _Folders(info.root))


def trial_details(info: StudyData, *, max_reports: int = DETAIL_POINTS,
                  rows: Sequence[dict[str, Any]] | None = None,
                  events: Sequence[dict[str, Any]] | None = None) -> dict[int, dict[str, Any]]:
    """:func:`trial_detail` of every trial, in one pass over the events (the export). Each
    trial lists at most ``max_reports`` / (number of trials) of its reports (between
    :data:`DETAIL_MIN` and :data:`DETAIL_MAX`), thinned by :func:`thin_reports`. ``rows`` and
    ``events``: the trials as :func:`trial_json` made them and the events as the study page
    lists them (:func:`study_bundle`'s, in the order of ``info.events``), reused (the rows but
    for their reports) rather than made again."""
    made_events = list(events) if events is not None else [_event_json(e) for e in info.events]
    history: dict[int, list[dict[str, Any]]] = {}
    for event, answer in zip(info.events, made_events):
        if event.trial_id is not None:
            history.setdefault(event.trial_id, []).append(answer)
    limit = max(DETAIL_MIN, min(DETAIL_MAX, max_reports // max(len(info.trials), 1)))
    made = {int(r["trial_id"]): r for r in rows or ()}
    folders = _Folders(info.root)
    return {t.trial_id: _detail(info, t, history.get(t.trial_id, []), limit, folders,
                                row=made.get(t.trial_id))
            for t in info.trials}


class _Folders:
    """Where a study's trial folders are, relative to the study folder, with links resolved as
    :meth:`pathlib.Path.resolve` does; each distinct parent folder is resolved once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self._parents: dict[str, str] = {}

    def folder(self, trial: TrialRecord) -> str:
        return trial.trial_dir or str(StudyDir(self.root).trial_dir(trial.trial_id))

    def relative(self, folder: str) -> str | None:
        """``folder`` relative to the study folder (POSIX), or None when it lies outside."""
        path = os.path.abspath(folder)
        parent, name = os.path.split(path)
        if not name or name in (".", "..") or os.path.islink(path):
            real = os.path.realpath(path)
        else:
            if parent not in self._parents:
                self._parents[parent] = os.path.realpath(parent)
            real = os.path.join(self._parents[parent], name)
        if real == self.real_root:
            return "."
        if not real.startswith(self.real_root.rstrip(os.sep) + os.sep):
            return None
        return Path(os.path.relpath(real, self.real_root)).as_posix()


def _detail(info: StudyData, trial: TrialRecord, history: list[dict[str, Any]],
            limit: int | None, folders: _Folders, *, row: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    folder = folders.folder(trial)
    manifest = _manifest(os.path.join(folder, "manifest.json"))
    relative = folders.relative(folder)
    files = [f"{relative}/{name}" for name in ("stdout.log", "stderr.log")
             if relative is not None and os.path.isfile(os.path.join(folder, name))]
    shown = None if limit is None else thin_reports(trial.reports, info.metric, info.mode, limit)
    if row is None:
        answer = trial_json(trial, info.metrics, shown=shown)
    else:
        listed = trial.reports if shown is None else shown
        answer = {**{k: v for k, v in row.items() if k != "reports"},
                  "reports": [_report_json(r) for r in listed]}
    return {"study_id": None, "study_name": clean(info.name), "metric": clean(info.metric),
            "metrics": clean(list(info.metrics)), "trial": answer,
            "argv": clean(manifest.get("argv")), "cwd": clean(manifest.get("cwd")),
            "runs": clean(manifest.get("runs", [])), "history": history, "files": files,
            "live": info.live}
