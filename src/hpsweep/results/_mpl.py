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


def mpl_importance(scores: dict[str, float], *, title: str) -> Figure:
    """Horizontal bars, the most important parameter on top."""
    fig = Figure(figsize=(7, 0.5 * max(len(scores), 2) + 1.5), layout="constrained")
    ax = fig.subplots()
    names = list(scores)[::-1]
    ax.barh(names, [scores[n] for n in names], color="tab:blue")
    for y, name in enumerate(names):
        ax.text(scores[name], y, f" {scores[name]:.3f}", va="center")
    ax.set(xlabel="importance (normalised)", title=title)
    if not scores:
        ax.text(0.5, 0.5, "not enough completed trials", ha="center", transform=ax.transAxes)
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
    first = np.atleast_1d(axes).ravel()[0]
    fig = first.figure
    fig.set_size_inches(max(fig.get_size_inches()[0], 8), max(fig.get_size_inches()[1], 4.5))
    fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.17))  # room for rotated labels
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
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    finals = [pts[-1][1] for _, pts in curves] or [0.0]
    norm = Normalize(min(finals), max(finals) if max(finals) > min(finals) else min(finals) + 1)
    cmap = colormaps["viridis_r" if data.mode_of(metric) == "min" else "viridis"]
    for _, points in curves:
        steps, values = zip(*points)
        ax.plot(steps, values, marker=".", alpha=0.8, color=cmap(norm(values[-1])))
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=f"last {metric}")
    ax.set(xlabel="step", ylabel=metric,
           title=f"{data.name}: learning curves of {len(curves)} trials")
    ax.grid(alpha=0.3)
    return fig
