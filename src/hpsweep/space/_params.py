"""Typed, validated, serialisable parameter value objects."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsweep.errors import SpaceError

__all__ = [
    "Categorical",
    "Condition",
    "Fixed",
    "Float",
    "Int",
    "Param",
    "check_jsonable",
    "freeze",
    "param_from_dict",
    "same_value",
]


def same_value(a: Any, b: Any) -> bool:
    """Equality that keeps booleans apart from numbers (``True`` is not ``1``) and compares
    lists element by element the same way."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return False
    try:
        return bool(a == b)
    except Exception:  # exotic objects whose == raises: treat as different
        return False


_TAGS: dict[type, str] = {bool: "bool", int: "num", float: "num", str: "str"}


def freeze(value: Any) -> Any:
    """A hashable stand-in for a JSON-able value; equal exactly when :func:`same_value` says so
    (``True`` apart from ``1``; ``1`` and ``1.0`` alike)."""
    tag = _TAGS.get(type(value))
    if tag is not None:
        return (tag, value)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return ("num", value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, str):
        return ("str", value)
    if value is None:
        return ("none",)
    if isinstance(value, (list, tuple)):
        return ("list", tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    return ("obj", repr(value))


def _clean_float(value: float) -> float:
    """Round away the binary noise of ``low + i * step`` (12 significant digits)."""
    return float(f"{value:.12g}")


@dataclass(frozen=True)
class Condition:
    """The parameter is active only when ``parent`` takes one of ``values``."""

    parent: str
    values: tuple[Any, ...]

    def holds(self, config: Mapping[str, Any]) -> bool:
        return self.parent in config and any(same_value(config[self.parent], v)
                                             for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "values": list(self.values)}


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_CHOICES = 200_000
"""The most choices one categorical parameter may have (a list, a grid module's values)."""


def check_int64(name: str, value: Any, what: str = "bound") -> None:
    """SpaceError when an integer ``value`` of parameter ``name`` lies outside int64."""
    if isinstance(value, int) and not isinstance(value, bool) and not (
            INT64_MIN <= value <= INT64_MAX):
        raise SpaceError(f"parameter {name!r}: the {what} {value} lies outside the 64-bit integer "
                         f"range [-2**63, 2**63 - 1] (the limit for integer parameters); use "
                         "smaller integers or a float parameter.")


def _check_bounds(name: str, low: float, high: float, log: bool) -> None:
    if not (math.isfinite(low) and math.isfinite(high)):
        raise SpaceError(f"parameter {name!r}: bounds must be finite, got low={low}, high={high}.")
    if low > high:
        raise SpaceError(
            f"parameter {name!r}: `low <= high` must hold, but got low={low}, high={high}; "
            "swap the bounds."
        )
    if log and low <= 0:
        raise SpaceError(
            f"parameter {name!r}: a log scale needs `low > 0`, but got low={low}; "
            "use a positive lower bound or drop the log scale."
        )


@dataclass(frozen=True)
class Float:
    name: str
    low: float
    high: float
    log: bool = False
    step: float | None = None
    condition: Condition | None = None

    def __post_init__(self) -> None:
        _check_bounds(self.name, self.low, self.high, self.log)
        if self.step is not None:
            if self.step <= 0:
                raise SpaceError(f"parameter {self.name!r}: step must be > 0, got {self.step}.")
            if self.log:
                raise SpaceError(
                    f"parameter {self.name!r}: a step and a log scale cannot be combined."
                )

    @property
    def is_finite(self) -> bool:
        return self.step is not None or self.low == self.high

    def n_values(self) -> int:
        """How many grid values there are (only when a step is set or low == high)."""
        if self.low == self.high:
            return 1
        if self.step is None:
            raise SpaceError(
                f"parameter {self.name!r} is continuous (low={self.low}, high={self.high}) and has "
                "no grid values; give it a step, a list of values, or use a random strategy."
            )
        return math.floor((self.high - self.low) / self.step + 1e-9) + 1

    def value_at(self, index: int) -> float:
        """Grid value number ``index`` (0-based) without listing the others."""
        if self.low == self.high or self.step is None:
            self.n_values()
            return float(self.low)
        return min(_clean_float(self.low + index * self.step), self.high)

    def values(self) -> list[Any]:
        """The grid values (only when a step is set or low == high)."""
        return [self.value_at(i) for i in range(self.n_values())]

    def sample(self, rng: np.random.Generator) -> float:
        if self.step is not None:
            return self.value_at(int(rng.integers(self.n_values())))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            return False
        if not self.low <= float(value) <= self.high:
            return False
        if self.step is None or self.low == self.high:
            return True
        k = round((float(value) - self.low) / self.step)
        return math.isclose(self.value_at(k), float(value), rel_tol=1e-9, abs_tol=1e-12)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "float", "name": self.name, "low": self.low, "high": self.high,
                "log": self.log, "step": self.step,
                "condition": self.condition.to_dict() if self.condition else None}


