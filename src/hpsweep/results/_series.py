"""The numbers behind the plots, shared by the Matplotlib and Plotly renderers.

Learning curves are thinned before they are drawn (:func:`thin_indices`, :func:`curves`): a
study of 10,000 trials with hundreds of reports each would otherwise draw millions of points that
no picture can show. Each curve keeps its first, last and best point, the rest evenly spaced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsweep.errors import UsageError
from hpsweep.results._study import StudyData, trial_value
from hpsweep.trial import TrialState

__all__ = ["Curve", "History", "SeedSpread", "Slice", "curves", "history", "seed_spread", "slices",
           "thin_indices"]

CURVE_POINTS = 100_000  # points of all learning curves of one plot together
CURVE_MIN, CURVE_MAX = 3, 500  # points per curve


@dataclass(frozen=True)
class History:
    """Objective per completed trial, and the best so far by trial number and by time."""

    metric: str
    trial_ids: tuple[int, ...]
    values: tuple[float, ...]
    best_by_trial: tuple[float, ...]
    elapsed: tuple[float, ...]  # seconds from the first start, in finishing order
    values_by_time: tuple[float, ...]
    best_by_time: tuple[float, ...]


def _running_best(values: list[float], mode: str) -> list[float]:
    if not values:
        return []
    arr = np.asarray(values, dtype=float)
    out = np.minimum.accumulate(arr) if mode == "min" else np.maximum.accumulate(arr)
    return [float(v) for v in out]


def history(data: StudyData, metric: str | None = None) -> History:
    metric = metric or data.metric
    mode = data.mode_of(metric)
    done = [t for t in data.trials if t.state is TrialState.COMPLETED
            and trial_value(t, metric) is not None]
    done.sort(key=lambda t: t.trial_id)
    values = [float(trial_value(t, metric) or 0.0) for t in done]
    starts = [t.started for t in data.trials if t.started is not None]
    t0 = min(starts) if starts else 0.0
    by_time = sorted(done, key=lambda t: (t.finished or t.started or 0.0, t.trial_id))
    elapsed = [float((t.finished or t.started or t0) - t0) for t in by_time]
    timed_values = [float(trial_value(t, metric) or 0.0) for t in by_time]
    return History(metric=metric, trial_ids=tuple(t.trial_id for t in done),
                   values=tuple(values), best_by_trial=tuple(_running_best(values, mode)),
                   elapsed=tuple(elapsed), values_by_time=tuple(timed_values),
                   best_by_time=tuple(_running_best(timed_values, mode)))


@dataclass(frozen=True)
class SeedSpread:
    """Values per summary key over the seeds of a seed-gathering study."""

    keys: tuple[str, ...]
    seeds: tuple[Any, ...]
    values: dict[str, tuple[float, ...]]


def seed_spread(data: StudyData, keys: tuple[str, ...] | None = None) -> SeedSpread:
    """The completed runs of a seed-gathering study (plus its reference run when recorded); for
    another study, the runs of its best configuration that ran more than once (repetitions).
    Different configurations are never pooled."""
    if data.seeds_info() is None:
        return _repetition_spread(data, keys)
    info = data.seeds_info() or {}
    keys = keys or tuple(info.get("summary_keys") or data.metrics)
    seed_arg = str(info.get("seed_arg", "seed"))
    done = [t for t in data.trials if t.state is TrialState.COMPLETED]
    seeds: list[Any] = [t.config.get(seed_arg, t.seed) for t in done]
    values: dict[str, list[float]] = {k: [] for k in keys}
    original = info.get("original") or {}
    if original.get("metrics"):
        seeds.insert(0, original.get("seed"))
    for key in keys:
        if original.get("metrics"):
            raw = original["metrics"].get(key)
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                values[key].append(float(raw))
        values[key].extend(v for t in done if (v := trial_value(t, key)) is not None)
    return SeedSpread(keys=tuple(keys), seeds=tuple(seeds),
                      values={k: tuple(v) for k, v in values.items()})


def _repetition_spread(data: StudyData, keys: tuple[str, ...] | None) -> SeedSpread:
    from hpsweep._groups import study_groups

    repeated = [g for g in study_groups(data) if g.n > 1]
    if not repeated:
        raise UsageError(f"{data.root}: no configuration ran more than once, so there is no spread "
                         f"over seeds to draw; gather seeds first: hpsweep seeds {data.root} "
                         "--num-seeds 5 (or run with --repetitions).")
    runs = [t for t in repeated[0].runs if t.state is TrialState.COMPLETED]
    keys = keys or tuple(data.metrics)
    return SeedSpread(keys=tuple(keys), seeds=tuple(t.seed for t in runs),
                      values={k: tuple(v for t in runs if (v := trial_value(t, k)) is not None)
                              for k in keys})


def thin_indices(values: Sequence[float | None], mode: str, limit: int) -> list[int]:
    """The positions to keep of a series of ``len(values)`` points, in order: all of them when
    there are at most ``limit``; otherwise ``limit`` of them (five at the most below that): the
    first and the last, the first and the last with a value (not None), the best value (by
    ``mode``) and the rest evenly spaced over the others."""
    n = len(values)
    if n <= limit:
        return list(range(n))
    keep = {0, n - 1}
    valued = [i for i, v in enumerate(values) if v is not None]
    if valued:
        scores = [float(values[i] or 0.0) for i in valued]
        best = scores.index(min(scores) if mode == "min" else max(scores))  # the first best
        keep |= {valued[0], valued[-1], valued[best]}
    room = limit - len(keep)
    if room > 0:
        rest = [i for i in range(n) if i not in keep]
        step = len(rest) / room  # > 1: there are more points than the limit
        keep |= {rest[int(k * step + step / 2)] for k in range(room)}
    return sorted(keep)


@dataclass(frozen=True)
class Curve:
    """One trial's reports of a metric by step (thinned), its last value and all its points."""

    trial_id: int
    steps: tuple[float, ...]
    values: tuple[float, ...]
    n_points: int

    @property
    def last(self) -> float:
        return self.values[-1]


