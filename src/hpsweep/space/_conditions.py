"""Conditions: the text form of :class:`Condition` and seed-000 grid conditions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hpsweep.errors import SpaceError
from hpsweep.space._literal import parse_literal
from hpsweep.space._params import Condition, Param, freeze, same_value

__all__ = ["GridCondition", "check_grid_conditions", "parse_condition", "unique_values"]

GridCondition = tuple[dict[str, list[Any]], dict[str, list[Any]]]

_CONDITION = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(==|\bin\b)\s*(.*?)\s*\Z", re.DOTALL)


def unique_values(values: Sequence[Any]) -> list[Any]:
    """``values`` without repeats, first occurrence kept (``True`` and ``1`` stay distinct).

    Linear time: each value is looked up by its :func:`freeze` key (equal exactly when
    :func:`same_value` says so); values without a usable key fall back to comparisons with the
    values kept so far."""
    out: list[Any] = []
    keys: set[Any] = set()
    for value in values:
        try:
            key = freeze(value)
            hash(key)
        except (TypeError, RecursionError):
            if not any(same_value(value, seen) for seen in out):
                out.append(value)
            continue
        if key in keys:
            continue
        keys.add(key)
        out.append(value)
    return out


def parse_condition(text: str, params: Mapping[str, Param]) -> Condition:
    """Parse ``"parent == value"`` or ``"parent in [v1, v2]"`` (no ``eval``).

    The parent must be a parameter already in ``params`` and every value must be one the parent
    can take, so a typo is caught here rather than silently deactivating a sub-space.

    >>> from hpsweep.space._params import Categorical
    >>> parse_condition("opt in ['sgd', 'adam']", {"opt": Categorical("opt", ("sgd", "adam"))})
    Condition(parent='opt', values=('sgd', 'adam'))
    """
    match = _CONDITION.match(text) if isinstance(text, str) else None
    if match is None:
        raise SpaceError(
            f"condition {text!r}: expected `name == value` or `name in [v1, v2]`; "
            "rewrite the condition in one of these forms."
        )
    parent, op, rest = match.groups()
    what = f"condition {text!r}"
    raw = parse_literal(rest, what=what)
    if op == "in":
        if not isinstance(raw, list) or not raw:
            raise SpaceError(
                f"{what}: `in` needs a non-empty list such as ['a', 'b'], got {rest!r}."
            )
        values = unique_values(raw)
    else:
        if isinstance(raw, list):
            raise SpaceError(f"{what}: `==` compares with one value; use `in` for a list.")
        values = [raw]
    return make_condition(parent, values, params, what=what)


def make_condition(parent: str, values: Sequence[Any], params: Mapping[str, Param], *,
                   what: str) -> Condition:
    """A validated :class:`Condition` on ``parent`` (which must be in ``params``)."""
    if parent not in params:
        known = ", ".join(params) or "none yet"
        raise SpaceError(
            f"{what}: unknown parameter {parent!r} (known: {known}); "
            "add the parent parameter before the conditional part or fix the name."
        )
    domain = params[parent]
    for value in values:
        if not domain.contains(value):
            raise SpaceError(
                f"{what}: parameter {parent!r} can never take the value {value!r}; "
                "use one of its values or fix the condition."
            )
    return Condition(parent, tuple(values))


def check_grid_conditions(conditions: Any, names: Sequence[str]) -> list[GridCondition]:
    """Validate seed-000 ``conditions``: a list of ``(when, then)`` pairs of dicts that map grid
    parameter names to non-empty lists of values."""
    if not isinstance(conditions, (list, tuple)):
        raise SpaceError(
            f"grid conditions: expected a list of (when, then) pairs, got "
            f"{type(conditions).__name__}; write `conditions = [({{'a': [1]}}, {{'b': [2]}})]`."
        )
    out: list[GridCondition] = []
    for i, pair in enumerate(conditions):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise SpaceError(
                f"grid condition #{i}: expected a pair (when, then) of dicts, got {pair!r}; "
                "write it as ({'a': [1]}, {'b': [2]})."
            )
        when = _check_side(pair[0], names, f"grid condition #{i} (when)")
        then = _check_side(pair[1], names, f"grid condition #{i} (then)")
        out.append((when, then))
    return out


def _check_side(side: Any, names: Sequence[str], what: str) -> dict[str, list[Any]]:
    if not isinstance(side, Mapping) or not side:
        raise SpaceError(f"{what}: expected a non-empty dict name -> list of values, got {side!r}.")
    out: dict[str, list[Any]] = {}
    for key, values in side.items():
        if key not in names:
            raise SpaceError(
                f"{what}: unknown parameter {key!r} (grid parameters: {', '.join(names)}); "
                "add it to the grid or remove it from the condition."
            )
        if not isinstance(values, (list, tuple)) or not values:
            raise SpaceError(
                f"{what}: parameter {key!r} needs a non-empty list of values, got {values!r}; "
                f"write {{{key!r}: [{values!r}]}}."
            )
        out[str(key)] = unique_values(list(values))
    return out


def frozen_sets(side: Mapping[str, list[Any]]) -> dict[str, set[Any]]:
    """``{name: {freeze(value), ...}}`` for fast membership tests."""
    return {key: {freeze(v) for v in values} for key, values in side.items()}


def point_matches(point: Mapping[str, Any], when: Mapping[str, set[Any]]) -> bool:
    """Whether a grid point takes one of the values in ``when`` (see :func:`frozen_sets`) for
    every key."""
    return all(key in point and freeze(point[key]) in values for key, values in when.items())
