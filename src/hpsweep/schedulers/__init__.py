"""Schedulers: when to stop, pause or resume trials, and what runs next.

FIFO, median stopping, ASHA, promotion ASHA / Hyperband, synchronous Hyperband, BOHB, DyHPO and
PBT, all behind :class:`Scheduler`; :func:`make_scheduler` builds one by name.
"""

from __future__ import annotations

from hpsweep.schedulers._common import TrackingScheduler, geometric_rungs, linear_rungs
from hpsweep.schedulers.asha import ASHAScheduler, PromotionASHAScheduler
from hpsweep.schedulers.base import FIFOScheduler, Scheduler
from hpsweep.schedulers.bohb import BOHBScheduler
from hpsweep.schedulers.dyhpo import DyHPOScheduler
from hpsweep.schedulers.factory import SCHEDULERS, make_scheduler
from hpsweep.schedulers.hyperband import HyperbandScheduler
from hpsweep.schedulers.median import MedianStoppingScheduler
from hpsweep.schedulers.pbt import PBTScheduler

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
    "Scheduler",
    "TrackingScheduler",
    "geometric_rungs",
    "linear_rungs",
    "make_scheduler",
]
