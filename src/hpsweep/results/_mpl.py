"""Matplotlib figures of a study (PNG), every one drawn here without pyplot's global state
(history, importance, slices, learning curves, parallel coordinates, seed spread). Many lines
(curves, parallel coordinates) are one ``LineCollection`` each, not an artist per trial."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from hpsweep.results._series import Curve, History, Slice, curves, history, seed_spread, slices
from hpsweep.results._study import StudyData

__all__ = ["Axis", "ParallelAxes", "mpl_curves", "mpl_history", "mpl_importance", "mpl_parallel",
           "mpl_seeds", "mpl_slice", "parallel_axes"]


def mpl_history(data: StudyData, metric: str | None = None, *, found: History | None = None
                ) -> Figure:
    """Objective per trial with the best so far, by trial number and by wall-clock time."""
    h = history(data, metric) if found is None else found
    a = np.asarray  # arrays: Matplotlib masks a sequence value by value
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_trial, ax_time = fig.subplots(1, 2)
    ax_trial.scatter(a(h.trial_ids), a(h.values), s=18, color="tab:blue", label=h.metric)
    ax_trial.step(a(h.trial_ids), a(h.best_by_trial), where="post", color="tab:red",
                  label="best so far")
    ax_trial.set(xlabel="trial", ylabel=h.metric, title="best so far over trials")
    ax_time.scatter(a(h.elapsed), a(h.values_by_time), s=18, color="tab:blue", label=h.metric)
    ax_time.step(a(h.elapsed), a(h.best_by_time), where="post", color="tab:red",
                 label="best so far")
    ax_time.set(xlabel="seconds since the first start", ylabel=h.metric,
                title="best so far over time")
    for ax in (ax_trial, ax_time):
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{data.name}: optimization history ({data.mode_of(h.metric)} {h.metric})")
    return fig


def mpl_importance(scores: dict[str, float], *, title: str, note: str = "") -> Figure:
    """Horizontal bars, the most important parameter on top."""
    fig = Figure(figsize=(7, 0.5 * max(len(scores), 2) + 1.5), layout="constrained")
    ax = fig.subplots()
    names = list(scores)[::-1]
    ax.barh(names, [scores[n] for n in names], color="tab:blue")
    for y, name in enumerate(names):
        ax.text(scores[name], y, f" {scores[name]:.3f}", va="center")
    ax.set(xlabel="importance (normalised)", title=title + (f"\n{note}" if note and scores else ""))
    if scores:
        ax.set_xlim(0, max(scores.values()) * 1.15 or 1.0)  # room for the value labels
    else:
        ax.text(0.5, 0.5, note or "not enough completed trials", ha="center", wrap=True,
                transform=ax.transAxes)
    return fig


def mpl_seeds(data: StudyData) -> Figure:
    """One panel per summary key: each seed's value, the mean and mean +- SD."""
    spread = seed_spread(data)
    keys = spread.keys or (data.metric,)
    fig = Figure(figsize=(max(6.0, 4.5 * len(keys)), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys)))
    rng = np.random.default_rng(0)  # horizontal jitter only
    for ax, key in zip(axes, keys):
        values = np.asarray(spread.values.get(key, ()), dtype=float)
        ax.scatter(rng.uniform(-0.08, 0.08, values.size), values, color="tab:blue", zorder=3,
                   label="one seed")
        if values.size:
            mean = float(values.mean())
            sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
            ax.errorbar([0.25], [mean], yerr=[sd], fmt="o", color="tab:red", capsize=6,
                        label=f"mean {mean:.4g} +- SD {sd:.3g}")
        ax.set(xlim=(-0.5, 0.6), xticks=[], ylabel=key, title=f"{key} over {values.size} seeds")
        ax.legend(loc="best")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"{data.name}: spread over random seeds")
    return fig


