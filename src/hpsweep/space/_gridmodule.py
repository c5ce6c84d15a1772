"""Seed 000's grid modules (hypnettorch's ``hpsearch_config``): ``grid`` and ``conditions``.

A module name (``my_pkg.hpsearch_config``) or a ``.py`` file path is loaded as is; it is run once
and not left in ``sys.modules``. ``grid`` maps option names to lists of values and ``conditions``
(optional) is a list of ``(when, then)`` dict pairs applied in order (see :class:`Grid`).

hypnettorch's conventions hold: options are written ``--name=value``; ``[False, True]`` makes a
flag present or absent; a string written with inner quotes (``'"example string"'``, needed there
because commands were shell strings) is the plain string ``example string`` here, since argv
carries spaces intact. Unlike hypnettorch, a condition naming a parameter that is not in ``grid``
is an error rather than silently ignored. If ``command`` is empty and the module defines
``_SCRIPT_NAME``, the command is ``python3 <_SCRIPT_NAME>`` (the script next to the module when it
is not in the working directory).

hypnettorch's other module-level conventions are read by :func:`grid_module_conventions` and
become the sweep's defaults (an explicit command-line option wins): ``_PERFORMANCE_KEY`` the
objective metric, ``_PERFORMANCE_SORT_ASC`` its direction (True: smaller is better),
``_SUMMARY_FILENAME`` the summary file read at the end of each trial, ``_OUT_ARG`` the option that
receives the trial folder. hypnettorch's ``_PERFORMANCE_EVAL`` and ``_SUMMARY_KEYWORDS`` functions
are not used: the summary file is parsed as ``key value`` lines (see ``executors/metrics.py``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from hpsweep.errors import SpaceError
from hpsweep.space._conditions import check_grid_conditions, same_value, unique_values
from hpsweep.space._space import SearchSpace
from hpsweep.space._style import ArgStyle
from hpsweep.space._sweep import Sweep

__all__ = ["grid_module_conventions", "load_grid_module", "script_command", "space_from_grid",
           "sweep_from_grid_module", "unquote"]


def unquote(value: Any) -> Any:
    """``'"text"'`` -> ``'text'`` (one layer of matching quotes around a whole string)."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def load_grid_module(module: str) -> ModuleType:
    """Run a grid module (dotted name or ``.py`` path) without registering it in sys.modules."""
    if not isinstance(module, str) or not module.strip():
        raise SpaceError(f"grid module: expected a module name or a .py path, got {module!r}.")
    is_path = module.endswith(".py") or os.sep in module or "/" in module
    try:
        if is_path:
            if not os.path.isfile(module):
                raise SpaceError(f"grid module {module!r}: no such file; check the path.")
            spec = importlib.util.spec_from_file_location(f"_hpsweep_grid_{uuid.uuid4().hex}",
                                                          module)
        else:
            spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise SpaceError(f"grid module {module!r} cannot be found ({exc}); check the name and "
                         "that its folder is on the Python path, or pass a .py path.") from None
    if spec is None or spec.loader is None:
        raise SpaceError(f"grid module {module!r} cannot be found; check the name and that its "
                         "folder is on the Python path, or pass a .py path.")
    loaded = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(spec.name)
    sys.modules[spec.name] = loaded  # dataclasses and pickling look a module up while it runs
    try:
        spec.loader.exec_module(loaded)
    except SystemExit as exc:  # sys.exit() or exit() at the module's top level
        raise SpaceError(f"grid module {module!r} called sys.exit({exc.code!r}) while loading, "
                         "so it defined no grid; remove the exit from the module's top level (put "
                         "it under `if __name__ == '__main__':`).") from None
    except RecursionError:
        raise SpaceError(f"grid module {module!r} failed while loading: it recursed past "
                         "Python's limit.") from None
    except Exception as exc:  # the user's module may raise anything while it runs
        raise SpaceError(f"grid module {module!r} failed while loading: "
                         f"{type(exc).__name__}: {exc}") from None
    finally:
        if previous is None:
            sys.modules.pop(spec.name, None)
        else:
            sys.modules[spec.name] = previous
    return loaded


def warn_duplicates(what: str, name: str, values: Sequence[Any]) -> None:
    """Say (as a warning) when a list of grid values repeats a value: the repeat is dropped, so the
    grid has fewer configurations than the product of the list lengths."""
    kept = unique_values(list(values))
    if len(kept) < len(values):
        dropped = [v for i, v in enumerate(values) if any(same_value(v, w) for w in values[:i])]
        logging.getLogger("hpsweep").warning(
            "%s: %s lists %s more than once; the repeat is dropped (%d values, not %d)",
            what, name, ", ".join(repr(v) for v in dropped), len(kept), len(values))


