"""The Pareto front of finished trials over several metrics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hpsweep.errors import UsageError
from hpsweep.search.base import Mode
from hpsweep.trial import TrialRecord, TrialState

__all__ = ["pareto_front"]


def pareto_front(
    trials: Sequence[TrialRecord], metrics: Sequence[str], modes: Sequence[Mode]
) -> list[TrialRecord]:
    """The completed trials that no other completed trial dominates, in trial-id order.

    A trial dominates another when it is at least as good on every metric and strictly better
    on one. Trials missing a metric, or with a NaN, are left out.

    >>> from hpsweep.trial import TrialRecord, TrialState
    >>> def t(i, a, b):
    ...     return TrialRecord(i, {}, TrialState.COMPLETED, last_metrics={"a": a, "b": b})
    >>> [r.trial_id for r in pareto_front([t(0, 1, 3), t(1, 2, 2), t(2, 3, 3)], ["a", "b"],
    ...                                   ["min", "min"])]
    [0, 1]
    """
    if len(metrics) != len(modes) or not metrics:
        raise UsageError(
            f"pareto_front needs one mode per metric, got metrics {list(metrics)} and modes "
            f"{list(modes)}."
        )
    for mode in modes:
        if mode not in ("min", "max"):
            raise UsageError(f"pareto_front: a mode must be 'min' or 'max', got {mode!r}.")
    candidates: list[TrialRecord] = []
    rows: list[list[float]] = []
    for trial in trials:
        if trial.state != TrialState.COMPLETED:
            continue
        values = [trial.value(m) for m in metrics]
        if any(v is None or np.isnan(v) for v in values):
            continue
        candidates.append(trial)
        rows.append([float(v) if mode == "min" else -float(v)  # type: ignore[arg-type]
                     for v, mode in zip(values, modes)])
    if not candidates:
        return []
    points = np.asarray(rows)
    keep = [
        i for i in range(len(points))
        if not np.any(np.all(points <= points[i], axis=1) & np.any(points < points[i], axis=1))
    ]
    return sorted((candidates[i] for i in keep), key=lambda t: t.trial_id)
