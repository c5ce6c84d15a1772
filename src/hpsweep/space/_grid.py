"""Lazy grids: counted and indexed without being listed.

A space without conditions is one cartesian product: point ``i`` is read off ``i`` in mixed radix
(the last parameter changes fastest, as ``itertools.product`` and hypnettorch do), so a grid of
10^9 points costs nothing to count or index.

Conditional parameters (``SearchSpace.add_conditional``) split the grid into *branches*, one per
value of each parent parameter: in each branch the parent is fixed, the sub-space parameters whose
condition holds are plain parameters and the others are absent. The grid is the concatenation of
the branch products (branch order = the parent's value order), still lazy. At most
:data:`MAX_BRANCHES` branches are built; a space that needs more raises :class:`SpaceError`.

Seed-000 grid conditions (``(when, then)`` pairs) cannot be counted without applying them, so a
grid that has them is expanded once, eagerly and bounded: the unconditioned grid may hold at most
``max_points`` points (default :data:`MAX_EXPANDED`), every condition is applied in order to every
point (a point that matches ``when`` is replaced by the product of ``then``'s values written over
it), the list may never grow past ``max_points``, and repeated points are removed (the first
kept). Past the bound a :class:`SpaceError` says so; nothing hangs or runs out of memory.
"""

from __future__ import annotations

import itertools
import operator
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hpsweep.errors import SpaceError
from hpsweep.space._conditions import GridCondition, frozen_sets, point_matches
from hpsweep.space._params import Fixed, Param, freeze, same_value

__all__ = ["MAX_BRANCHES", "MAX_EXPANDED", "Grid"]

MAX_BRANCHES = 10_000
MAX_EXPANDED = 1_000_000


class _Product:
    """One cartesian product of unconditional parameters."""

    def __init__(self, params: Sequence[Param]) -> None:
        self.params = tuple(params)
        self.sizes = [p.n_values() for p in self.params]
        size = 1
        for n in self.sizes:
            size *= n
        self.size = size

    def point(self, index: int) -> dict[str, Any]:
        digits: list[Any] = [None] * len(self.params)
        for pos in range(len(self.params) - 1, -1, -1):
            index, digit = divmod(index, self.sizes[pos])
            digits[pos] = self.params[pos].value_at(digit)
        return {p.name: v for p, v in zip(self.params, digits)}


def _prune(params: list[Param]) -> list[Param]:
    """Drop parameters whose condition's parent is absent (repeatedly, for nested parts)."""
    while True:
        names = {p.name for p in params}
        kept = [p for p in params if p.condition is None or p.condition.parent in names]
        if len(kept) == len(params):
            return kept
        params = kept


def _branches(params: tuple[Param, ...], budget: list[int]) -> list[tuple[Param, ...]]:
    parents = {p.condition.parent for p in params if p.condition is not None}
    for parent in params:
        if parent.condition is not None or parent.name not in parents:
            continue
        out: list[tuple[Param, ...]] = []
        for k in range(parent.n_values()):
            value = parent.value_at(k)
            rest: list[Param] = []
            for q in params:
                if q is parent:
                    rest.append(Fixed(parent.name, value))
                elif q.condition is not None and q.condition.parent == parent.name:
                    if any(same_value(value, v) for v in q.condition.values):
                        rest.append(replace(q, condition=None))
                else:
                    rest.append(q)
            out.extend(_branches(tuple(_prune(rest)), budget))
        return out
    budget[0] -= 1
    if budget[0] < 0:
        raise SpaceError(
            f"the conditional parts of this space split the grid into more than {MAX_BRANCHES} "
            "branches; give the parent parameters fewer values or use a random strategy."
        )
    return [params]


def _key(point: Mapping[str, Any]) -> tuple[Any, ...]:
    """Equal for equal points, whatever the key order (values compared as :func:`same_value`)."""
    return tuple(sorted((k, freeze(v)) for k, v in point.items()))