def space_from_grid(grid: Any, conditions: Any = (), *, what: str = "grid") -> SearchSpace:
    """A space from a hypnettorch ``grid`` dict and ``conditions`` list (strings unquoted)."""
    if not isinstance(grid, Mapping) or not grid:
        raise SpaceError(f"{what}: `grid` must be a non-empty dict of option name -> list of "
                         f"values, got {grid!r}.")
    space = SearchSpace()
    for name, values in grid.items():
        if not isinstance(name, str) or not name:
            raise SpaceError(f"{what}: option names must be non-empty strings, got {name!r}.")
        if not isinstance(values, (list, tuple)) or not values:
            raise SpaceError(f"{what}: option {name!r} needs a non-empty list of values, got "
                             f"{values!r}; write {name!r}: [{values!r}].")
        warn_duplicates(what, repr(name), [unquote(v) for v in values])
        space.add_categorical(name, unique_values([unquote(v) for v in values]))
    for when, then in check_grid_conditions(conditions, space.names):
        space.add_grid_condition(
            {k: [unquote(v) for v in vs] for k, vs in when.items()},
            {k: unique_values([unquote(v) for v in vs]) for k, vs in then.items()},
        )
    return space


def sweep_from_grid_module(command: Sequence[str], module: str, *,
                           style: ArgStyle | None = None) -> Sweep:
    """A sweep from a grid module: each grid point's options are appended to ``command``.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cfg.py"
    >>> _ = path.write_text("grid = {'option1': [10], 'option3': [False, True]}")
    >>> sweep = sweep_from_grid_module(["python3", "train.py"], str(path))
    >>> sweep.space.grid().size
    2
    """
    loaded = load_grid_module(module)
    if not hasattr(loaded, "grid"):
        raise SpaceError(f"grid module {module!r} defines no `grid`; add "
                         "`grid = {'option': [value, ...]}`.")
    space = space_from_grid(loaded.grid, getattr(loaded, "conditions", None) or [],
                            what=f"grid module {module!r}")
    argv = list(command) or script_command(module, loaded)
    for token in argv:
        if not isinstance(token, str):
            raise SpaceError(f"command token {token!r} is not text; pass the command as strings.")
    return Sweep(space=space, command=tuple(argv), style=style or ArgStyle(), append=True,
                 kind="grid_module")


def script_command(module: str, loaded: ModuleType | None = None) -> list[str]:
    """``python3 <_SCRIPT_NAME>`` of a grid module (the script next to the module when it is not in
    the working directory); an empty list when the module names no script."""
    loaded = loaded or load_grid_module(module)
    script = getattr(loaded, "_SCRIPT_NAME", None)
    if not isinstance(script, str) or not script:
        return []
    if not os.path.isfile(script) and (module.endswith(".py") or os.sep in module):
        beside = os.path.join(os.path.dirname(os.path.abspath(module)), script)
        if os.path.isfile(beside):
            script = beside
    return ["python3", script]


def grid_module_conventions(module: str) -> dict[str, Any]:
    """hypnettorch's conventions a grid module states: ``metric``, ``mode``, ``summary_file``,
    ``out_dir_arg`` and ``command`` (only those it defines)."""
    loaded = load_grid_module(module)
    out: dict[str, Any] = {}
    key = getattr(loaded, "_PERFORMANCE_KEY", None)
    if key is not None:
        if not isinstance(key, str) or not key:
            raise SpaceError(f"grid module {module!r}: _PERFORMANCE_KEY must be a metric name, got "
                             f"{key!r}.")
        out["metric"] = key
    ascending = getattr(loaded, "_PERFORMANCE_SORT_ASC", None)
    if ascending is not None:
        if not isinstance(ascending, bool):
            raise SpaceError(f"grid module {module!r}: _PERFORMANCE_SORT_ASC must be True or False, "
                             f"got {ascending!r}.")
        out["mode"] = "min" if ascending else "max"
    for attr, name in (("_SUMMARY_FILENAME", "summary_file"), ("_OUT_ARG", "out_dir_arg")):
        value = getattr(loaded, attr, None)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip("-"):
            raise SpaceError(f"grid module {module!r}: {attr} must be a non-empty string, got "
                             f"{value!r}.")
        out[name] = value.lstrip("-") if name == "out_dir_arg" else value
    command = script_command(module, loaded)
    if command:
        out["command"] = command
    return out
