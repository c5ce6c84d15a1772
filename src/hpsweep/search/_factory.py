"""``make_searcher``: a searcher by strategy name (the CLI's ``--strategy``, the API's sampler)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpsweep.errors import UsageError
from hpsweep.search.base import Mode, Searcher

if TYPE_CHECKING:
    from hpsweep.space import SearchSpace

__all__ = ["STRATEGIES", "make_searcher"]

STRATEGIES = ("grid", "random", "tpe", "gp", "cmaes", "qmc", "auto")
"""Strategy names :func:`make_searcher` knows (``nsga2`` is accepted for several metrics)."""

_OPTUNA = ("tpe", "gp", "cmaes", "qmc", "auto", "nsga2")


def make_searcher(
    name: str,
    space: SearchSpace,
    *,
    metric: str,
    mode: Mode,
    seed: int | None,
    metrics: Sequence[str] | None = None,
    modes: Sequence[Mode] | None = None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    budget: int | None = None,
) -> Searcher:
    """The searcher called ``name`` over ``space``.

    ``grid`` and ``random`` come from :mod:`hpsweep.search.basic` (with ``points_to_evaluate``
    tried first); ``tpe``, ``gp``, ``cmaes``, ``qmc``, ``auto`` (and ``nsga2``) are
    :class:`~hpsweep.search.optuna.OptunaSearcher` samplers; with several ``metrics`` they
    search the Pareto front (``cmaes`` refuses several). ``budget`` is the study's number of
    trials when known (None: unknown); ``auto`` picks its sampler by it, the others ignore it.
    """
    if not isinstance(name, str) or name.lower() not in (*STRATEGIES, "nsga2"):
        raise UsageError(
            f"strategy {name!r} is unknown; choose one of {', '.join(STRATEGIES)}."
        )
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                               or budget < 1):
        raise UsageError(
            f"budget must be a number of trials >= 1 or None (unknown), got {budget!r}."
        )
    key = name.lower()
    if key == "gp" and not _has_torch():
        # Optuna's GP sampler needs PyTorch; without it the sampler would fail after its
        # random start-up trials, in the middle of the study.
        raise UsageError("--strategy gp needs PyTorch: pip install 'hpsweep[torch]' (or torch), "
                         "or choose --strategy tpe or cmaes.")
    if key in _OPTUNA:
        from hpsweep.search.optuna import OptunaSearcher

        return OptunaSearcher(
            space, metric=metric, mode=mode, seed=seed, sampler=key, metrics=metrics,
            modes=modes, points_to_evaluate=points_to_evaluate, budget=budget,
        )
    # Grid and random search ignore the objective, so several metrics need nothing more:
    # the report still shows their Pareto front.
    from hpsweep.search import basic

    cls = basic.GridSearcher if key == "grid" else basic.RandomSearcher
    kwargs: dict[str, Any] = {"metric": metric, "mode": mode, "seed": seed}
    if points_to_evaluate and "points_to_evaluate" in inspect.signature(cls).parameters:
        kwargs["points_to_evaluate"] = points_to_evaluate
        built: Searcher = cls(space, **kwargs)
        return built
    searcher: Searcher = cls(space, **kwargs)
    if points_to_evaluate:
        from hpsweep.search._warmstart import PointsFirst

        return PointsFirst(searcher, points=points_to_evaluate)
    return searcher


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True