class Grid:
    """Every configuration of a finite space, lazily, like scikit-learn's ``ParameterGrid``.

    ``size`` / ``len()``, ``grid[i]`` and iteration work without listing the points: the last
    parameter changes fastest, and conditional parameters split the grid into branches (one per
    value of their parent, at most :data:`MAX_BRANCHES`). A space with seed-000 grid conditions is
    the exception: its points are listed once, eagerly, with the conditions applied in order and
    repeats removed; the grid before the conditions and every step after may hold at most
    ``max_points`` points, past which :class:`SpaceError` is raised at once.

    >>> from hpsweep.space import SearchSpace
    >>> space = SearchSpace()
    >>> space.add_int("a", 0, 999).add_int("b", 0, 999).add_int("c", 0, 999)
    SearchSpace(a, b, c)
    >>> grid = space.grid()
    >>> grid.size, grid[123456789]
    (1000000000, {'a': 123, 'b': 456, 'c': 789})
    """

    def __init__(self, params: Sequence[Param], conditions: Sequence[GridCondition] = (), *,
                 max_points: int = MAX_EXPANDED) -> None:
        for p in params:
            if not p.is_finite:
                p.n_values()  # raises the SpaceError that names the continuous parameter
        self._products = [_Product(b) for b in _branches(tuple(params), [MAX_BRANCHES])]
        self._starts = list(itertools.accumulate((p.size for p in self._products), initial=0))
        self._points: list[dict[str, Any]] | None = None
        self._positions: dict[tuple[Any, ...], int] | None = None
        if conditions:
            self._points = self._expand(list(conditions), max_points)

    @property
    def size(self) -> int:
        """The number of points (may exceed ``sys.maxsize``, which ``len()`` cannot return)."""
        return len(self._points) if self._points is not None else self._starts[-1]

    def __len__(self) -> int:
        size = self.size
        if size > sys.maxsize:
            raise SpaceError(f"the grid has {size} points, more than len() can return; "
                             "read Grid.size instead.")
        return size

    def __getitem__(self, index: int) -> dict[str, Any]:
        if isinstance(index, bool):
            raise TypeError("grid indices must be integers, not bool")
        index = operator.index(index)  # int or numpy integer; TypeError for anything else
        size = self.size
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"grid index {index} out of range for a grid of {size} points")
        if self._points is not None:
            return dict(self._points[index])
        lo, hi = 0, len(self._products) - 1
        while lo < hi:  # last product whose start <= index
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= index:
                lo = mid
            else:
                hi = mid - 1
        return self._products[lo].point(index - self._starts[lo])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._points is not None:
            for point in self._points:
                yield dict(point)
            return
        for product in self._products:
            names = [p.name for p in product.params]
            if product.size <= MAX_EXPANDED * 10:
                values = [p.values() for p in product.params]
                for combo in itertools.product(*values):
                    yield dict(zip(names, combo))
            else:
                for i in range(product.size):
                    yield product.point(i)

    def index(self, config: Mapping[str, Any]) -> int | None:
        """Position of ``config`` in an expanded (conditioned) grid, None when absent.

        Only for grids with seed-000 conditions (bounded); other grids answer with
        ``SearchSpace.contains``.
        """
        if self._points is None:
            raise SpaceError("Grid.index is only available for grids with conditions.")
        if self._positions is None:
            self._positions = {_key(p): i for i, p in enumerate(self._points)}
        return self._positions.get(_key(config))

    def _expand(self, conditions: list[GridCondition], max_points: int) -> list[dict[str, Any]]:
        base = self._starts[-1]
        if base > max_points:
            raise SpaceError(
                f"the grid has {base} points before its conditions are applied, more than the "
                f"{max_points} that can be expanded; conditions need every point listed, so "
                "shrink the grid, drop the conditions, or use a random strategy."
            )
        points = list(iter(self))
        for when, then in conditions:
            # removing repeats after each step gives the same list as removing them at the end
            # (a condition maps each point on its own) and keeps the steps small
            points = _unique(_apply(points, frozen_sets(when), then, max_points))
        return points


def _unique(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    unique: list[dict[str, Any]] = []
    for point in points:
        key = _key(point)
        if key not in seen:
            seen.add(key)
            unique.append(point)
    return unique


def _apply(points: list[dict[str, Any]], when: Mapping[str, set[Any]],
           then: Mapping[str, list[Any]], max_points: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for point in points:
        if not point_matches(point, when):
            out.append(point)
            continue
        keys = [k for k in then if k in point]
        for combo in itertools.product(*(then[k] for k in keys)):
            new = dict(point)
            new.update(zip(keys, combo))
            out.append(new)
        if len(out) > max_points:
            raise SpaceError(
                f"applying the grid conditions gives more than {max_points} points; "
                "shrink the grid or the conditions' value lists."
            )
    return out