def mpl_slice(data: StudyData, *, found: list[Slice] | None = None) -> Figure:
    """The objective against each parameter (:func:`~hpsweep.results._series.slices`), a panel
    each sharing the objective's axis, the points coloured by trial id; a log axis where the
    space has one, the choices of a categorical parameter in the space's order."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    found = slices(data) if found is None else found
    fig = Figure(figsize=(max(8.0, 3.2 * len(found) + 1.5), 4.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(len(found), 1), sharey=True)).ravel()
    ids = np.concatenate([s.trial_ids for s in found]) if found else np.zeros(0)
    norm = Normalize(float(ids.min()) if ids.size else 0.0,
                     float(ids.max()) if ids.size and ids.max() > ids.min() else
                     (float(ids.min()) + 1 if ids.size else 1.0))
    cmap = colormaps["Blues"]
    for ax, part in zip(axes, found):
        ax.scatter(part.x, part.y, c=part.trial_ids, cmap=cmap, norm=norm, s=14,
                   edgecolors="grey", linewidths=0.4)
        if part.choices is not None:
            ax.set_xticks(range(len(part.choices)), [str(c) for c in part.choices],
                          rotation=30 if len(part.choices) > 4 else 0)
            ax.set_xlim(-0.5, len(part.choices) - 0.5)
        elif part.log and part.x.size and (part.x > 0).all():
            ax.set_xscale("log")
        ax.set(xlabel=part.param)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(data.metric)
    if not found:
        axes[0].text(0.5, 0.5, "no searched parameter varies", ha="center",
                     transform=axes[0].transAxes)
    n = len(found[0].y) if found else 0
    fig.suptitle(f"{data.name}: {data.metric} against each parameter ({n} completed trials)")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), label="trial")
    return fig


def mpl_curves(data: StudyData, metric: str | None = None, *,
               found: list[Curve] | None = None, winners: set[int] | None = None) -> Figure:
    """One learning curve per trial (its reports of ``metric`` by step, thinned as
    :func:`~hpsweep.results._series.curves` says), coloured by the last value, so that many
    trials stay readable without a legend. The curves are one ``LineCollection``; the best
    configuration's runs are lines of their own on top."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    from hpsweep._groups import study_groups

    metric = metric or data.metric
    found = curves(data, metric) if found is None else found
    if winners is None:  # the best configuration's runs
        groups = study_groups(data)
        winners = set(groups[0].trial_ids) if groups and groups[0].mean is not None else set()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    finals = [c.last for c in found] or [0.0]
    norm = Normalize(min(finals), max(finals) if max(finals) > min(finals) else min(finals) + 1)
    cmap = colormaps["viridis_r" if data.mode_of(metric) == "min" else "viridis"]
    others = [c for c in found if c.trial_id not in winners]
    lines = [np.column_stack([c.steps, c.values]) for c in others if len(c.steps) > 1]
    if lines:
        ax.add_collection(LineCollection(
            lines, colors=cmap(norm([c.last for c in others if len(c.steps) > 1])),
            linewidths=1.0, alpha=0.6))
    single = [c for c in others if len(c.steps) == 1]  # one report: a dot, not a line
    if single:
        ax.scatter([c.steps[0] for c in single], [c.values[0] for c in single], s=6,
                   c=[c.last for c in single], cmap=cmap, norm=norm, alpha=0.6)
    labelled = False
    for c in found:
        if c.trial_id in winners:
            ax.plot(c.steps, c.values, marker="." if len(c.steps) == 1 else None,
                    color="tab:red", linewidth=2.6, zorder=4,
                    label=None if labelled else "best configuration")
            labelled = True
    ax.autoscale_view()
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=f"last {metric}")
    if labelled:
        ax.legend(loc="best")
    thinned = sum(c.n_points for c in found) > sum(len(c.steps) for c in found)
    ax.set(xlabel="step", ylabel=metric,
           title=f"{data.name}: learning curves of {len(found)} trials"
                 + (" (thinned: first, last, best kept)" if thinned else ""))
    ax.grid(alpha=0.3)
    return fig


@dataclass(frozen=True)
class Axis:
    """One axis of the parallel coordinates: values in [0, 1], tick positions and labels."""

    name: str
    values: tuple[float, ...]
    ticks: tuple[float, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ParallelAxes:
    """The completed trials on parallel axes: each searched parameter, the objective last."""

    metric: str
    mode: str
    columns: tuple[Axis, ...]
    objective: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.objective)


