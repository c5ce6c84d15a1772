"""Property tests: the lazy grid agrees with plain enumeration."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hpsweep.space import SearchSpace, space_from_grid

values = st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True)


@st.composite
def conditional_spaces(draw: st.DrawFn) -> SearchSpace:
    space = SearchSpace()
    n_top = draw(st.integers(1, 3))
    for i in range(n_top):
        space.add_categorical(f"t{i}", draw(values))
    for j in range(draw(st.integers(0, 3))):
        parent = draw(st.sampled_from(space.names))
        domain = space.params[parent].values()
        chosen = draw(st.lists(st.sampled_from(domain), min_size=1, max_size=len(domain),
                               unique=True))
        sub = SearchSpace().add_categorical(f"c{j}", draw(values))
        space.add_conditional(f"g{j}", f"{parent} in {chosen}", sub)
    return space


def brute_force(space: SearchSpace) -> list[dict[str, Any]]:
    params = list(space.params.values())
    out: list[dict[str, Any]] = []
    for combo in itertools.product(*(p.values() for p in params)):
        full = dict(zip((p.name for p in params), combo))
        active = {p.name: full[p.name] for p in space.active_params(full)}
        if active not in out:
            out.append(active)
    return out


@settings(max_examples=150, deadline=None)
@given(conditional_spaces())
def test_conditional_grid_equals_brute_force(space: SearchSpace) -> None:
    grid = space.grid()
    listed = list(grid)
    expected = brute_force(space)
    assert len(listed) == grid.size == len(expected)
    assert sorted(map(repr, listed)) == sorted(map(repr, expected))
    assert [grid[i] for i in range(grid.size)] == listed
    assert all(space.contains(c) for c in listed)
    sampled = space.sample(0)
    assert sampled in listed


def reference(grid: dict[str, list[Any]], conditions: list[tuple[dict, dict]]) -> list[dict]:
    """Seed 000's rule written the plain way: full product, conditions in order, repeats last."""
    points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    for when, then in conditions:
        new: list[dict] = []
        for point in points:
            if all(point[k] in vs for k, vs in when.items()):
                for combo in itertools.product(*then.values()):
                    new.append({**point, **dict(zip(then, combo))})
            else:
                new.append(point)
        points = new
    out: list[dict] = []
    for point in points:
        if point not in out:
            out.append(point)
    return out


@st.composite
def grids_with_conditions(draw: st.DrawFn) -> tuple[dict, list]:
    names = [f"o{i}" for i in range(draw(st.integers(1, 3)))]
    grid = {n: draw(values) for n in names}
    conditions = []
    for _ in range(draw(st.integers(0, 3))):
        when = {k: draw(values) for k in draw(st.lists(st.sampled_from(names), min_size=1,
                                                       unique=True))}
        then = {k: draw(values) for k in draw(st.lists(st.sampled_from(names), min_size=1,
                                                       unique=True))}
        conditions.append((when, then))
    return grid, conditions


@settings(max_examples=200, deadline=None)
@given(grids_with_conditions())
def test_seed_000_conditions_equal_the_plain_rule(case: tuple[dict, list]) -> None:
    grid, conditions = case
    space = space_from_grid(grid, conditions)
    assert list(space.grid()) == reference(grid, conditions)
