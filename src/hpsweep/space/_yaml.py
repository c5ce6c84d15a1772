"""Seed 003's YAML sweeps: a base config plus a tuning config of lists.

The tuning file mirrors the base file's nesting. Every leaf list is the choices of the parameter
at that dotted path (``learning_rate_schedule.initial``); a scalar leaf is a fixed override. Each
combination of choices is written over a copy of the base config, saved as the trial's
``config.yaml`` and passed to the command as ``--config <trial_dir>/config.yaml``.

Repeated values in a list are dropped (the first kept): the seed's example lists ``0.001`` twice
under ``beta_schedule.initial``, so its 2*2*2*2*3*1 = 48 permutations hold 32 distinct
configurations, and the sweep has those 32. Use ``repetitions`` to run a configuration again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from hpsweep.errors import SpaceError
from hpsweep.space._conditions import unique_values
from hpsweep.space._space import SearchSpace, check_jsonable
from hpsweep.space._style import ArgStyle
from hpsweep.space._sweep import ConfigFile, Sweep

__all__ = ["load_yaml_mapping", "sweep_from_yaml"]

PathOrData = str | os.PathLike[str] | Mapping[str, Any]

MAX_DEPTH = 100
"""The deepest nesting of mappings and lists a YAML file may have."""
MAX_NODES = 1_000_000
"""The most values a YAML file may hold once its aliases are expanded (refuses alias bombs)."""


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses files nested deeper than :data:`MAX_DEPTH` and files
    whose aliases expand to more than :data:`MAX_NODES` values, before building any object."""

    def __init__(self, stream: Any, what: str) -> None:
        super().__init__(stream)
        self._what = what
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise SpaceError(f"{self._what} is nested deeper than {MAX_DEPTH} levels (the "
                                 "limit for YAML files); flatten it.")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node: yaml.Node, what: str) -> int:
    """How many values ``node`` stands for with every alias expanded (each shared node counted
    once per use), stopping at :data:`MAX_NODES`. Iterative, each node visited once."""
    sizes: dict[int, int] = {}
    todo: list[tuple[yaml.Node, bool]] = [(node, False)]
    while todo:
        current, ready = todo.pop()
        if id(current) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        elif isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        if not ready:
            todo.append((current, True))
            todo.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 1) for c in children)
        if total > MAX_NODES:
            raise SpaceError(f"{what} holds more than {MAX_NODES} values once its aliases (*name) "
                             "are expanded (the limit for YAML files); write the values out or "
                             "use fewer aliases.")
        sizes[id(current)] = total
    return sizes.get(id(node), 1)


def _load_bounded(handle: Any, what: str) -> Any:
    loader = _BoundedLoader(handle, what)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, what)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_yaml_mapping(source: PathOrData, what: str) -> dict[str, Any]:
    """A YAML file (or an already loaded mapping) as a dict; SpaceError for anything else."""
    if isinstance(source, Mapping):
        return dict(source)
    path = os.fspath(source)
    try:
        with open(path, encoding="utf-8") as handle:
            data = _load_bounded(handle, f"{what} {path!r}")
    except OSError as exc:
        raise SpaceError(
            f"{what} {path!r} cannot be read ({exc.strerror}); check the path."
        ) from None
    except yaml.YAMLError as exc:
        raise SpaceError(f"{what} {path!r} is not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SpaceError(f"{what} {path!r} is not UTF-8 text ({exc.reason}).") from None
    except RecursionError:
        raise SpaceError(f"{what} {path!r} is nested too deeply to read; flatten it.") from None
    if not isinstance(data, dict):
        raise SpaceError(f"{what} {path!r} must hold a mapping (key: value lines), but holds "
                         f"{type(data).__name__}; write it as nested `key: value` sections.")
    return data


def _leaves(node: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if not value:
                raise SpaceError(f"tuning config: section {path!r} is empty; give it parameters "
                                 "or remove it.")
            out.extend(_leaves(value, path + "."))
        else:
            out.append((path, value))
    return out


def _check_path(base: Mapping[str, Any], dotted: str) -> None:
    node: Any = base
    keys = dotted.split(".")
    for depth, key in enumerate(keys):
        if not isinstance(node, Mapping) or key not in node:
            where = ".".join(keys[:depth]) or "the top level"
            raise SpaceError(f"tuning config: path {dotted!r} is not in the base config ({key!r} "
                             f"is missing under {where}); fix the path or add it to the base "
                             "config.")
        node = node[key]


def sweep_from_yaml(command: Sequence[str], base_path: PathOrData, tune_path: PathOrData, *,
                    config_arg: str = "--config", repetitions: int = 1,
                    filename: str = "config.yaml", style: ArgStyle | None = None) -> Sweep:
    """A sweep whose trials each get a config file: ``base`` with one combination written over.

    ``base_path`` and ``tune_path`` are YAML files (or already loaded mappings). The base config is
    frozen into the sweep, so a resumed study does not read the file again.
    """
    base = load_yaml_mapping(base_path, "base config")
    tune = load_yaml_mapping(tune_path, "tuning config")
    leaves = _leaves(tune, "")
    if not leaves:
        raise SpaceError("tuning config: it has no parameters; list choices such as "
                         "`hyperparameters: {lr: [0.1, 0.01]}`.")
    space = SearchSpace()
    for path, value in leaves:
        _check_path(base, path)
        if isinstance(value, list):
            if not value:
                raise SpaceError(f"tuning config: {path!r} has an empty list; give at least one "
                                 "value.")
            from hpsweep.space._gridmodule import warn_duplicates

            warn_duplicates("tuning config", repr(path), value)
            space.add_categorical(path, unique_values([check_jsonable(path, v) for v in value]))
        else:
            space.add_fixed(path, value)
    for token in command:
        if not isinstance(token, str):
            raise SpaceError(f"command token {token!r} is not text; pass the command as strings.")
    return Sweep(space=space, command=tuple(command), repetitions=repetitions,
                 style=style or ArgStyle(),
                 config_file=ConfigFile(base=check_jsonable("base config", base), arg=config_arg,
                                        filename=filename),
                 kind="yaml")
