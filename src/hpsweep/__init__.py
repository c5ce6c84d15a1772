"""hpsweep: hyperparameter sweeps for unchanged training scripts.

The package root stays light: ``import hpsweep`` in a training script only loads
:func:`hpsweep.report`. The search API (``SearchEngine``, ``SearchSpace``, ...) loads on first use.
"""

from __future__ import annotations

from typing import Any

from hpsweep._report import report

__version__ = "0.1.0"

_LAZY = {
    "SearchSpace": "hpsweep.space",
    "SearchEngine": "hpsweep.api",
    "SearchConfig": "hpsweep.api",
    "SearchResult": "hpsweep.api",
    "TrialManager": "hpsweep.api",
    "TrialPruned": "hpsweep.api",
    "LearningRateFinder": "hpsweep.api",
    "LRFinderConfig": "hpsweep.api",
}

__all__ = ["__version__", "report", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hpsweep' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
