"""Map an :class:`hpsweep.space.SearchSpace` onto Optuna distributions.

Rules (one per parameter kind):

- ``Float(low, high, log, step)`` → ``FloatDistribution(low, high, log=log, step=step)``;
- ``Int(low, high, log, step)`` → ``IntDistribution(low, high, log=log, step=step)``;
- ``Categorical(choices)`` → ``CategoricalDistribution`` over the choice *indices* ``0..n-1``,
  so any JSON value (lists, dicts, ``None``, mixed types) is a valid choice; the index maps
  back to the value;
- ``Fixed`` values, one-choice categoricals and ``low == high`` ranges are constants: Optuna never
  sees them, they are written into the configuration directly;
- a parameter with a :class:`~hpsweep.space.Condition` is suggested (define-by-run) only when its
  condition holds for the values chosen before it; otherwise it is absent from the configuration.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpsweep.space import Categorical, Fixed, Float, Int, Param

if TYPE_CHECKING:
    from hpsweep.space import SearchSpace

__all__ = ["SpaceMapping"]

Suggest = Callable[[str, BaseDistribution], Any]


def _json_key(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(frozen=True)
class _Entry:
    param: Param
    distribution: BaseDistribution | None  # None: a constant

    @property
    def name(self) -> str:
        return self.param.name


def _constant(param: Param) -> Any:
    if isinstance(param, Fixed):
        return param.value
    if isinstance(param, Categorical):
        return param.choices[0]
    if isinstance(param, Int):
        return int(param.low)
    return float(param.low)


def _distribution(param: Param) -> BaseDistribution | None:
    if isinstance(param, Fixed):
        return None
    if isinstance(param, Categorical):
        if len(param.choices) == 1:
            return None
        return CategoricalDistribution(tuple(range(len(param.choices))))
    if param.low == param.high:
        return None
    if isinstance(param, Int):
        return IntDistribution(int(param.low), int(param.high), log=param.log, step=param.step)
    if isinstance(param, Float):
        return FloatDistribution(float(param.low), float(param.high), log=param.log,
                                 step=param.step)
    raise TypeError(f"unsupported parameter type {type(param).__name__}")


class SpaceMapping:
    """Two-way translation between hpsweep configurations and Optuna parameters."""

    def __init__(self, space: SearchSpace) -> None:
        params: Mapping[str, Param] = space.params
        self._entries = [_Entry(p, _distribution(p)) for p in params.values()]
        self._by_name = {e.name: e for e in self._entries}
        self._choice_index = {
            e.name: {_json_key(c): i for i, c in reversed(list(enumerate(e.param.choices)))}
            for e in self._entries
            if isinstance(e.param, Categorical)
        }

    @property
    def names(self) -> list[str]:
        return [e.name for e in self._entries]

    @property
    def numeric_names(self) -> list[str]:
        """Parameters Optuna sees as numbers (Float / Int with a range)."""
        return [e.name for e in self._entries
                if isinstance(e.distribution, (FloatDistribution, IntDistribution))]

    @property
    def is_continuous(self) -> bool:
        """No categorical choice and no condition: every searched parameter is numeric."""
        for e in self._entries:
            if e.param.condition is not None and e.distribution is not None:
                return False
            if isinstance(e.distribution, CategoricalDistribution):
                return False
        return bool(self.numeric_names)

    @property
    def is_unconditional(self) -> bool:
        """No searched parameter has a condition: every trial suggests the same parameters."""
        return all(e.param.condition is None or e.distribution is None for e in self._entries)

    def distribution(self, name: str) -> BaseDistribution | None:
        return self._by_name[name].distribution

    def build(self, suggest: Suggest) -> dict[str, Any]:
        """Define-by-run: a configuration whose searched values come from ``suggest``.

        Parameters whose parent has not been decided yet wait for it, so the order of the space
        does not matter; a parameter whose condition fails is left out.
        """
        config: dict[str, Any] = {}
        decided: set[str] = set()
        pending = list(self._entries)
        while pending:
            waiting = []
            for entry in pending:
                cond = entry.param.condition
                if cond is not None and cond.parent in self._by_name and cond.parent not in decided:
                    waiting.append(entry)
                    continue
                decided.add(entry.name)
                if cond is not None and not cond.holds(config):
                    continue
                config[entry.name] = self._value(entry, suggest)
            if len(waiting) == len(pending):  # a cycle: the parents can never be decided
                break
            pending = waiting
        return config

    def _value(self, entry: _Entry, suggest: Suggest) -> Any:
        if entry.distribution is None:
            return _constant(entry.param)
        raw = suggest(entry.name, entry.distribution)
        return self.to_external(entry.name, raw)

    def to_external(self, name: str, raw: Any) -> Any:
        """Optuna's value of ``name`` as the configuration's value."""
        entry = self._by_name[name]
        if isinstance(entry.param, Categorical):
            return entry.param.choices[int(raw)]
        if isinstance(entry.param, Int):
            return int(raw)
        return float(raw)

    def to_optuna(
        self, config: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
        """Optuna params and distributions of ``config``; values outside the space are left out."""
        params: dict[str, Any] = {}
        dists: dict[str, BaseDistribution] = {}
        for name, value in config.items():
            entry = self._by_name.get(name)
            if entry is None or entry.distribution is None:
                continue
            raw = self.to_optuna_value(name, value)
            if raw is None:
                continue
            params[name] = raw
            dists[name] = entry.distribution
        return params, dists

    def to_optuna_value(self, name: str, value: Any) -> Any | None:
        """The Optuna value of ``value`` for ``name``, or None when it lies outside the space."""
        entry = self._by_name[name]
        dist = entry.distribution
        if isinstance(entry.param, Categorical):
            return self._choice_index[name].get(_json_key(value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(float(value)):
            return None
        if isinstance(dist, IntDistribution):
            if float(value) != int(value):
                return None
            raw: Any = int(value)
        else:
            raw = float(value)
        assert dist is not None
        return raw if dist._contains(dist.to_internal_repr(raw)) else None
