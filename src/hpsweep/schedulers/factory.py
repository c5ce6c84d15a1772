"""Build a scheduler by name (the CLI's ``--scheduler`` and the API's ``pruner``)."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.schedulers.base import Scheduler
from hpsweep.search.base import Mode, Searcher

__all__ = ["SCHEDULERS", "make_scheduler", "scheduler_class"]

# name -> "module:class"; imported on use, so that a sweep loads only its own scheduler
# (BOHB and DyHPO bring scikit-learn and SciPy along).
SCHEDULERS: dict[str, str] = {
    "fifo": "hpsweep.schedulers.base:FIFOScheduler",
    "median": "hpsweep.schedulers.median:MedianStoppingScheduler",
    "asha": "hpsweep.schedulers.asha:ASHAScheduler",
    "promotion": "hpsweep.schedulers.asha:PromotionASHAScheduler",
    "hyperband-promotion": "hpsweep.schedulers.asha:PromotionASHAScheduler",
    "hyperband": "hpsweep.schedulers.hyperband:HyperbandScheduler",
    "bohb": "hpsweep.schedulers.bohb:BOHBScheduler",
    "dyhpo": "hpsweep.schedulers.dyhpo:DyHPOScheduler",
    "pbt": "hpsweep.schedulers.pbt:PBTScheduler",
}


def scheduler_class(name: str) -> type[Scheduler]:
    """The scheduler class registered as ``name``."""
    module, _, attr = SCHEDULERS[name].partition(":")
    cls: type[Scheduler] = getattr(importlib.import_module(module), attr)
    return cls


def _accepted(cls: type[Scheduler]) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            sig = inspect.signature(vars(klass)["__init__"])
            names |= {n for n, p in sig.parameters.items()
                      if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return names


def make_scheduler(
    name: str,
    *,
    searcher: Searcher,
    metric: str,
    mode: Mode,
    resource_attr: str = "epoch",
    min_resource: int = 1,
    max_resource: int | None = None,
    reduction_factor: int = 3,
    brackets: int = 1,
    probability_sh: float | None = None,
    perturbation_interval: int | None = None,
    seed: int | None = None,
    **rest: Any,
) -> Scheduler:
    """The scheduler called ``name`` (see :data:`SCHEDULERS`).

    Options a scheduler does not use (``brackets`` for DyHPO, say) are ignored; an option in
    ``rest`` that the scheduler does not know raises :class:`UsageError`.

    >>> from hpsweep.schedulers import make_scheduler
    >>> make_scheduler("nope", searcher=None, metric="loss", mode="min")  # doctest: +SKIP
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in SCHEDULERS:
        raise UsageError(f"unknown scheduler {name!r}; choose one of {', '.join(sorted(SCHEDULERS))}.")
    cls = scheduler_class(key)
    accepted = _accepted(cls)
    unknown = sorted(set(rest) - accepted)
    if unknown:
        raise UsageError(f"scheduler {key!r} does not take option(s) {', '.join(unknown)}; "
                         f"it takes {', '.join(sorted(accepted))}.")
    options: dict[str, Any] = {
        "searcher": searcher, "metric": metric, "mode": mode, "resource_attr": resource_attr,
        "max_resource": max_resource, "seed": seed,
        "min_resource": min_resource, "reduction_factor": reduction_factor, "brackets": brackets,
        "probability_sh": probability_sh, "perturbation_interval": perturbation_interval,
    }
    options = {k: v for k, v in options.items() if k in accepted and
               not (k in ("probability_sh", "perturbation_interval") and v is None)}
    options.update(rest)
    return cls(**options)
