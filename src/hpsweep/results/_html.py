"""Plotly figures of a study (self-contained HTML). Parallel coordinates, slices and learning
curves are Optuna's Plotly plots; history, importance and the seed spread are drawn here."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hpsweep.results._series import history, seed_spread
from hpsweep.results._study import StudyData

__all__ = ["html_history", "html_importance", "html_optuna", "html_seeds"]


def html_history(data: StudyData, metric: str | None = None) -> go.Figure:
    h = history(data, metric)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("best so far over trials",
                                                        "best so far over time"))
    fig.add_trace(go.Scatter(x=h.trial_ids, y=h.values, mode="markers", name=h.metric,
                             marker={"color": "#1f77b4"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=h.trial_ids, y=h.best_by_trial, mode="lines", name="best so far",
                             line={"shape": "hv", "color": "#d62728"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=h.elapsed, y=h.values_by_time, mode="markers", showlegend=False,
                             marker={"color": "#1f77b4"}), row=1, col=2)
    fig.add_trace(go.Scatter(x=h.elapsed, y=h.best_by_time, mode="lines", showlegend=False,
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


def html_optuna(plot: Callable[..., Any], study: optuna.Study, data: StudyData, **kw: Any
                ) -> go.Figure:
    """Run one of ``optuna.visualization``'s Plotly plots."""
    if data.is_multi_objective:
        kw.setdefault("target", lambda t: t.values[0])
        kw.setdefault("target_name", data.metric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plot(study, **kw)
