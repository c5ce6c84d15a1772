"""Searchers: what configuration to try next.

``make_searcher(name, space, ...)`` builds one by strategy name. The model-based searchers wrap
Optuna's samplers (:class:`~hpsweep.search.optuna.OptunaSearcher`); they are imported on first
use so that ``import hpsweep.search`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpsweep.search._factory import STRATEGIES, make_searcher
from hpsweep.search._pareto import pareto_front
from hpsweep.search._warmstart import PointsFirst
from hpsweep.search.base import Mode, Searcher

if TYPE_CHECKING:
    from hpsweep.search.optuna import OptunaSearcher

__all__ = [
    "STRATEGIES",
    "Mode",
    "OptunaSearcher",
    "PointsFirst",
    "Searcher",
    "make_searcher",
    "pareto_front",
]


def __getattr__(name: str) -> Any:
    if name == "OptunaSearcher":
        from hpsweep.search.optuna import OptunaSearcher

        return OptunaSearcher
    raise AttributeError(f"module 'hpsweep.search' has no attribute {name!r}")
