"""Build a scheduler by name (the CLI's ``--scheduler`` and the API's ``pruner``).

:data:`SCHEDULERS` is the registry: a new scheduler is its own module plus one line here. Its
options, their defaults and their help text come from the class's ``Options`` spec.
"""

from __future__ import annotations

import importlib
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.schedulers._options import OptionInfo
from hpsweep.schedulers.base import Scheduler
from hpsweep.search.base import Mode, Searcher

__all__ = ["SCHEDULERS", "all_options", "make_scheduler", "register_scheduler", "scheduler_class",
           "scheduler_options"]

# name -> "module:class"; imported on use. The modules import their heavy dependencies
# (scikit-learn, SciPy) only when a scheduler is built, so reading the specs stays cheap.
SCHEDULERS: dict[str, str | type[Scheduler]] = {
    "fifo": "hpsweep.schedulers.base:FIFOScheduler",
    "median": "hpsweep.schedulers.median:MedianStoppingScheduler",
    "asha": "hpsweep.schedulers.asha:ASHAScheduler",
    "promotion": "hpsweep.schedulers.asha:PromotionASHAScheduler",
    "hyperband-promotion": "hpsweep.schedulers.asha:PromotionHyperbandScheduler",
    "hyperband": "hpsweep.schedulers.hyperband:HyperbandScheduler",
    "bohb": "hpsweep.schedulers.bohb:BOHBScheduler",
    "dyhpo": "hpsweep.schedulers.dyhpo:DyHPOScheduler",
    "pbt": "hpsweep.schedulers.pbt:PBTScheduler",
}


def _key(name: str) -> str:
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in SCHEDULERS:
        raise UsageError(f"unknown scheduler {name!r}; choose one of {', '.join(sorted(SCHEDULERS))}.")
    return str(key)


def register_scheduler(name: str, target: str | type[Scheduler]) -> None:
    """Make ``--scheduler name`` (and ``make_scheduler(name)``) build ``target``: a class, or
    ``"module:Class"`` imported on first use. Its ``Options`` spec gives its flags."""
    if not isinstance(name, str) or not name or name != name.strip().lower():
        raise UsageError(f"a scheduler name is one lower-case word, got {name!r}.")
    SCHEDULERS[name] = target


def scheduler_class(name: str) -> type[Scheduler]:
    """The scheduler class registered as ``name``."""
    target = SCHEDULERS[_key(name)]
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    cls: type[Scheduler] = getattr(importlib.import_module(module), attr)
    return cls


def scheduler_options(name: str) -> tuple[OptionInfo, ...]:
    """The options scheduler ``name`` takes, with defaults and help."""
    return scheduler_class(name).Options.infos()


def all_options() -> dict[str, tuple[OptionInfo, list[str]]]:
    """Every option of every registered scheduler: name -> (its first spec, the schedulers)."""
    out: dict[str, tuple[OptionInfo, list[str]]] = {}
    for name in SCHEDULERS:
        for info in scheduler_options(name):
            if info.name in out:
                out[info.name][1].append(name)
            else:
                out[info.name] = (info, [name])
    return out


def make_scheduler(name: str, *, searcher: Searcher, metric: str, mode: Mode, seed: int | None = None,
                   **options: Any) -> Scheduler:
    """The scheduler called ``name`` (see :data:`SCHEDULERS`) with ``options`` from its spec.

    An option the scheduler does not take raises :class:`UsageError` naming those it takes.

    >>> from hpsweep.schedulers import scheduler_options
    >>> [o.name for o in scheduler_options("asha")]
    ['max_resource', 'min_resource', 'reduction_factor', 'brackets']
    """
    key = _key(name)
    return scheduler_class(key)(searcher=searcher, metric=metric, mode=mode, seed=seed, **options)
