"""The Python API (seed 004): search a function, manage its trials, find a learning rate.

``SearchEngine(SearchConfig(...)).search(objective, space)`` runs the objective in child
processes through the same tuner and study folder as the command line; ``TrialManager(study)``
reads, ranks, analyses and plots a study; ``LearningRateFinder`` (needs PyTorch) runs Smith's
range test. Names are imported on first use, so ``import hpsweep.api`` stays cheap and never
imports PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hpsweep.api.engine import SearchConfig, SearchEngine, SearchResult
    from hpsweep.api.lr_finder import LearningRateFinder, LRFinderConfig, LRFinderResult
    from hpsweep.api.manager import TrialManager
    from hpsweep.executors.function import TrialHandle, TrialPruned

__all__ = [
    "LRFinderConfig",
    "LRFinderResult",
    "LearningRateFinder",
    "SearchConfig",
    "SearchEngine",
    "SearchResult",
    "TrialHandle",
    "TrialManager",
    "TrialPruned",
]

_WHERE = {
    "SearchConfig": "hpsweep.api.engine",
    "SearchEngine": "hpsweep.api.engine",
    "SearchResult": "hpsweep.api.engine",
    "LearningRateFinder": "hpsweep.api.lr_finder",
    "LRFinderConfig": "hpsweep.api.lr_finder",
    "LRFinderResult": "hpsweep.api.lr_finder",
    "TrialManager": "hpsweep.api.manager",
    "TrialHandle": "hpsweep.executors.function",
    "TrialPruned": "hpsweep.executors.function",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hpsweep.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
