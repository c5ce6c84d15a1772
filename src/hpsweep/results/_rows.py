"""A study's trials and configurations as rows (rank, parameters, metrics, duration, folder):
what ``hpsweep report`` prints and exports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hpsweep._groups import ConfigGroup
from hpsweep.results._study import StudyData
from hpsweep.store import active_seconds
from hpsweep.trial import TrialRecord

__all__ = ["group_rows", "report_rows"]


def _columns(data: StudyData, trials: Sequence[TrialRecord]) -> list[str]:
    params: list[str] = []
    for t in trials:
        params.extend(k for k in t.config if k not in params)
    metrics = list(data.metrics)
    for t in trials:
        metrics.extend(k for k in t.last_metrics if k not in metrics and k not in params)
    return ["rank", "trial_id", "state", *params, *metrics, "duration_s", "trial_dir"]


def report_rows(data: StudyData, trials: Sequence[TrialRecord]) -> list[dict[str, Any]]:
    """One row per trial: rank, id, state, parameters, metrics, duration and folder."""
    columns = _columns(data, trials)
    rows = []
    for rank, t in enumerate(trials, start=1):
        cells: dict[str, Any] = {"rank": rank, "trial_id": t.trial_id, "state": t.state.value,
                                 "duration_s": active_seconds(t),
                                 "trial_dir": t.trial_dir}
        for c in columns:
            if c not in cells:
                cells[c] = t.config.get(c, t.last_metrics.get(c))
        rows.append({c: cells.get(c) for c in columns})
    return rows


def group_rows(data: StudyData, groups: Sequence[ConfigGroup], metric: str) -> list[dict[str, Any]]:
    """One row per configuration: rank, its runs, parameters, mean, SD, SEM and n of ``metric``."""
    params: list[str] = []
    for g in groups:
        params.extend(k for k in g.config if k not in params)
    rows = []
    for rank, g in enumerate(groups, start=1):
        row: dict[str, Any] = {"rank": rank, "trials": " ".join("ref" if i < 0 else str(i)
                                                                 for i in g.trial_ids)}
        row.update({p: g.config.get(p) for p in params})
        row.update({metric: g.mean, f"{metric}_sd": g.sd, f"{metric}_sem": g.sem, "n": g.n,
                    "runs": len(g.runs)})
        rows.append(row)
    return rows
