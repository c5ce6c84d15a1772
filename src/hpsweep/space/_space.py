"""The search space: ordered, typed parameters, conditional parts and grid conditions."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from hpsweep.errors import SpaceError
from hpsweep.space._conditions import (
    GridCondition,
    check_grid_conditions,
    make_condition,
    parse_condition,
)
from hpsweep.space._grid import MAX_EXPANDED, Grid
from hpsweep.space._params import (
    Categorical,
    Condition,
    Fixed,
    Float,
    Int,
    Param,
    check_jsonable,
    param_from_dict,
)

__all__ = ["SearchSpace", "as_generator", "check_jsonable"]

FORMAT_VERSION = 1


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A NumPy generator from a generator, a seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, (int, np.integer))):
        raise SpaceError(f"rng: expected a numpy Generator, an int seed or None, got {rng!r}.")
    if rng is not None and not 0 <= int(rng) < 2**63:
        raise SpaceError(f"seed {rng} is not a non-negative integer below 2**63; give e.g. --seed 0.")
    return np.random.default_rng(rng)


class _either:
    """Descriptor: a method callable on the class or on an instance; the function receives
    ``(cls, instance_or_None, *args)``."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, objtype: type | None = None) -> Callable[..., Any]:
        return functools.partial(self.func, objtype if objtype is not None else type(obj), obj)


