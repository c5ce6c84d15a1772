"""Matplotlib figures of a study (PNG). Figures are built without pyplot's global state where
the drawing is ours (history, importance, learning curves, seed spread); Optuna's Matplotlib plots
(parallel coordinates, slices) are drawn inside an ``rc_context`` so their style does not leak."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import optuna
from matplotlib.figure import Figure

from hpsweep.results._series import history, seed_spread
from hpsweep.results._study import StudyData

__all__ = ["mpl_history", "mpl_importance", "mpl_optuna", "mpl_seeds"]


def mpl_history(data: StudyData, metric: str | None = None) -> Figure:
    """Objective per trial with the best so far, by trial number and by wall-clock time."""
    h = history(data, metric)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_trial, ax_time = fig.subplots(1, 2)
    ax_trial.scatter(h.trial_ids, h.values, s=18, color="tab:blue", label=h.metric)
    ax_trial.step(h.trial_ids, h.best_by_trial, where="post", color="tab:red", label="best so far")
    ax_trial.set(xlabel="trial", ylabel=h.metric, title="best so far over trials")
    ax_time.scatter(h.elapsed, h.values_by_time, s=18, color="tab:blue", label=h.metric)
    ax_time.step(h.elapsed, h.best_by_time, where="post", color="tab:red", label="best so far")
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


def mpl_optuna(plot: Callable[..., Any], study: optuna.Study, data: StudyData, **kw: Any
               ) -> Figure:
    """Run one of ``optuna.visualization.matplotlib``'s plots and return its Figure."""
    if data.is_multi_objective:
        kw.setdefault("target", lambda t: t.values[0])
        kw.setdefault("target_name", data.metric)
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        axes = plot(study, **kw)
    panels = list(np.atleast_1d(axes).ravel())
    fig = panels[0].figure
    fig.set_size_inches(max(fig.get_size_inches()[0], 8), max(fig.get_size_inches()[1], 4.5))
    fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.17))  # room for rotated labels
    bars = [a for a in fig.axes if a not in panels]  # the slice plot's colour bar (trial number)
    if bars and getattr(plot, "__name__", "") == "plot_slice":
        # Optuna lays its colour bar over the last panel once the figure is resized: give the
        # panels the left part and put each bar in a column of its own on the right
        fig.subplots_adjust(right=0.84)
        sub = fig.subplotpars
        for i, bar in enumerate(bars):
            bar.set_position((0.87 + 0.05 * i, sub.bottom, 0.018, sub.top - sub.bottom))
    return fig


def mpl_curves(data: StudyData, metric: str | None = None) -> Figure:
    """One learning curve per trial (its reports of ``metric`` by step), coloured by the last
    value, so that many trials stay readable without a legend."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    metric = metric or data.metric
    curves = []
    for trial in data.trials:
        points = [(r.step if r.step is not None else i, float(r.metrics[metric]))
                  for i, r in enumerate(trial.reports)
                  if isinstance(r.metrics.get(metric), (int, float))
                  and not isinstance(r.metrics.get(metric), bool)
                  and np.isfinite(float(r.metrics[metric]))]
        if points:
            curves.append((trial.trial_id, points))
    from hpsweep._groups import study_groups

    groups = study_groups(data)
    winners = set(groups[0].trial_ids) if groups and groups[0].mean is not None else set()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    finals = [pts[-1][1] for _, pts in curves] or [0.0]
    norm = Normalize(min(finals), max(finals) if max(finals) > min(finals) else min(finals) + 1)
    cmap = colormaps["viridis_r" if data.mode_of(metric) == "min" else "viridis"]
    labelled = False
    for trial_id, points in sorted(curves, key=lambda c: c[0] in winners):  # the winner on top
        steps, values = zip(*points)
        marker = "." if len(points) == 1 else None  # a marker per step would hide long curves
        if trial_id in winners:
            ax.plot(steps, values, marker=marker, color="tab:red", linewidth=2.6, zorder=4,
                    label=None if labelled else "best configuration")
            labelled = True
        else:
            ax.plot(steps, values, marker=marker, alpha=0.6, linewidth=1.0,
                    color=cmap(norm(values[-1])))
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=f"last {metric}")
    if labelled:
        ax.legend(loc="best")
    ax.set(xlabel="step", ylabel=metric,
           title=f"{data.name}: learning curves of {len(curves)} trials")
    ax.grid(alpha=0.3)
    return fig
