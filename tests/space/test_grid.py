from __future__ import annotations

import itertools
import time

import pytest

from hpsweep.errors import SpaceError
from hpsweep.space import Grid, SearchSpace, space_from_grid


def test_grid_follows_itertools_product_order() -> None:
    space = SearchSpace().add_categorical("a", [1, 2, 3]).add_int("b", 0, 4, step=2).add_float(
        "c", 0.0, 0.3, step=0.1).add_fixed("d", "x")
    grid = space.grid()
    expected = [dict(zip("abcd", combo)) for combo in
                itertools.product([1, 2, 3], [0, 2, 4], [0.0, 0.1, 0.2, 0.3], ["x"])]
    assert len(grid) == 36
    assert list(grid) == expected
    assert [grid[i] for i in range(36)] == expected
    assert grid[-1] == expected[-1]
    with pytest.raises(IndexError):
        grid[36]


def test_a_billion_point_grid_is_counted_and_indexed_fast() -> None:
    space = SearchSpace()
    for name in "abcdefghi":
        space.add_int(name, 0, 9)
    start = time.perf_counter()
    grid = space.grid()
    assert len(grid) == 10**9
    assert grid[123456789] == dict(zip("abcdefghi", [1, 2, 3, 4, 5, 6, 7, 8, 9]))
    assert grid[10**9 - 1] == dict.fromkeys("abcdefghi", 9)
    assert time.perf_counter() - start < 0.5


def test_a_grid_past_sys_maxsize_still_has_a_size() -> None:
    space = SearchSpace()
    for i in range(25):
        space.add_int(f"p{i}", 0, 999)
    grid = space.grid()
    assert grid.size == 1000**25
    assert grid[grid.size - 1]["p0"] == 999
    with pytest.raises(SpaceError, match=r"Grid\.size"):
        len(grid)


def test_continuous_parameters_have_no_grid() -> None:
    space = SearchSpace().add_float("lr", 0.0, 1.0)
    assert not space.is_finite
    with pytest.raises(SpaceError, match="'lr' is continuous"):
        space.grid()


def test_seed_000_conditions_replace_values_and_drop_duplicates() -> None:
    space = space_from_grid({"option1": [1, 2], "option2": [5, 6]},
                            [({"option1": [1]}, {"option2": [-1]})])
    assert list(space.grid()) == [
        {"option1": 1, "option2": -1},
        {"option1": 2, "option2": 5},
        {"option1": 2, "option2": 6},
    ]
    assert space.contains({"option1": 1, "option2": -1})
    assert not space.contains({"option1": 1, "option2": 5})
    assert space.sample(0) in list(space.grid())


def test_conditions_apply_in_order_and_are_not_retested() -> None:
    # condition 2 makes points that would match condition 1 again; condition 1 is not re-applied
    conditions = [({"a": [1]}, {"b": [10]}), ({"b": [10]}, {"a": [1, 2]})]
    space = space_from_grid({"a": [1, 3], "b": [0]}, conditions)
    assert list(space.grid()) == [{"a": 1, "b": 10}, {"a": 2, "b": 10}, {"a": 3, "b": 0}]


def test_conditions_can_widen_the_search() -> None:
    space = space_from_grid({"opt": ["sgd", "adam"], "beta2": [0.99]},
                            [({"opt": ["adam"]}, {"beta2": [0.9, 0.99, 0.999]})])
    assert len(space.grid()) == 4


def test_a_conditioned_grid_too_large_to_expand_says_so() -> None:
    grid = {f"p{i}": list(range(10)) for i in range(8)}  # 10^8 points
    space = space_from_grid(grid, [({"p0": [1]}, {"p1": [0]})])
    start = time.perf_counter()
    with pytest.raises(SpaceError, match="before its conditions are applied"):
        space.grid()
    assert time.perf_counter() - start < 1.0
    small = space_from_grid({"a": list(range(100)), "b": [0]},
                            [({"b": [0]}, {"b": list(range(100))})])
    with pytest.raises(SpaceError, match="more than 500 points"):
        small.grid(max_points=500)


def test_too_many_conditional_branches_say_so() -> None:
    space = SearchSpace().add_int("a", 0, 20000)
    space.add_conditional("p", "a in [1, 2]", SearchSpace().add_int("b", 0, 1))
    with pytest.raises(SpaceError, match="branches"):
        space.grid()


def test_grid_rejects_non_integer_indices() -> None:
    grid = Grid(SearchSpace().add_int("a", 0, 3).params.values())
    with pytest.raises(TypeError):
        grid[1.0]  # type: ignore[index]
