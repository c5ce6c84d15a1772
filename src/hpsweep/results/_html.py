"""Plotly figures of a study (self-contained HTML), every one drawn here from arrays (history,
importance, slices, parallel coordinates, learning curves, seed spread). The learning curves
are thinned (:func:`~hpsweep.results._series.curves`) and drawn as a few traces, one per band
of last values, with gaps between trials, not a trace per trial."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hpsweep.results._series import Curve, History, Slice, curves, history, seed_spread, slices
from hpsweep.results._study import StudyData

if TYPE_CHECKING:
    from hpsweep.results._mpl import ParallelAxes

__all__ = ["html_curves", "html_history", "html_importance", "html_parallel", "html_seeds",
           "html_slice"]

BANDS = 8  # colour bands of the learning curves, by last value


def html_history(data: StudyData, metric: str | None = None, *, found: History | None = None
                 ) -> go.Figure:
    h = history(data, metric) if found is None else found
    fig = make_subplots(rows=1, cols=2, subplot_titles=("best so far over trials",
                                                        "best so far over time"))
    a = np.asarray  # arrays: Plotly checks them at once, not value by value
    fig.add_trace(go.Scatter(x=a(h.trial_ids), y=a(h.values), mode="markers", name=h.metric,
                             marker={"color": "#1f77b4"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=a(h.trial_ids), y=a(h.best_by_trial), mode="lines",
                             name="best so far", line={"shape": "hv", "color": "#d62728"}),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=a(h.elapsed), y=a(h.values_by_time), mode="markers",
                             showlegend=False, marker={"color": "#1f77b4"}), row=1, col=2)
    fig.add_trace(go.Scatter(x=a(h.elapsed), y=a(h.best_by_time), mode="lines", showlegend=False,
                             line={"shape": "hv", "color": "#d62728"}), row=1, col=2)
    fig.update_xaxes(title_text="trial", row=1, col=1)
    fig.update_xaxes(title_text="seconds since the first start", row=1, col=2)
    fig.update_yaxes(title_text=h.metric)
    fig.update_layout(title=f"{data.name}: optimization history ({data.mode_of(h.metric)} "
                            f"{h.metric})")
    return fig


def html_importance(scores: dict[str, float], *, title: str, note: str = "") -> go.Figure:
    names = list(scores)[::-1]
    fig = go.Figure(go.Bar(x=[scores[n] for n in names], y=names, orientation="h",
                           text=[f"{scores[n]:.3f}" for n in names], textposition="outside"))
    fig.update_layout(title=title, xaxis_title="importance (normalised)")
    if note:
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=1.0, xanchor="left",
                           yanchor="bottom", showarrow=False, font={"color": "#c92a2a", "size": 11})
    return fig


def html_seeds(data: StudyData) -> go.Figure:
    spread = seed_spread(data)
    keys = spread.keys or (data.metric,)
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=list(keys))
    for col, key in enumerate(keys, start=1):
        values = np.asarray(spread.values.get(key, ()), dtype=float)
        fig.add_trace(go.Box(y=values, name=key, boxpoints="all", jitter=0.4,
                             boxmean="sd", showlegend=False), row=1, col=col)
    fig.update_layout(title=f"{data.name}: spread over random seeds (mean and SD dashed)")
    return fig


def html_slice(data: StudyData, *, found: list[Slice] | None = None) -> go.Figure:
    """The objective against each parameter (:func:`~hpsweep.results._series.slices`), the
    panels sharing the objective's axis, the points coloured by trial id (one colour bar)."""
    found = slices(data) if found is None else found
    fig = make_subplots(rows=1, cols=max(len(found), 1), shared_yaxes=True)
    ids = np.concatenate([s.trial_ids for s in found]) if found else np.zeros(0)
    low, high = (float(ids.min()), float(ids.max())) if ids.size else (0.0, 1.0)
    for col, part in enumerate(found, start=1):
        labels = [str(c) for c in part.choices] if part.choices is not None else None
        x = np.asarray(labels, dtype=object)[part.x.astype(int)] if labels else part.x
        marker: dict[str, Any] = {"color": part.trial_ids, "colorscale": "Blues",
                                  "cmin": low, "cmax": high, "showscale": col == 1,
                                  "line": {"width": 0.5, "color": "grey"}}
        if col == 1:
            marker["colorbar"] = {"title": {"text": "trial"}}
        fig.add_trace(go.Scatter(x=x, y=part.y, mode="markers", marker=marker,
                                 customdata=part.trial_ids, showlegend=False, name=part.param,
                                 hovertemplate=f"trial %{{customdata}}<br>{part.param} %{{x}}<br>"
                                               f"{data.metric} %{{y}}<extra></extra>"),
                      row=1, col=col)
        fig.update_xaxes(title_text=part.param, row=1, col=col)
        if labels is not None:
            fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels,
                             row=1, col=col)
        elif part.log and part.x.size and (part.x > 0).all():
            fig.update_xaxes(type="log", row=1, col=col)
    fig.update_yaxes(title_text=data.metric, row=1, col=1)
    n = len(found[0].y) if found else 0
    fig.update_layout(title=f"{data.name}: {data.metric} against each parameter "
                            f"({n} completed trials)")
    if len(found) > 3:
        fig.update_layout(width=300 * len(found))  # each panel keeps a useful width
    return fig