@dataclass(frozen=True)
class Int:
    name: str
    low: int
    high: int
    log: bool = False
    step: int = 1
    condition: Condition | None = None

    def __post_init__(self) -> None:
        check_int64(self.name, self.low, "lower bound")
        check_int64(self.name, self.high, "upper bound")
        check_int64(self.name, self.step, "step")
        _check_bounds(self.name, self.low, self.high, self.log)
        if self.step < 1:
            raise SpaceError(f"parameter {self.name!r}: step must be >= 1, got {self.step}.")
        if self.log and self.step != 1:
            raise SpaceError(f"parameter {self.name!r}: a step and a log scale cannot be combined.")

    @property
    def is_finite(self) -> bool:
        return True

    def n_values(self) -> int:
        return (self.high - self.low) // self.step + 1

    def value_at(self, index: int) -> int:
        return int(self.low + index * self.step)

    def values(self) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            raw = math.exp(rng.uniform(math.log(self.low - 0.5 if self.low > 0.5 else self.low),
                                       math.log(self.high + 0.5)))
            return int(min(max(round(raw), self.low), self.high))
        n = (self.high - self.low) // self.step + 1
        return int(self.low + self.step * int(rng.integers(n)))

    def contains(self, value: Any) -> bool:
        return bool(isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                    and self.low <= value <= self.high and (value - self.low) % self.step == 0)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "int", "name": self.name, "low": self.low, "high": self.high,
                "log": self.log, "step": self.step,
                "condition": self.condition.to_dict() if self.condition else None}


@dataclass(frozen=True)
class Categorical:
    name: str
    choices: tuple[Any, ...]
    condition: Condition | None = None

    def __post_init__(self) -> None:
        if len(self.choices) == 0:
            raise SpaceError(
                f"parameter {self.name!r}: the list of choices is empty; give at least one value."
            )
        if len(self.choices) > MAX_CHOICES:
            raise SpaceError(
                f"parameter {self.name!r}: {len(self.choices)} choices is more than the limit of "
                f"{MAX_CHOICES} choices per parameter; use a range or a distribution instead."
            )

    @property
    def is_finite(self) -> bool:
        return True

    def n_values(self) -> int:
        return len(self.choices)

    def value_at(self, index: int) -> Any:
        return self.choices[index]

    def values(self) -> list[Any]:
        return list(self.choices)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.choices[int(rng.integers(len(self.choices)))]

    def contains(self, value: Any) -> bool:
        return any(same_value(value, c) for c in self.choices)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "categorical", "name": self.name, "choices": list(self.choices),
                "condition": self.condition.to_dict() if self.condition else None}


@dataclass(frozen=True)
class Fixed:
    name: str
    value: Any
    condition: Condition | None = None

    @property
    def is_finite(self) -> bool:
        return True

    def n_values(self) -> int:
        return 1

    def value_at(self, index: int) -> Any:
        return self.value

    def values(self) -> list[Any]:
        return [self.value]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.value

    def contains(self, value: Any) -> bool:
        return same_value(value, self.value)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "fixed", "name": self.name, "value": self.value,
                "condition": self.condition.to_dict() if self.condition else None}


Param = Float | Int | Categorical | Fixed


def param_from_dict(data: dict[str, Any]) -> Param:
    """Inverse of ``Param.to_dict()``."""
    cond = data.get("condition")
    condition = Condition(cond["parent"], tuple(cond["values"])) if cond else None
    kind = data.get("type")
    if kind == "float":
        return Float(data["name"], float(data["low"]), float(data["high"]), bool(data["log"]),
                     data.get("step"), condition)
    if kind == "int":
        return Int(data["name"], int(data["low"]), int(data["high"]), bool(data["log"]),
                   int(data.get("step") or 1), condition)
    if kind == "categorical":
        return Categorical(data["name"], tuple(data["choices"]), condition)
    if kind == "fixed":
        return Fixed(data["name"], data["value"], condition)
    raise SpaceError(f"unknown parameter type {kind!r} in a stored space.")


def check_jsonable(name: str, value: Any) -> Any:
    """``value`` with tuples turned into lists; SpaceError when it cannot be stored as JSON."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, (np.generic,)):
        value = value.item()
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise SpaceError(
            f"parameter {name!r}: value {value!r} cannot be stored ({exc}); use numbers, "
            "strings, booleans, None, or lists and dicts of these."
        ) from None
    return json.loads(text)
