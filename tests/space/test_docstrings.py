"""The examples in the space modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "hpsweep.space._grid",
    "hpsweep.space._gridmodule",
    "hpsweep.space._inline",
    "hpsweep.space._literal",
    "hpsweep.space._conditions",
    "hpsweep.space._space",
    "hpsweep.space._style",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.failed == 0
    assert result.attempted > 0


def test_exported_names() -> None:
    import hpsweep.space as space

    assert sorted(space.__all__) == sorted(set(space.__all__))
    for name in space.__all__:
        assert hasattr(space, name), name
    required = {"Float", "Int", "Categorical", "Fixed", "Condition", "Param", "SearchSpace",
                "Grid", "TrialContext", "ArgStyle", "format_option", "Sweep", "RenderedTrial",
                "parse_inline", "none_sweep", "sweep_from_yaml", "sweep_from_grid_module"}
    assert required <= set(space.__all__)
