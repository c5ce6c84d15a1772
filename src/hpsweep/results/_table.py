"""Trials as rows: a pandas DataFrame, ranking, the best k, the Pareto front, the decision log."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from hpsweep.errors import UsageError
from hpsweep.results._study import StudyData, trial_value
from hpsweep.store import Event, active_seconds
from hpsweep.trial import TrialRecord, TrialState

__all__ = [
    "best_trials",
    "decision_rows",
    "pareto_trials",
    "parse_sort",
    "sort_trials",
    "trial_record_row",
    "trials_frame",
]

_RESERVED = ("trial_id", "state", "repetition", "seed", "resource", "steps", "duration_s", "started",
             "finished", "error", "trial_dir", "n_reports")


def _duration(trial: TrialRecord) -> float | None:
    return active_seconds(trial)  # the runs' spans: time paused between runs is not counted


def trial_record_row(trial: TrialRecord) -> dict[str, Any]:
    """One trial as a flat dict: parameters by name, then metrics (``metric:`` prefixed when a
    metric has a parameter's name), then bookkeeping. Missing values are None."""
    row: dict[str, Any] = {"trial_id": trial.trial_id, "state": trial.state.value,
                           "repetition": trial.repetition, "seed": trial.seed}
    for key, value in trial.config.items():
        row[key] = value
    for key, value in trial.last_metrics.items():
        row[f"metric:{key}" if key in row or key in _RESERVED else key] = value
    error = trial.error
    if trial.error_kind is not None:
        error = f"{trial.error_kind.value}: {trial.error or ''}".strip()
    steps = [r.step for r in trial.reports if isinstance(r.step, (int, float))]
    row.update({"resource": trial.resource, "steps": max(steps) if steps else None,
                "duration_s": _duration(trial),
                "started": trial.started, "finished": trial.finished, "error": error,
                "trial_dir": trial.trial_dir, "n_reports": len(trial.reports)})
    return row


def trials_frame(trials: Iterable[TrialRecord]) -> pd.DataFrame:
    import pandas as pd  # only here: `hpsweep report` and `status` start without pandas

    """Every trial as one row of a DataFrame (columns as :func:`trial_record_row`)."""
    rows = [trial_record_row(t) for t in trials]
    if not rows:
        return pd.DataFrame(columns=list(_RESERVED))
    return pd.DataFrame(rows)


def parse_sort(text: str | None, data: StudyData) -> tuple[str, str]:
    """``--sort METRIC`` or ``METRIC:min|max`` as (metric, mode); default: the objective."""
    if not text:
        return data.metric, data.mode
    metric, _, mode = text.partition(":")
    metric = metric.strip()
    if not metric:
        raise UsageError(f"--sort {text!r}: name a metric, e.g. --sort val_loss or "
                         "--sort val_acc:max.")
    mode = mode.strip() or data.mode_of(metric)
    if mode not in ("min", "max"):
        raise UsageError(f"--sort {text!r}: the direction after ':' must be min or max.")
    return metric, mode


def sort_trials(trials: Sequence[TrialRecord], metric: str, mode: str) -> list[TrialRecord]:
    """Trials best first by ``metric``; trials without a finite value go last, in id order."""
    with_value = [t for t in trials if trial_value(t, metric) is not None]
    without = [t for t in trials if trial_value(t, metric) is None]
    sign = 1.0 if mode == "min" else -1.0
    with_value.sort(key=lambda t: (sign * (trial_value(t, metric) or 0.0), t.trial_id))
    return with_value + sorted(without, key=lambda t: t.trial_id)


def best_trials(data: StudyData, k: int = 5, *, metric: str | None = None,
                mode: str | None = None, states: set[TrialState] | None = None
                ) -> list[TrialRecord]:
    """The ``k`` best trials with a value of ``metric`` (default: the objective), among
    completed trials unless ``states`` says otherwise."""
    if k < 1:
        raise UsageError(f"--top must be >= 1, got {k}.")
    metric = metric or data.metric
    mode = mode or data.mode_of(metric)
    wanted = states or {TrialState.COMPLETED}
    pool = [t for t in data.trials if t.state in wanted and trial_value(t, metric) is not None]
    return sort_trials(pool, metric, mode)[:k]


def pareto_trials(data: StudyData) -> list[TrialRecord]:
    """The completed trials on the Pareto front of the study's metrics."""
    from hpsweep.search import pareto_front  # NumPy: only a multi-objective report needs it

    return pareto_front(list(data.trials), list(data.metrics), list(data.modes))  # type: ignore[arg-type]


_LOG_KINDS = ("decision", "start", "resume", "end", "interrupted")


def decision_rows(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The decision log: scheduler decisions and the starts, resumes and ends of trials."""
    rows: list[dict[str, Any]] = []
    for event in events:
        if event.kind not in _LOG_KINDS:
            continue
        row: dict[str, Any] = {"event_id": event.event_id, "time": event.time,
                               "trial_id": event.trial_id, "kind": event.kind}
        for key, value in event.data.items():
            row[key if key not in row else f"data:{key}"] = value
        rows.append(row)
    return rows


def format_cell(value: Any) -> str:
    """A compact text form of one cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)
