"""Typed, frozen option specs: the one place a scheduler's options and their defaults are written.

Each scheduler class names its spec in ``Options`` (a frozen dataclass built from :func:`option`
fields). The command line's flags, their help text, the Python API's keyword names and the
validation all come from these specs, so a default is written once. An option a scheduler does
not take is refused with the list of those it does take.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from hpsweep.errors import UsageError

__all__ = ["FidelityOptions", "NoOptions", "OptionInfo", "SchedulerOptions", "option"]


@dataclass(frozen=True)
class OptionInfo:
    """What the command line needs to know about one option."""

    name: str
    kind: type  # int, float or str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    derived: str = ""  # what a default of None stands for, e.g. "all" or "min_resource"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def option(default: Any, help: str, *, kind: type = int, minimum: float | None = None,
           maximum: float | None = None, required: bool = False, derived: str = "") -> Any:
    """A dataclass field of a scheduler spec; ``default=None`` with ``derived`` saying what it
    stands for (``"all"``, ``"min_resource"``)."""
    return dataclasses.field(default=default, metadata={
        "kind": kind, "help": help, "minimum": minimum, "maximum": maximum, "required": required,
        "derived": derived})


@dataclass(frozen=True)
class SchedulerOptions:
    """Base of every spec: validates types and ranges when built."""

    scheduler_name: ClassVar[str] = "scheduler"

    @classmethod
    def infos(cls) -> tuple[OptionInfo, ...]:
        out = []
        for f in dataclasses.fields(cls):
            m = f.metadata
            out.append(OptionInfo(f.name, m["kind"], f.default, m["help"], m["minimum"], m["maximum"],
                                  m["required"], m["derived"]))
        return tuple(out)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def build(cls, scheduler: str, values: Mapping[str, Any]) -> SchedulerOptions:
        """The spec from keyword values; unknown names and bad values are a :class:`UsageError`."""
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            takes = ", ".join(cls.names()) or "no options"
            raise UsageError(f"scheduler {scheduler!r} does not take option(s) {', '.join(unknown)}; "
                             f"it takes {takes}.")
        for info in cls.infos():
            value = values.get(info.name, info.default)
            if value is None:
                if info.required:
                    raise UsageError(f"scheduler {scheduler!r} needs {info.name} ({info.help}); "
                                     f"pass {info.name}=N or {info.flag} N.")
                continue
            _check(scheduler, info, value)
        return cls(**{k: _coerce(v) for k, v in values.items()})


def _coerce(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
    except ImportError:  # pragma: no cover
        pass
    return value


def _check(scheduler: str, info: OptionInfo, value: Any) -> None:
    value = _coerce(value)
    if info.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        what = "an integer"
    elif info.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        what = "a number"
    else:
        ok = isinstance(value, str)
        what = "a string"
    if ok and info.minimum is not None and value < info.minimum:
        ok = False
    if ok and info.maximum is not None and value > info.maximum:
        ok = False
    if not ok:
        bounds = ""
        if info.minimum is not None and info.maximum is not None:
            bounds = f" in [{info.minimum:g}, {info.maximum:g}]"
        elif info.minimum is not None:
            bounds = f" >= {info.minimum:g}"
        raise UsageError(f"{info.name} of scheduler {scheduler!r} must be {what}{bounds}, got {value!r} "
                         f"({info.help}).")


@dataclass(frozen=True)
class NoOptions(SchedulerOptions):
    """A scheduler without options."""


@dataclass(frozen=True)
class FidelityOptions(SchedulerOptions):
    """The resource range every multi-fidelity scheduler works over."""

    max_resource: int | None = option(None, "the full budget, e.g. the number of epochs",
                                      minimum=1, required=True)
    min_resource: int = option(1, "the smallest budget a configuration is judged at", minimum=1)

    def __post_init__(self) -> None:
        if self.max_resource is not None and self.max_resource < self.min_resource:
            raise UsageError(f"max_resource={self.max_resource} is below min_resource={self.min_resource}; "
                             "make max_resource >= min_resource.")


@dataclass(frozen=True)
class HalvingOptions(FidelityOptions):
    """Fidelity options plus the reduction factor of successive halving."""

    reduction_factor: int = option(3, "keep the top 1/eta at each rung (eta)", minimum=2)