def _finite(value: Any) -> float | None:
    if type(value) is float:  # most metrics: no isinstance chain
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def curve_limit(n_curves: int, total: int = CURVE_POINTS) -> int:
    """Points per curve when ``n_curves`` share ``total``: between CURVE_MIN and CURVE_MAX."""
    return max(CURVE_MIN, min(CURVE_MAX, total // max(n_curves, 1)))


def curves(data: StudyData, metric: str | None = None, *, total: int = CURVE_POINTS
           ) -> list[Curve]:
    """Every trial's learning curve of ``metric`` (default: the objective) in trial-id order,
    each thinned by :func:`thin_indices` so that all together keep about ``total`` points."""
    metric = metric or data.metric
    mode = data.mode_of(metric)
    raw = []
    for trial in data.trials:
        points = [(r.step if r.step is not None else i, v) for i, r in enumerate(trial.reports)
                  if (v := _finite(r.metrics.get(metric))) is not None]
        if points:
            raw.append((trial.trial_id, points))
    limit = curve_limit(len(raw), total)
    out = []
    for trial_id, points in sorted(raw, key=lambda c: c[0]):
        kept = thin_indices([v for _, v in points], mode, limit)
        out.append(Curve(trial_id, tuple(float(points[i][0]) for i in kept),
                         tuple(points[i][1] for i in kept), len(points)))
    return out


@dataclass(frozen=True)
class Slice:
    """The objective against one parameter: a point per comparable completed trial.

    ``x`` holds the values (numbers), or for a categorical parameter each value's index in
    ``choices``; ``trial_ids`` colour the points."""

    param: str
    x: np.ndarray
    y: np.ndarray
    trial_ids: np.ndarray
    choices: tuple[Any, ...] | None
    log: bool


def slices(data: StudyData) -> list[Slice]:
    """One :class:`Slice` per searched parameter (sorted by name), over the trials Optuna's slice
    plot of the converted study shows: completed, with every objective finite; the value is the
    first objective. Parameters and their kinds as the conversion makes them
    (:func:`hpsweep.results._importance.param_kinds`): constants left out, choices in the
    space's order, a log axis where the space declares one."""
    from hpsweep.results._importance import _choice, _complete, param_kinds

    kinds = param_kinds(data, [t for t in data.trials if t.state is TrialState.COMPLETED])
    done = sorted(_complete(data), key=lambda t: t.trial_id)
    out = []
    for name in sorted(kinds):
        choices, log = kinds[name]
        having = [t for t in done if name in t.config]
        if choices:
            index = {c: i for i, c in enumerate(choices)}
            x = np.asarray([index[_choice(t.config[name])] for t in having], dtype=float)
        else:
            x = np.asarray([float(t.config[name]) for t in having], dtype=float)
        out.append(Slice(name, x, np.asarray([trial_value(t, data.metric) for t in having],
                                             dtype=float),
                         np.asarray([t.trial_id for t in having], dtype=float),
                         choices or None, log))
    return out
