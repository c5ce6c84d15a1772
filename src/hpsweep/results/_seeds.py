"""Random-seed gathering (seed 000's ``gather_random_seeds``): one configuration, N seeds.

:func:`seed_sweep` turns a study's frozen sweep into a new one whose parameters are all fixed to
one configuration and whose seed option takes N distinct seeds (a grid over the seeds), so that
the same engine runs it as an ordinary, resumable study. :func:`seeds_summary` gathers the values
per summary key (the reference run first when it counts as a seed) and gives the mean and the
sample standard deviation (``ddof=1``) or the standard error of the mean (SD / sqrt(n)).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpsweep.errors import UsageError
from hpsweep.results._study import StudyData, trial_value
from hpsweep.space import ArgSlot, Categorical, Fixed, OptionForm, SearchSpace, Sweep
from hpsweep.trial import TrialRecord, TrialState

__all__ = [
    "KeySummary",
    "SeedsSummary",
    "choose_seeds",
    "find_seed_in_command",
    "seed_sweep",
    "seeds_summary",
    "write_seeds_summary",
]

SEED_LIMIT = 2**31 - 1


def find_seed_in_command(command: Sequence[Any], seed_arg: str) -> int | None:
    """The literal value of ``--<seed_arg>`` in a stored command (``--s 3`` or ``--s=3``)."""
    names = {f"--{seed_arg}", f"-{seed_arg}", seed_arg}
    tokens = list(command)
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            continue
        name, sep, value = token.partition("=")
        if name in names and sep:
            return _as_int(value)
        if token in names - {seed_arg} and i + 1 < len(tokens) and isinstance(tokens[i + 1], str):
            return _as_int(tokens[i + 1])
    return None


def _as_int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[-+]?\d+", text.strip()) else None


def choose_seeds(count: int, *, rng_seed: int, exclude: Sequence[int] = ()) -> list[int]:
    """``count`` distinct seeds in [0, 2**31 - 1), none of them in ``exclude``."""
    rng = np.random.default_rng(rng_seed)
    taken = set(exclude)
    out: list[int] = []
    while len(out) < count:
        candidate = int(rng.integers(0, SEED_LIMIT))
        if candidate not in taken:
            taken.add(candidate)
            out.append(candidate)
    return out


def _without_seed_tokens(command: Sequence[Any], seed_arg: str) -> list[Any]:
    """The command with any literal or swept ``--<seed_arg>`` option removed."""
    names = {f"--{seed_arg}", f"-{seed_arg}"}
    out: list[Any] = []
    skip = False
    for i, token in enumerate(command):
        if skip:
            skip = False
            continue
        if isinstance(token, ArgSlot):
            if token.param == seed_arg:
                continue
            out.append(token)
            continue
        name, sep, _ = token.partition("=")
        if name in names and sep:
            continue
        if token in names and i + 1 < len(command):
            skip = True
            continue
        out.append(token)
    return out


def _seed_tokens(seed_arg: str, sweep: Sweep) -> list[Any]:
    style = sweep.style
    if style.form is OptionForm.HYDRA:
        return [ArgSlot(seed_arg, prefix=f"{seed_arg}=")]
    if style.form is OptionForm.SPACE:
        return [f"{style.prefix}{seed_arg}", ArgSlot(seed_arg)]
    return [ArgSlot(seed_arg, prefix=f"{style.prefix}{seed_arg}=")]


def seed_sweep(sweep: Sweep, config: Mapping[str, Any], *, seed_arg: str,
               seeds: Sequence[int]) -> Sweep:
    """``sweep`` with every parameter fixed to ``config`` and ``seed_arg`` taking ``seeds``."""
    if not seeds:
        raise UsageError("--num-seeds: there is no new seed to run; ask for more seeds.")
    _check_config(sweep, config, seed_arg)
    space = SearchSpace()
    for name in sweep.space.names:
        if name != seed_arg and name in config:
            space.add(Fixed(name, config[name]))
    for name, value in config.items():  # values the space does not describe (e.g. PBT's)
        if name not in space and name != seed_arg:
            space.add(Fixed(name, value))
    space.add(Categorical(seed_arg, tuple(int(s) for s in seeds)))
    command = _without_seed_tokens(sweep.command, seed_arg)
    inactive = {n for n in sweep.space.names if n not in config}
    command = _drop_slots(command, inactive)
    if sweep.config_file is None and not sweep.append:  # append sweeps add it as an option
        command += _seed_tokens(seed_arg, sweep)
    return Sweep(space=space, command=tuple(command), style=sweep.style, repetitions=1,
                 append=sweep.append, config_file=sweep.config_file, kind=sweep.kind)


def _check_config(sweep: Sweep, config: Mapping[str, Any], seed_arg: str) -> None:
    """Every value of ``config`` must reach the script, and every required slot be filled."""
    if sweep.config_file is None and not sweep.append:
        unknown = sorted(k for k in config if k not in sweep.slotted and k != seed_arg)
        if unknown:
            raise UsageError(f"configuration keys {unknown} are not options of the sweep's "
                             f"command (its parameters: {sorted(sweep.slotted)}); remove them.")
    params = sweep.space.params
    missing = sorted(n for n in sweep.slotted if n not in config and n != seed_arg
                     and params[n].condition is None)
    if missing:
        raise UsageError(f"the configuration gives no value for {missing}, which the command "
                         "needs; add them to --config.")


def _drop_slots(command: Sequence[Any], names: set[str]) -> list[Any]:
    """The command without the slots of ``names`` (and the option name written before each)."""
    out: list[Any] = []
    for token in command:
        if isinstance(token, ArgSlot) and token.param in names:
            if out and isinstance(out[-1], str) and out[-1].lstrip("-") == token.param:
                out.pop()
            continue
        out.append(token)
    return out


@dataclass(frozen=True)
class KeySummary:
    """The spread of one summary key over the seeds."""

    key: str
    values: tuple[float, ...]
    mean: float
    spread: float  # SD (ddof=1) or SEM
    sem: bool

    @property
    def n(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class SeedsSummary:
    """Per-key spread, the seeds it covers and the reference configuration."""

    keys: tuple[KeySummary, ...]
    seeds: tuple[int | None, ...]
    config: dict[str, Any] = field(default_factory=dict)
    precision: int = 3


def _spread(values: Sequence[float], sem: bool) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    mean = float(arr.mean())
    sd = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return mean, (sd / math.sqrt(arr.size) if sem else sd)


def seeds_summary(runs: Sequence[tuple[int | None, TrialRecord]], keys: Sequence[str], *,
                  sem: bool = False, precision: int = 3,
                  config: Mapping[str, Any] | None = None) -> SeedsSummary:
    """Mean and SD (or SEM) of each key over ``runs`` (seed, trial); only completed runs with a
    finite value of a key count for that key."""
    if precision < 0:
        raise UsageError(f"--precision must be >= 0, got {precision}.")
    done = [(s, t) for s, t in runs if t.state is TrialState.COMPLETED]
    out = []
    for key in keys:
        values = [v for _, t in done if (v := trial_value(t, key)) is not None]
        if not values:
            continue
        mean, spread = _spread(values, sem)
        out.append(KeySummary(key, tuple(values), mean, spread, sem))
    return SeedsSummary(keys=tuple(out), seeds=tuple(s for s, _ in done),
                        config=dict(config or {}), precision=precision)


def summary_text(summary: SeedsSummary) -> str:
    """The text form: one ``key: mean +- spread`` line per key, then the seeds."""
    p = summary.precision
    label = "SEM" if any(k.sem for k in summary.keys) else "SD"
    lines = [f"# {len(summary.seeds)} seeds; mean +- {label}"]
    for k in summary.keys:
        lines.append(f"{k.key}: {k.mean:.{p}f} +- {k.spread:.{p}f} (n={k.n})")
    lines.append("seeds: " + ", ".join("the script's own (reference run)" if s is None else str(s)
                                       for s in summary.seeds))
    lines.append("config: " + json.dumps(summary.config, sort_keys=True, default=str))
    return "\n".join(lines) + "\n"


def summary_json(summary: SeedsSummary) -> dict[str, Any]:
    p = summary.precision
    return {
        "seeds": list(summary.seeds), "config": summary.config, "precision": p,
        "statistic": "sem" if any(k.sem for k in summary.keys) else "sd",
        "keys": {k.key: {"mean": round(k.mean, p), "spread": round(k.spread, p), "n": k.n,
                         "values": list(k.values)} for k in summary.keys},
    }


def write_seeds_summary(folder: str | Path, summary: SeedsSummary) -> tuple[Path, Path]:
    """Write ``seeds_summary.txt`` and ``seeds_summary.json`` into ``folder``."""
    root = Path(folder)
    text_path, json_path = root / "seeds_summary.txt", root / "seeds_summary.json"
    for path, content in ((text_path, summary_text(summary)),
                          (json_path, json.dumps(summary_json(summary), indent=2, default=str))):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content)
        os.replace(tmp, path)
    return text_path, json_path


def reference_seed(data: StudyData, trial: TrialRecord, seed_arg: str) -> int | None:
    """The seed the reference trial ran with, when it can be known."""
    if seed_arg in trial.config and _as_int(str(trial.config[seed_arg])) is not None:
        return int(trial.config[seed_arg])
    options = data.sweep.get("options", {})
    if options.get("seed_arg") == seed_arg and trial.seed is not None:
        return trial.seed
    return find_seed_in_command(options.get("command", []), seed_arg)


def best_trial(data: StudyData) -> TrialRecord:
    """The first completed run of the best configuration: by the mean of the objective over its
    runs when it ran more than once (repetitions), else by its value (ties: the lowest id)."""
    from hpsweep._groups import study_groups

    groups = [g for g in study_groups(data) if g.mean is not None]
    if not groups:
        raise UsageError(f"{data.root} has no completed trial with a value of {data.metric!r}; "
                         "name one with --run-dir or give --config.")
    done = [t for t in groups[0].runs if t.state is TrialState.COMPLETED and t.trial_id >= 0
            and trial_value(t, data.metric) is not None]
    return min(done, key=lambda t: t.trial_id)
