"""Every plot of a study, as Matplotlib Figures, Plotly figures, PNG and HTML files.

Kinds: ``history`` (best so far over trials and over time), ``parallel`` (parallel coordinates),
``importance`` (bars), ``slice`` (the objective against each parameter), ``curves`` (learning
curves from intermediate reports, thinned to a bounded number of points) and, for a
seed-gathering study, ``seeds`` (the per-seed spread). Every kind is drawn here from arrays
computed once for both formats (many lines as one ``LineCollection`` in the PNG and a few
Plotly traces in the HTML); no Optuna study is built unless the importance method is one of
Optuna's (fanova, ped-anova). The installed ``plotly`` package ships one bundle
(``plotly.min.js``, no partial bundle), which each HTML file carries so that it opens offline.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.results._importance import param_importance, resolve_method
from hpsweep.results._series import Curve, History, Slice, curves, history, slices
from hpsweep.results._study import StudyData
from hpsweep.trial import TrialState

__all__ = ["KINDS", "available_kinds", "html_figure", "mpl_figure", "write_plots"]

KINDS = ("history", "parallel", "importance", "slice", "curves", "seeds")


def available_kinds(data: StudyData) -> list[str]:
    """The kinds that have something to show for this study."""
    kinds = ["history", "parallel", "importance", "slice"]
    if any(sum(1 for r in t.reports if r.metrics.get(data.metric) is not None) > 1
           for t in data.trials):  # a curve needs two reports (not a summary file read once)
        kinds.append("curves")
    if data.seeds_info() is not None or _repeated(data):
        kinds.append("seeds")
    return kinds


def _repeated(data: StudyData) -> bool:
    return any(g.n > 1 for g in _groups(data))


_LAST_GROUPS: list[tuple[StudyData, list[Any]]] = []


def _groups(data: StudyData) -> list[Any]:
    """``study_groups(data)``, ranked once for the study last asked about (the kinds and both
    formats of the learning curves read the same ranking)."""
    from hpsweep._groups import study_groups

    last = _LAST_GROUPS[0] if _LAST_GROUPS else None
    if last is not None and last[0] is data:
        return last[1]
    groups = study_groups(data)
    _LAST_GROUPS[:] = [(data, groups)]
    return groups


def _winners(data: StudyData) -> set[int]:
    """The trial ids of the best configuration's runs (drawn on top of the learning curves)."""
    groups = _groups(data)
    return set(groups[0].trial_ids) if groups and groups[0].mean is not None else set()


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"--kind {kind!r}: use one or more of {', '.join(KINDS)}.")


class _Context:
    """What several plots share: the importance scores, the slices and the learning curves."""

    def __init__(self, data: StudyData, *, method: str = "auto", seed: int = 0) -> None:
        self.data = data
        self.method = method
        self.seed = seed
        self._scores: dict[str, float] | None = None
        self._curves: list[Curve] | None = None
        self._slices: list[Slice] | None = None
        self._history: History | None = None
        self._parallel: Any = None

    @property
    def parallel(self) -> Any:
        """The parallel coordinates' axes, shared by the PNG and the HTML."""
        if self._parallel is None:
            from hpsweep.results._mpl import parallel_axes

            self._parallel = parallel_axes(self.data)
        return self._parallel

    @property
    def history(self) -> History:
        """The objective per trial and the best so far, shared by the PNG and the HTML."""
        if self._history is None:
            self._history = history(self.data)
        return self._history

    @property
    def curves(self) -> list[Curve]:
        """The thinned learning curves of the objective, shared by the PNG and the HTML."""
        if self._curves is None:
            self._curves = curves(self.data)
        return self._curves

    @property
    def slices(self) -> list[Slice]:
        """The objective against each parameter, shared by the PNG and the HTML."""
        if self._slices is None:
            self._slices = slices(self.data)
        return self._slices

    @property
    def scores(self) -> dict[str, float]:
        if self._scores is None:
            self._scores = param_importance(self.data, method=self.method, seed=self.seed)
        return self._scores

    @property
    def importance_note(self) -> str:
        """The caveat printed with the importance: why there is none, or how rough it is."""
        from hpsweep.results._importance import importance_note

        return importance_note(self.data, self.scores)

    @property
    def importance_title(self) -> str:
        n_done = sum(1 for t in self.data.trials if t.state is TrialState.COMPLETED)
        method = resolve_method(self.method, n_done)
        return f"{self.data.name}: parameter importance for {self.data.metric} ({method})"


def mpl_figure(kind: str, data: StudyData, *, ctx: _Context | None = None) -> Any:
    """The Matplotlib Figure of one kind."""
    from hpsweep.results import _mpl

    _check(kind)
    ctx = ctx or _Context(data)
    if kind == "history":
        return _mpl.mpl_history(data, found=ctx.history)
    if kind == "importance":
        return _mpl.mpl_importance(ctx.scores, title=ctx.importance_title, note=ctx.importance_note)
    if kind == "seeds":
        return _mpl.mpl_seeds(data)
    if kind == "curves":
        return _mpl.mpl_curves(data, found=ctx.curves, winners=_winners(data))
    if kind == "parallel":
        return _mpl.mpl_parallel(data, found=ctx.parallel)
    return _mpl.mpl_slice(data, found=ctx.slices)


def html_figure(kind: str, data: StudyData, *, ctx: _Context | None = None) -> Any:
    """The Plotly figure of one kind."""
    from hpsweep.results import _html

    _check(kind)
    ctx = ctx or _Context(data)
    if kind == "history":
        return _html.html_history(data, found=ctx.history)
    if kind == "importance":
        return _html.html_importance(ctx.scores, title=ctx.importance_title,
                                     note=ctx.importance_note)
    if kind == "seeds":
        return _html.html_seeds(data)
    if kind == "curves":
        return _html.html_curves(data, found=ctx.curves, winners=_winners(data))
    if kind == "parallel":
        return _html.html_parallel(data, found=ctx.parallel)
    return _html.html_slice(data, found=ctx.slices)


def write_plots(data: StudyData, out_dir: str | Path, *, kinds: Sequence[str] | None = None,
                formats: Sequence[str] = ("png", "html"), method: str = "auto",
                seed: int = 0) -> list[Path]:
    """Write ``<kind>.png`` and ``<kind>.html`` into ``out_dir``; returns the written paths."""
    for fmt in formats:
        if fmt not in ("png", "html"):
            raise UsageError(f"--format {fmt!r}: use png and/or html.")
    wanted = list(kinds) if kinds else available_kinds(data)
    for kind in wanted:
        _check(kind)
    if not any(t.state.value == "completed" for t in data.trials):
        raise UsageError(f"{data.root} has no completed trial yet: nothing to plot.")
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    ctx = _Context(data, method=method, seed=seed)
    written: list[Path] = []
    for kind in wanted:
        if "png" in formats:
            fig = mpl_figure(kind, data, ctx=ctx)
            path = target / f"{kind}.png"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # Optuna's tight-layout notes
                fig.savefig(path, dpi=110)
            _close(fig)
            written.append(path)
        if "html" in formats:
            path = target / f"{kind}.html"
            html_figure(kind, data, ctx=ctx).write_html(str(path), include_plotlyjs=True)
            written.append(path)
    return written


def _close(fig: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)