def _axis(name: str, values: list[Any], log: bool) -> Axis:
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not numeric:
        choices = sorted({str(v) for v in values})
        index = {c: i for i, c in enumerate(choices)}
        span = max(len(choices) - 1, 1)
        return Axis(name, tuple(index[str(v)] / span for v in values),
                    tuple(i / span for i in range(len(choices))), tuple(choices))
    raw = np.asarray(values, dtype=float)
    use_log = log and bool((raw > 0).all())
    scaled = np.log10(raw) if use_log else raw
    low, high = float(scaled.min()), float(scaled.max())
    width = high - low or 1.0
    ticks = np.linspace(low, high, 5)
    labels = tuple(f"{10 ** t:.3g}" if use_log else f"{t:.3g}" for t in ticks)
    return Axis(name, tuple(float(v) for v in (scaled - low) / width),
                tuple(float(t) for t in (ticks - low) / width), labels)


def parallel_axes(data: StudyData, metric: str | None = None) -> ParallelAxes:
    """The axes of the parallel coordinates: one per parameter that every completed trial has
    and that varies (a log axis where the space says so; choices in sorted order), then
    ``metric`` (default: the objective)."""
    from hpsweep.results._study import trial_value
    from hpsweep.trial import TrialState

    metric = metric or data.metric
    done = [t for t in data.trials
            if t.state is TrialState.COMPLETED and trial_value(t, metric) is not None]
    space = data.space()
    names: list[str] = []
    for t in done:
        names.extend(k for k in t.config if k not in names)
    names = [n for n in names if all(n in t.config for t in done)
             and len({str(t.config[n]) for t in done}) > 1]
    params = dict(space.params) if space is not None else {}
    values = [float(trial_value(t, metric) or 0.0) for t in done]
    columns = [_axis(n, [t.config[n] for t in done], bool(getattr(params.get(n), "log", False)))
               for n in names]
    if done:
        columns.append(_axis(metric, list(values), False))
    return ParallelAxes(metric, data.mode_of(metric), tuple(columns), tuple(values))


def mpl_parallel(data: StudyData, metric: str | None = None, *,
                 found: ParallelAxes | None = None) -> Figure:
    """Parallel coordinates of the completed trials (:func:`parallel_axes`), one line per trial
    coloured by the objective, all in one ``LineCollection``; the best trial on top in red."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    axes = parallel_axes(data, metric) if found is None else found
    fig = Figure(figsize=(max(8.0, 1.8 * len(axes.columns)), 4.8), layout="constrained")
    ax = fig.subplots()
    ax.set(title=f"{data.name}: parallel coordinates of {axes.n} completed trials "
                 f"({axes.mode} {axes.metric})", yticks=[])
    if not axes.n:
        ax.text(0.5, 0.5, "no completed trial", ha="center", transform=ax.transAxes)
        return fig
    for x, axis in enumerate(axes.columns):
        ax.axvline(x, color="0.3", linewidth=0.8)
        for y, label in zip(axis.ticks, axis.labels):
            ax.text(x + 0.03, y, label, fontsize=7, va="center", color="0.25")
    points = np.array([axis.values for axis in axes.columns]).T  # one row per trial
    xs = np.arange(len(axes.columns), dtype=float)
    values = np.asarray(axes.objective)
    norm = Normalize(values.min(), values.max() if values.max() > values.min()
                     else values.min() + 1)
    cmap = colormaps["viridis_r" if axes.mode == "min" else "viridis"]
    order = np.argsort(values)[::-1] if axes.mode == "min" else np.argsort(values)  # best last
    ax.add_collection(LineCollection([np.column_stack([xs, points[i]]) for i in order],
                                     colors=cmap(norm(values[order])), linewidths=0.8,
                                     alpha=0.5))
    ax.plot(xs, points[order[-1]], color="tab:red", linewidth=2.2, zorder=4, label="best trial")
    ax.set(xlim=(-0.1, len(xs) - 0.6), ylim=(-0.05, 1.05), xticks=xs,
           xticklabels=[axis.name for axis in axes.columns])
    ax.legend(loc="upper right", fontsize=8)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=axes.metric)
    return fig