class SearchSpace:
    """Ordered parameters (float, int, categorical, fixed), conditional parts and grid conditions.

    Every ``add_*`` method returns the space, so calls chain:

    >>> space = SearchSpace().add_categorical("optimizer", ["sgd", "adam"])
    >>> sgd = SearchSpace().add_float("momentum", 0.0, 0.99)
    >>> space = space.add_conditional("sgd_part", "optimizer == 'sgd'", sgd)
    >>> sorted({tuple(space.sample(seed)) for seed in range(20)})
    [('optimizer',), ('optimizer', 'momentum')]
    """

    def __init__(self) -> None:
        self._params: dict[str, Param] = {}
        self._conditions: list[GridCondition] = []
        self._groups: dict[str, list[str]] = {}
        self._grid: Grid | None = None  # cached default grid; cleared by every change

    # -- building -------------------------------------------------------------------------
    def add(self, param: Param) -> SearchSpace:
        """Add a parameter object (its condition's parent must already be in the space)."""
        if not isinstance(param, (Float, Int, Categorical, Fixed)):
            raise SpaceError(f"add(): expected a Float, Int, Categorical or Fixed, got {param!r}.")
        if not isinstance(param.name, str) or not param.name:
            raise SpaceError(
                f"add(): a parameter needs a non-empty string name, got {param.name!r}."
            )
        if param.name in self._params:
            raise SpaceError(f"parameter {param.name!r} is defined twice; give it one definition.")
        if param.condition is not None:
            cond = param.condition
            make_condition(cond.parent, cond.values, self._params,
                           what=f"condition of parameter {param.name!r}")
        self._params[param.name] = param
        self._grid = None
        return self

    def add_float(self, name: str, low: float, high: float, *, log: bool = False,
                  step: float | None = None) -> SearchSpace:
        low_f, high_f = _number(name, "low", low), _number(name, "high", high)
        step_f = None if step is None else _number(name, "step", step)
        return self.add(Float(name, low_f, high_f, bool(log), step_f))

    def add_int(self, name: str, low: int, high: int, *, log: bool = False,
                step: int = 1) -> SearchSpace:
        return self.add(Int(name, _integer(name, "low", low), _integer(name, "high", high),
                            bool(log), _integer(name, "step", step)))

    def add_categorical(self, name: str, choices: Sequence[Any]) -> SearchSpace:
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Iterable):
            raise SpaceError(f"parameter {name!r}: choices must be a list, got {choices!r}; "
                             f"write [{choices!r}].")
        values = [check_jsonable(name, c) for c in choices]
        return self.add(Categorical(name, tuple(values)))

    def add_fixed(self, name: str, value: Any) -> SearchSpace:
        return self.add(Fixed(name, check_jsonable(name, value)))

    def add_conditional(self, name: str, condition: str, space: SearchSpace) -> SearchSpace:
        """Add the parameters of ``space``, active only while ``condition`` holds.

        ``condition`` is ``"parent == value"`` or ``"parent in [v1, v2]"`` over a parameter
        already in this space; ``name`` labels the group. A sub-space parameter that has its own
        condition (nested parts) keeps it, so it is active only when both hold.
        """
        if not isinstance(space, SearchSpace):
            raise SpaceError(f"conditional part {name!r}: expected a SearchSpace, got {space!r}.")
        if space._conditions:
            raise SpaceError(f"conditional part {name!r}: a sub-space cannot hold grid conditions; "
                             "add them to the outer space.")
        if name in self._groups:
            raise SpaceError(f"conditional part {name!r} is defined twice; rename one.")
        cond = parse_condition(condition, self._params)
        for other in space._params:
            if other in self._params:
                raise SpaceError(f"conditional part {name!r}: parameter {other!r} is already "
                                 "in the space; give it another name.")
        for param in space._params.values():
            self.add(param if param.condition is not None else replace(param, condition=cond))
        self._groups[name] = list(space._params)
        return self

    def add_grid_condition(self, when: Mapping[str, Sequence[Any]],
                           then: Mapping[str, Sequence[Any]]) -> SearchSpace:
        """Seed-000 condition: grid points matching ``when`` search ``then``'s values instead."""
        self._conditions.extend(check_grid_conditions([(when, then)], list(self._params)))
        self._grid = None
        return self

    @_either
    def from_config_class(cls: type[SearchSpace], self: SearchSpace | None, config_cls: type,
                          overrides: Mapping[str, Any] | None = None) -> SearchSpace:
        """A space from a dataclass: every field is fixed at its default except the overridden.

        Called on the class it returns a new space; called on a space it adds the fields to
        that space and returns it (``SearchSpace().from_config_class(Cfg, {...})`` works both
        ways).

        ``overrides`` maps a field name (dotted for nested dataclasses: ``"optim.lr"``) to a list
        (categorical), a ``(low, high)`` tuple (int when both are ints, float otherwise), a
        ``Param`` (renamed to the field) or a spec dict such as ``{"type": "float", "low": 1e-5,
        "high": 1e-1, "log": True}``.
        """
        from hpsweep.space._config_class import params_from_config_class

        space = cls() if self is None else self
        for param in params_from_config_class(config_cls, overrides or {}):
            space.add(param)
        return space

    # -- reading --------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, Param]:
        return dict(self._params)

    @property
    def names(self) -> list[str]:
        return list(self._params)

    @property
    def conditions(self) -> list[GridCondition]:
        return [(dict(w), dict(t)) for w, t in self._conditions]

    @property
    def groups(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._groups.items()}

    @property
    def is_finite(self) -> bool:
        return all(p.is_finite for p in self._params.values())

    def __len__(self) -> int:
        return len(self._params)

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(self._params)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def grid(self, *, max_points: int = MAX_EXPANDED) -> Grid:
        """The lazy grid of a finite space (see :class:`Grid` for the rules and the bound)."""
        if max_points != MAX_EXPANDED:
            return Grid(list(self._params.values()), self._conditions, max_points=max_points)
        if self._grid is None:
            self._grid = Grid(list(self._params.values()), self._conditions)
        return self._grid

    def active_params(self, config: Mapping[str, Any]) -> list[Param]:
        """The parameters active for ``config`` (condition holds and parent active), in order."""
        active: dict[str, Any] = {}
        out: list[Param] = []
        for param in self._params.values():
            if _is_active(param.condition, active):
                out.append(param)
                if param.name in config:
                    active[param.name] = config[param.name]
        return out

    def contains(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` is a configuration of this space (exactly the active keys)."""
        if not isinstance(config, Mapping):
            return False
        if self._conditions:
            return self.grid().index(config) is not None
        active = self.active_params(config)
        if {p.name for p in active} != set(config):
            return False
        return all(p.contains(config[p.name]) for p in active)

    def sample(self, rng: np.random.Generator | int | None = None) -> dict[str, Any]:
        """One random configuration (only active parameters). A space with grid conditions
        draws a uniform point of its (bounded) grid."""
        gen = as_generator(rng)
        if self._conditions:
            grid = self.grid()
            return grid[int(gen.integers(grid.size))]
        config: dict[str, Any] = {}
        for param in self._params.values():
            if _is_active(param.condition, config):
                config[param.name] = param.sample(gen)
        return config

    # -- storing --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_dict` turns back into an equal space."""
        return {
            "version": FORMAT_VERSION,
            "params": [p.to_dict() for p in self._params.values()],
            "conditions": [[dict(w), dict(t)] for w, t in self._conditions],
            "groups": {k: list(v) for k, v in self._groups.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        if not isinstance(data, Mapping) or not isinstance(data.get("params"), list):
            raise SpaceError("stored space: expected a dict with a 'params' list; the file is "
                             "damaged or not a search space.")
        space = cls()
        for item in data["params"]:
            try:
                space.add(param_from_dict(item))
            except (KeyError, TypeError, ValueError) as exc:
                if isinstance(exc, SpaceError):
                    raise
                raise SpaceError(f"stored space: bad parameter entry {item!r} ({exc}).") from None
        space._conditions = check_grid_conditions(
            [tuple(pair) for pair in data.get("conditions", [])], space.names)
        space._groups = {str(k): list(v) for k, v in dict(data.get("groups", {})).items()}
        space._grid = None
        return space


def _is_active(condition: Condition | None, active: Mapping[str, Any]) -> bool:
    return condition is None or condition.holds(active)


def _check_number(name: str, what: str, value: Any, kinds: tuple[type, ...],
                  convert: Callable[[Any], Any]) -> Any:
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise SpaceError(f"parameter {name!r}: {what} must be a number, got {value!r}.")
    return convert(value)


def _number(name: str, what: str, value: Any) -> float:
    out = float(_check_number(name, what, value, (int, float, np.integer, np.floating), float))
    if math.isnan(out):
        raise SpaceError(f"parameter {name!r}: {what} is NaN; give a number.")
    return out


def _integer(name: str, what: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return int(_check_number(name, what, value, (int, np.integer), int))

