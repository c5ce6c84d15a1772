"""A sweep: a space plus how a configuration becomes a trial's command line and files."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from hpsweep.errors import SpaceError
from hpsweep.space._space import SearchSpace
from hpsweep.space._style import ArgStyle, format_option, format_value

__all__ = [
    "PLACEHOLDERS",
    "ArgSlot",
    "ConfigFile",
    "RenderedTrial",
    "Sweep",
    "TrialContext",
    "none_sweep",
    "set_path",
]

PLACEHOLDERS = ("{trial_id}", "{trial_dir}", "{worker_id}", "{seed}", "{resource}")


@dataclass(frozen=True)
class TrialContext:
    """What the tuner knows about one run of a trial when it renders the command."""

    trial_id: int
    trial_dir: str
    worker_id: int
    seed: int | None
    resource: int | None


@dataclass(frozen=True)
class RenderedTrial:
    """The argv of one run and the files (relative path in the trial folder -> text) to write
    into the trial folder before it starts."""

    argv: list[str]
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ArgSlot:
    """A command token that takes the value of parameter ``param``: ``prefix + value``.

    ``--lr "[0.1, 0.01]"`` gives the slot ``ArgSlot("lr")`` after the literal ``--lr``;
    ``--lr=[0.1, 0.01]`` gives ``ArgSlot("lr", prefix="--lr=")``.
    """

    param: str
    prefix: str = ""


@dataclass(frozen=True)
class ConfigFile:
    """YAML sweeps: ``base`` with the configuration written over it at dotted paths, saved as
    ``filename`` in the trial folder and passed as ``arg <trial_dir>/<filename>`` (or
    ``arg<path>`` when ``arg`` ends with ``=``; the path alone when ``arg`` is empty).
    String values in the file get the same placeholders as the command."""

    base: dict[str, Any]
    arg: str = "--config"
    filename: str = "config.yaml"


CommandToken = str | ArgSlot


@dataclass(frozen=True)
class Sweep:
    """A frozen sweep: the space and the recipe for each trial's command.

    * ``command``: literal tokens (placeholders such as ``{trial_dir}`` replaced) and
      :class:`ArgSlot` tokens (a parameter's value in place);
    * ``append``: every active parameter without a slot is appended as an option in ``style``
      (seed 000 grid modules and the Python API);
    * ``config_file``: YAML sweeps (seed 003);
    * ``repetitions``: how many times each configuration runs (each with its own seed).
    """

    space: SearchSpace
    command: tuple[CommandToken, ...] = ()
    style: ArgStyle = field(default_factory=ArgStyle)
    repetitions: int = 1
    append: bool = False
    config_file: ConfigFile | None = None
    kind: str = "inline"

    def __post_init__(self) -> None:
        object.__setattr__(self, "command", tuple(self.command))
        if isinstance(self.repetitions, bool) or not isinstance(self.repetitions, int) \
                or self.repetitions < 1:
            raise SpaceError(f"repetitions must be an integer >= 1, got {self.repetitions!r}.")
        for token in self.command:
            if isinstance(token, ArgSlot):
                if token.param not in self.space:
                    raise SpaceError(f"command slot for {token.param!r} names no parameter of "
                                     "the space.")
            elif not isinstance(token, str):
                raise SpaceError(f"command token {token!r} is neither text nor a slot.")

    @property
    def slotted(self) -> set[str]:
        return {t.param for t in self.command if isinstance(t, ArgSlot)}

    def render(self, config: Mapping[str, Any], ctx: TrialContext) -> RenderedTrial:
        """The argv and files of one run of ``config``."""
        argv: list[str] = []
        for token in self.command:
            if isinstance(token, ArgSlot):
                if token.param not in config:
                    raise SpaceError(f"configuration {dict(config)!r} has no value for parameter "
                                     f"{token.param!r} that the command needs.")
                argv.append(token.prefix + format_value(config[token.param]))
            else:
                argv.append(_fill(token, ctx))
        if self.append:
            slotted = self.slotted
            for name in self.space.names:
                if name in config and name not in slotted:
                    argv.extend(format_option(name, config[name], self.style))
        files: dict[str, str] = {}
        if self.config_file is not None:
            cf = self.config_file
            data = copy.deepcopy(cf.base)
            for name, value in config.items():
                set_path(data, name, value)
            files[cf.filename] = yaml.safe_dump(_fill_tree(data, ctx), sort_keys=False)
            path = os.path.join(ctx.trial_dir, cf.filename)
            if cf.arg.endswith("="):
                argv.append(cf.arg + path)
            else:
                argv.extend([cf.arg, path] if cf.arg else [path])
        return RenderedTrial(argv=argv, files=files)

    def to_dict(self) -> dict[str, Any]:
        command: list[Any] = [t if isinstance(t, str) else {"param": t.param, "prefix": t.prefix}
                              for t in self.command]
        cf = self.config_file
        return {
            "kind": self.kind,
            "space": self.space.to_dict(),
            "command": command,
            "style": self.style.to_dict(),
            "repetitions": self.repetitions,
            "append": self.append,
            "config_file": None if cf is None else {"base": copy.deepcopy(cf.base), "arg": cf.arg,
                                                    "filename": cf.filename},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sweep:
        if not isinstance(data, Mapping) or "space" not in data:
            raise SpaceError("stored sweep: expected a dict with 'space' and 'command'; the "
                             "file is damaged or not a sweep.")
        command: list[CommandToken] = [
            t if isinstance(t, str) else ArgSlot(str(t["param"]), str(t.get("prefix", "")))
            for t in data.get("command", [])
        ]
        cf = data.get("config_file")
        return cls(
            space=SearchSpace.from_dict(data["space"]),
            command=tuple(command),
            style=ArgStyle.from_dict(dict(data.get("style", {}))),
            repetitions=int(data.get("repetitions", 1)),
            append=bool(data.get("append", False)),
            config_file=None if not cf else ConfigFile(dict(cf["base"]), str(cf["arg"]),
                                                       str(cf["filename"])),
            kind=str(data.get("kind", "inline")),
        )


def none_sweep(argv: Sequence[str], *, style: ArgStyle | None = None) -> Sweep:
    """Strategy ``none``: one trial, every argument passed exactly as written."""
    tokens = list(argv)
    for token in tokens:
        if not isinstance(token, str):
            raise SpaceError(f"command token {token!r} is not text; pass the command as strings.")
    return Sweep(space=SearchSpace(), command=tuple(tokens), style=style or ArgStyle(),
                 kind="none")


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Write ``value`` at ``a.b.c`` inside nested dicts (the path must exist)."""
    keys = dotted.split(".")
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        if not isinstance(node, dict) or key not in node:
            raise SpaceError(f"path {dotted!r}: {'.'.join(keys[:depth + 1])!r} is not in the "
                             "base config; fix the path or add it to the base config.")
        node = node[key]
    if not isinstance(node, dict) or keys[-1] not in node:
        raise SpaceError(f"path {dotted!r} is not in the base config; fix the path or add it to "
                         "the base config.")
    node[keys[-1]] = copy.deepcopy(value)


def _fill(text: str, ctx: TrialContext) -> str:
    if "{" not in text:
        return text
    values = {"{trial_id}": ctx.trial_id, "{trial_dir}": ctx.trial_dir,
              "{worker_id}": ctx.worker_id, "{seed}": ctx.seed, "{resource}": ctx.resource}
    for placeholder, value in values.items():
        if placeholder in text:
            if value is None:
                raise SpaceError(f"command token {text!r} uses {placeholder} but this run has no "
                                 f"{placeholder[1:-1]}; give one (e.g. --seed) or remove it.")
            text = text.replace(placeholder, str(value))
    return text


def _fill_tree(node: Any, ctx: TrialContext) -> Any:
    if isinstance(node, str):
        return _fill(node, ctx)
    if isinstance(node, dict):
        return {k: _fill_tree(v, ctx) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill_tree(v, ctx) for v in node]
    return node