def html_curves(data: StudyData, metric: str | None = None, *,
               found: list[Curve] | None = None, winners: set[int] | None = None
               ) -> go.Figure:
    """The learning curves of every trial (thinned), coloured in :data:`BANDS` bands of their
    last value, the best configuration's runs on top. Each band is one trace, its trials
    separated by gaps (NumPy arrays: Plotly checks them at once, not value by value)."""
    from plotly.colors import sample_colorscale

    from hpsweep._groups import study_groups

    metric = metric or data.metric
    found = curves(data, metric) if found is None else found
    if winners is None:  # the best configuration's runs
        groups = study_groups(data)
        winners = set(groups[0].trial_ids) if groups and groups[0].mean is not None else set()
    finals = np.asarray([c.last for c in found] or [0.0])
    edges = np.linspace(float(finals.min()), float(finals.max()), BANDS + 1)
    colours = sample_colorscale("Viridis", [(b + 0.5) / BANDS for b in range(BANDS)])
    if data.mode_of(metric) == "min":
        colours = colours[::-1]  # the best band yellow, as in the PNG
    bands: list[list[Any]] = [[] for _ in range(BANDS)]
    for c in found:
        if c.trial_id not in winners:
            band = min(int(np.searchsorted(edges, c.last, side="right")) - 1, BANDS - 1)
            bands[band].append(c)
    fig = go.Figure()
    for band, members in enumerate(bands):
        if not members:
            continue
        xs = np.concatenate([np.append(c.steps, np.nan) for c in members])
        ys = np.concatenate([np.append(c.values, np.nan) for c in members])
        ids = np.concatenate([np.full(len(c.steps) + 1, float(c.trial_id)) for c in members])
        fig.add_trace(go.Scatter(
            x=xs, y=ys, customdata=ids, mode="lines", opacity=0.6,
            line={"width": 1, "color": colours[band]},
            name=f"last {metric} {edges[band]:.4g} to {edges[band + 1]:.4g}",
            hovertemplate="trial %{customdata}<br>step %{x}<br>" + metric
                          + " %{y}<extra></extra>"))
    for i, c in enumerate(c for c in found if c.trial_id in winners):
        fig.add_trace(go.Scatter(x=np.asarray(c.steps), y=np.asarray(c.values),
                                 mode="lines+markers" if len(c.steps) == 1 else "lines",
                                 name="best configuration", showlegend=i == 0, legendgroup="best",
                                 line={"width": 3, "color": "#d62728"},
                                 hovertemplate=f"trial {c.trial_id} (best)<br>step %{{x}}<br>"
                                               f"{metric} %{{y}}<extra></extra>"))
    thinned = sum(c.n_points for c in found) > sum(len(c.steps) for c in found)
    fig.update_layout(title=f"{data.name}: learning curves of {len(found)} trials"
                            + (" (thinned: first, last, best kept)" if thinned else ""),
                      xaxis_title="step", yaxis_title=metric)
    return fig


def html_parallel(data: StudyData, metric: str | None = None, *,
                  found: ParallelAxes | None = None) -> go.Figure:
    """Parallel coordinates of the completed trials (the axes of the PNG's
    :func:`~hpsweep.results._mpl.parallel_axes`), coloured by the objective."""
    from hpsweep.results._mpl import parallel_axes

    axes = parallel_axes(data, metric) if found is None else found
    dims = []
    for axis in axes.columns:
        dim: dict[str, Any] = {"label": axis.name, "values": np.asarray(axis.values),
                               "range": [0.0, 1.0], "tickvals": list(axis.ticks),
                               "ticktext": list(axis.labels)}
        dims.append(dim)
    fig = go.Figure(go.Parcoords(
        dimensions=dims, line={"color": np.asarray(axes.objective), "colorscale": "Viridis",
                               "reversescale": axes.mode == "min", "showscale": True,
                               "colorbar": {"title": {"text": axes.metric}}}))
    fig.update_layout(title=f"{data.name}: parallel coordinates of {axes.n} completed trials "
                            f"({axes.mode} {axes.metric})")
    return fig
