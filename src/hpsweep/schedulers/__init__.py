"""Schedulers: when to stop, pause or resume trials, and what runs next.

FIFO, median stopping, ASHA, promotion ASHA / Hyperband, synchronous Hyperband, BOHB, DyHPO and
PBT, all behind :class:`Scheduler`; :func:`make_scheduler` builds one by name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hpsweep.schedulers.base import FIFOScheduler, Scheduler
from hpsweep.schedulers.factory import (
    SCHEDULERS,
    all_options,
    make_scheduler,
    register_scheduler,
    scheduler_class,
    scheduler_options,
)

if TYPE_CHECKING:
    from hpsweep.schedulers._common import TrackingScheduler, geometric_rungs, linear_rungs
    from hpsweep.schedulers.asha import ASHAScheduler, PromotionASHAScheduler, PromotionHyperbandScheduler
    from hpsweep.schedulers.bohb import BOHBScheduler
    from hpsweep.schedulers.dyhpo import DyHPOScheduler
    from hpsweep.schedulers.hyperband import HyperbandScheduler
    from hpsweep.schedulers.median import MedianStoppingScheduler
    from hpsweep.schedulers.pbt import PBTScheduler

_LAZY = {
    "TrackingScheduler": "_common", "geometric_rungs": "_common", "linear_rungs": "_common",
    "ASHAScheduler": "asha", "PromotionASHAScheduler": "asha", "PromotionHyperbandScheduler": "asha",
    "BOHBScheduler": "bohb",
    "DyHPOScheduler": "dyhpo", "HyperbandScheduler": "hyperband",
    "MedianStoppingScheduler": "median", "PBTScheduler": "pbt",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"hpsweep.schedulers.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'hpsweep.schedulers' has no attribute {name!r}")


__all__ = [
    "SCHEDULERS",
    "ASHAScheduler",
    "BOHBScheduler",
    "DyHPOScheduler",
    "FIFOScheduler",
    "HyperbandScheduler",
    "MedianStoppingScheduler",
    "PBTScheduler",
    "PromotionASHAScheduler",
    "PromotionHyperbandScheduler",
    "Scheduler",
    "TrackingScheduler",
    "all_options",
    "geometric_rungs",
    "linear_rungs",
    "make_scheduler",
    "register_scheduler",
    "scheduler_class",
    "scheduler_options",
]
