"""What the dashboard shows, as plain JSON-ready dicts, read from a study folder (read-only).

Every function here takes a :class:`~hpsweep.store.StudyDir` or records already read from its store
and returns dicts of JSON types only (non-finite numbers become ``None``), so the same data feeds
the live server and the exported HTML file.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsweep.store import Event, Store, StudyDir
from hpsweep.trial import TrialRecord, TrialState

__all__ = [
    "StudyInfo",
    "clean",
    "learning_marks",
    "read_study",
    "seed_groups",
    "study_bundle",
    "timeline",
    "trial_detail",
    "trial_json",
]


def clean(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None and tuples made lists (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


@dataclass(frozen=True)
class StudyInfo:
    """One study as read at one moment: its options, trials (with reports) and events."""

    study: StudyDir
    name: str
    metrics: tuple[str, ...]
    modes: tuple[str, ...]
    options: dict[str, Any]
    trials: tuple[TrialRecord, ...]
    events: tuple[Event, ...]
    live: bool

    @property
    def metric(self) -> str:
        return self.metrics[0]

    @property
    def mode(self) -> str:
        return self.modes[0]


def read_study(study: StudyDir) -> StudyInfo:
    """Read everything the dashboard needs from ``study`` through a read-only store."""
    study.require()
    try:
        options = dict(study.read_sweep().get("options", {}))
    except Exception:  # a study whose sweep file is missing still shows its trials
        options = {}
    metrics = tuple(options.get("metrics") or ["loss"])
    modes = tuple(options.get("modes") or ["min"] * len(metrics))
    store = Store.open(study.db, readonly=True)
    try:
        name = store.name or str(options.get("name") or study.root.name)
        trials = tuple(store.trials(with_reports=True))
        events = tuple(store.events())
    finally:
        store.close()
    return StudyInfo(study=study, name=name, metrics=metrics, modes=modes, options=options,
                     trials=trials, events=events, live=study.is_locked())


def _value(trial: TrialRecord, metric: str) -> float | None:
    value = trial.value(metric)
    return None if value is None or math.isnan(value) else value


def trial_json(trial: TrialRecord, metrics: Sequence[str], *, reports: bool = True) -> dict[str, Any]:
    """One trial as the API returns it (``value``: the first metric's last finite value)."""
    duration = (trial.finished - trial.started) if trial.started and trial.finished else None
    out: dict[str, Any] = {
        "trial_id": trial.trial_id, "state": trial.state.value, "config": trial.config,
        "value": _value(trial, metrics[0]) if metrics else None,
        "values": {m: _value(trial, m) for m in metrics},
        "metrics": trial.last_metrics, "seed": trial.seed, "repetition": trial.repetition,
        "resource": trial.resource, "worker_id": trial.worker_id, "gpu": trial.gpu,
        "created": trial.created, "started": trial.started, "finished": trial.finished,
        "duration": duration, "exit_code": trial.exit_code,
        "error_kind": trial.error_kind.value if trial.error_kind else None, "error": trial.error,
        "trial_dir": trial.trial_dir, "runs": trial.runs, "n_reports": len(trial.reports),
    }
    if reports:
        out["reports"] = [{"seq": r.seq, "step": r.step, "time": r.time, "metrics": r.metrics}
                          for r in trial.reports]
    return clean(out)


def _best(info: StudyInfo) -> dict[str, Any] | None:
    done = [(v, t) for t in info.trials if t.state is TrialState.COMPLETED
            and (v := _value(t, info.metric)) is not None]
    if not done:
        return None
    pick = min if info.mode == "min" else max
    value, trial = pick(done, key=lambda vt: vt[0])
    return clean({"trial_id": trial.trial_id, "value": value, "config": trial.config})


def summary(info: StudyInfo, study_id: str) -> dict[str, Any]:
    """The study list's row for ``info``."""
    counts: dict[str, int] = {}
    for t in info.trials:
        counts[t.state.value] = counts.get(t.state.value, 0) + 1
    return clean({
        "id": study_id, "name": info.name, "path": str(info.study.root), "live": info.live,
        "n_trials": len(info.trials), "counts": counts, "metric": info.metric, "mode": info.mode,
        "metrics": list(info.metrics), "modes": list(info.modes), "best": _best(info),
        "strategy": info.options.get("strategy"), "scheduler": info.options.get("scheduler"),
        "last_event": info.events[-1].event_id if info.events else 0,
    })


def _event_json(event: Event) -> dict[str, Any]:
    return clean({"event_id": event.event_id, "time": event.time, "trial_id": event.trial_id,
                  "kind": event.kind, "data": event.data})


def timeline(info: StudyInfo) -> list[dict[str, Any]]:
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


def learning_marks(info: StudyInfo) -> list[dict[str, Any]]:
    """Points on the learning curves where a trial was stopped, paused or resumed."""
    by_id = {t.trial_id: t for t in info.trials}
    marks: list[dict[str, Any]] = []
    for event in info.events:
        trial = by_id.get(event.trial_id) if event.trial_id is not None else None
        if trial is None:
            continue
        kind = None
        if event.kind == "resume":
            kind = "resumed"
        elif event.kind == "end" and event.data.get("state") in ("stopped", "paused"):
            kind = str(event.data["state"])
        if kind is None:
            continue
        point = _report_before(trial, event.time, info.metric)
        if point is not None:
            marks.append({"trial_id": trial.trial_id, "kind": kind, "step": point[0],
                          "value": point[1], "time": event.time})
    return clean(marks)


def _config_key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def seed_groups(info: StudyInfo) -> list[dict[str, Any]]:
    """Configurations run with more than one seed: per-seed values, mean, SD and SEM."""
    groups: dict[str, list[TrialRecord]] = {}
    for t in info.trials:
        groups.setdefault(_config_key(t.config), []).append(t)
    out: list[dict[str, Any]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        runs = [{"trial_id": t.trial_id, "seed": t.seed, "repetition": t.repetition,
                 "state": t.state.value, "value": _value(t, info.metric)} for t in members]
        values = [r["value"] for r in runs if r["value"] is not None and r["state"] == "completed"]
        sd = statistics.stdev(values) if len(values) > 1 else None
        out.append({
            "config": members[0].config, "runs": runs, "n": len(values),
            "mean": statistics.fmean(values) if values else None, "sd": sd,
            "sem": sd / math.sqrt(len(values)) if sd is not None else None,
            "min": min(values) if values else None, "max": max(values) if values else None,
        })
    reverse = info.mode == "max"
    out.sort(key=lambda g: (g["mean"] is None, -g["mean"] if reverse and g["mean"] is not None
                            else g["mean"] or 0.0))
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


def study_bundle(info: StudyInfo, study_id: str) -> dict[str, Any]:
    """Everything the study page draws, in one answer."""
    return {
        "summary": summary(info, study_id),
        "options": clean({k: v for k, v in info.options.items() if k != "executor_options"}),
        "params": _param_kinds(info.trials),
        "trials": [trial_json(t, info.metrics) for t in info.trials],
        "events": [_event_json(e) for e in info.events],
        "timeline": timeline(info),
        "marks": learning_marks(info),
        "seed_groups": seed_groups(info),
        "now": time.time(),
    }


def _manifest(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def trial_detail(info: StudyInfo, trial_id: int) -> dict[str, Any] | None:
    """One trial with its command line, state history and the log files it has."""
    trial = next((t for t in info.trials if t.trial_id == trial_id), None)
    if trial is None:
        return None
    folder = Path(trial.trial_dir) if trial.trial_dir else info.study.trial_dir(trial_id)
    manifest = _manifest(folder / "manifest.json")
    try:
        relative = folder.resolve().relative_to(info.study.root.resolve()).as_posix()
    except ValueError:
        relative = None
    files = [f"{relative}/{name}" for name in ("stdout.log", "stderr.log")
             if relative is not None and (folder / name).is_file()]
    return clean({
        "study_id": None, "metric": info.metric, "metrics": list(info.metrics),
        "trial": trial_json(trial, info.metrics),
        "argv": manifest.get("argv"), "cwd": manifest.get("cwd"), "runs": manifest.get("runs", []),
        "history": [_event_json(e) for e in info.events if e.trial_id == trial_id],
        "files": files, "live": info.live,
    })
