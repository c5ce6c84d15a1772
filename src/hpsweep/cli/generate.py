"""``hpsweep generate [options] -- COMMAND ...``: every trial's command, without running anything.

Prints one shell-quoted argv line per run (seed 000's "print all commands so the user can verify")
and the count on stderr; with ``--out DIR`` also writes one folder per run (seed 003's
``--generate-only``): ``DIR/<id>/command.txt``, ``config.json`` and the run's files (the YAML
sweeps' ``config.yaml``). At most ``--limit`` runs are listed: a larger grid is counted and the
rest is left out, with a line that says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Iterator
from typing import Any

from hpsweep.errors import UsageError

__all__ = ["add_arguments", "run"]

DEFAULT_LIMIT = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("what to sweep (default: the inline syntax in the command)")
    src.add_argument("--config", metavar="BASE.yaml", help="base YAML config (with --tune)")
    src.add_argument("--tune", metavar="TUNE.yaml", help="tuning YAML: lists under nested sections")
    src.add_argument("--config-arg", default="--config",
                     help="option the script takes its config file with (default --config)")
    src.add_argument("--grid-module", metavar="MODULE|FILE.py",
                     help="Python module or file with `grid` and `conditions`")
    src.add_argument("--arg-style", default="equals", choices=["equals", "space", "hydra"],
                     help="how parameters are written: --k=v, --k v or k=v (default equals)")
    src.add_argument("--bool-style", default="flag", choices=["flag", "value"],
                     help="booleans as present/absent flags or as explicit values")
    how = parser.add_argument_group("which configurations")
    how.add_argument("--strategy", choices=["grid", "random", "none"], default=None,
                     help="grid (default for a finite space), random, or none (the command as is)")
    how.add_argument("--num-trials", type=int, help="how many configurations (default: all)")
    how.add_argument("--seed", type=int, help="seed of values drawn once and of random search")
    how.add_argument("--repetitions", type=int, default=1, help="runs of each configuration")
    out = parser.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help="write one folder per run into DIR")
    out.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                     help=f"list at most this many runs (default {DEFAULT_LIMIT})")


def _build_sweep(args: argparse.Namespace, command: list[str]) -> Any:
    from hpsweep.space import (
        ArgStyle,
        none_sweep,
        parse_inline,
        sweep_from_grid_module,
        sweep_from_yaml,
    )

    style = ArgStyle.from_names(getattr(args, "arg_style", "equals"),
                                getattr(args, "bool_style", "flag"))
    config, tune = getattr(args, "config", None), getattr(args, "tune", None)
    grid_module = getattr(args, "grid_module", None)
    if (config or tune) and grid_module:
        raise UsageError("give either --config/--tune or --grid-module, not both.")
    if config or tune:
        if not (config and tune):
            raise UsageError("--config and --tune go together: a base config and a tuning config.")
        return sweep_from_yaml(command, config, tune, style=style,
                               config_arg=getattr(args, "config_arg", "--config"))
    if grid_module:
        return sweep_from_grid_module(command, grid_module, style=style)
    if getattr(args, "strategy", None) == "none":
        return none_sweep(command, style=style)
    return parse_inline(command, seed=getattr(args, "seed", None), style=style)


def _configs(sweep: Any, strategy: str, num_trials: int | None,
             seed: int | None) -> tuple[int, Iterator[dict[str, Any]]]:
    """(how many configurations, an iterator over them)."""
    from hpsweep.search.basic import RandomSearcher

    space = sweep.space
    if strategy == "random":
        searcher = RandomSearcher(space, metric="objective", mode="min", seed=seed)
        total = searcher.total
        if total is None:
            if num_trials is None:
                continuous = [n for n, p in space.params.items() if not p.is_finite]
                raise UsageError(f"--strategy random over continuous parameter(s) "
                                 f"{', '.join(continuous)} needs --num-trials.")
            total = num_trials
        count = total if num_trials is None else min(num_trials, total)

        def draw() -> Iterator[dict[str, Any]]:
            for i in range(count):
                config = searcher.suggest(i)
                if config is None:
                    return
                yield config

        return count, draw()
    if not space.is_finite:
        continuous = [n for n, p in space.params.items() if not p.is_finite]
        raise UsageError(f"--strategy grid: parameter(s) {', '.join(continuous)} are continuous; "
                         "give a count (e.g. uniform(0, 1, 5)) or use --strategy random.")
    grid = space.grid()
    count = grid.size if num_trials is None else min(num_trials, grid.size)
    return count, (grid[i] for i in range(count))


def _check_positive(name: str, value: int | None, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if value is None or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}.")


def run(args: argparse.Namespace, command: list[str] | None = None) -> int:
    """Print (and with ``--out`` write) every run's command. ``command`` defaults to
    ``args.command`` (everything after ``--``)."""
    from hpsweep.space import TrialContext

    command = list(command if command is not None else getattr(args, "command", None) or [])
    if not command and not getattr(args, "grid_module", None):
        raise UsageError("no command: write it after `--`, e.g. "
                         "hpsweep generate -- python train.py --lr '[0.1, 0.01]'.")
    num_trials = getattr(args, "num_trials", None)
    limit = getattr(args, "limit", DEFAULT_LIMIT)
    repetitions = getattr(args, "repetitions", 1)
    _check_positive("--num-trials", num_trials)
    _check_positive("--limit", limit, allow_none=False)
    _check_positive("--repetitions", repetitions, allow_none=False)
    if getattr(args, "seed", None) is None:
        args.seed = 0  # the same values on every call; --seed gives others
        said_seed = "seed 0 (the default; --seed N gives other drawn values)"
    else:
        said_seed = f"seed {args.seed}"
    seed = args.seed
    sweep = _build_sweep(args, command)
    strategy = getattr(args, "strategy", None) or ("grid" if sweep.space.is_finite else "random")
    if strategy == "none":
        strategy = "grid"  # the none sweep has an empty space: exactly one configuration
    count, configs = _configs(sweep, strategy, num_trials, seed)
    reps = max(repetitions, sweep.repetitions)
    total_runs = count * reps
    out_dir = getattr(args, "out", None)
    shown = min(total_runs, limit)
    listed = [c for _, c in zip(range(min(count, shown)), configs)]
    lines: list[str] = []
    trial_id = 0
    for rep in range(reps):
        for config in listed:
            if trial_id >= shown:
                break
            folder = os.path.join(out_dir or "trials", f"{trial_id:04d}")
            ctx = TrialContext(trial_id=trial_id, trial_dir=folder, worker_id=0,
                               seed=None if seed is None else seed + trial_id, resource=None)
            rendered = sweep.render(config, ctx)
            line = shlex.join(rendered.argv)
            lines.append(line)
            print(line)
            if out_dir:
                _write_run(folder, line, config, rep, rendered.files)
            trial_id += 1
    noun = "configuration" if count == 1 else "configurations"
    summary = f"{count} {noun}"
    if reps > 1:
        summary += f" x {reps} repetitions = {total_runs} runs"
    print(f"{summary}; {said_seed}", file=sys.stderr)
    if shown < total_runs:
        print(f"listed the first {shown} of {total_runs} runs; raise --limit to list more.",
              file=sys.stderr)
    if out_dir:
        with open(os.path.join(out_dir, "commands.txt"), "w", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in lines))
        print(f"wrote {len(lines)} run folders under {out_dir}", file=sys.stderr)
    return 0


def _write_run(folder: str, line: str, config: dict[str, Any], repetition: int,
               files: dict[str, str]) -> None:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "command.txt"), "w", encoding="utf-8") as handle:
        handle.write(line + "\n")
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as handle:
        json.dump({"config": config, "repetition": repetition}, handle, indent=2)
        handle.write("\n")
    for rel, text in files.items():
        target = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
