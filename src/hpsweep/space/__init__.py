"""The search space and every syntax that builds one.

Parameters (:class:`Float`, :class:`Int`, :class:`Categorical`, :class:`Fixed`) live in an ordered
:class:`SearchSpace` with conditional parts and seed-000 grid conditions; :class:`Grid` lists a
finite space lazily. A :class:`Sweep` adds how a configuration becomes a trial's argv and files.
Constructors: :func:`parse_inline` (options written as ``"[1, 2]"``, ``"range(1, 10, 2)"``,
``"uniform(0, 1)"``), :func:`none_sweep`, :func:`sweep_from_yaml` and
:func:`sweep_from_grid_module`.
"""

from __future__ import annotations

from hpsweep.space._grid import MAX_BRANCHES, MAX_EXPANDED, Grid
from hpsweep.space._gridmodule import grid_module_conventions, space_from_grid, sweep_from_grid_module
from hpsweep.space._inline import DISTRIBUTIONS, parse_inline, parse_sweep_value
from hpsweep.space._literal import parse_literal
from hpsweep.space._params import (
    Categorical,
    Condition,
    Fixed,
    Float,
    Int,
    Param,
    param_from_dict,
)
from hpsweep.space._space import SearchSpace
from hpsweep.space._style import ArgStyle, BoolStyle, OptionForm, format_option, format_value
from hpsweep.space._sweep import (
    PLACEHOLDERS,
    ArgSlot,
    ConfigFile,
    RenderedTrial,
    Sweep,
    TrialContext,
    none_sweep,
)
from hpsweep.space._yaml import sweep_from_yaml

__all__ = [
    "DISTRIBUTIONS",
    "MAX_BRANCHES",
    "MAX_EXPANDED",
    "PLACEHOLDERS",
    "ArgSlot",
    "ArgStyle",
    "BoolStyle",
    "Categorical",
    "Condition",
    "ConfigFile",
    "Fixed",
    "Float",
    "Grid",
    "Int",
    "OptionForm",
    "Param",
    "RenderedTrial",
    "SearchSpace",
    "Sweep",
    "TrialContext",
    "format_option",
    "format_value",
    "grid_module_conventions",
    "none_sweep",
    "param_from_dict",
    "parse_inline",
    "parse_literal",
    "parse_sweep_value",
    "space_from_grid",
    "sweep_from_grid_module",
    "sweep_from_yaml",
]
