"""``hpsweep run [options] -- COMMAND ...``: create a study and sweep the command."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsweep.cli.progress import add_display_arguments
from hpsweep.errors import HpsweepError, UsageError
from hpsweep.store import StudyDir

if TYPE_CHECKING:
    from hpsweep.space import Sweep
    from hpsweep.tuner.session import SweepOptions

__all__ = ["add_arguments", "build_sweep", "options_from_args", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_argument_group("what to sweep (default: the inline syntax in the command)")
    src.add_argument("--config", metavar="BASE.yaml", help="base YAML config (with --tune)")
    src.add_argument("--tune", metavar="TUNE.yaml", help="tuning YAML: lists under nested sections")
    src.add_argument("--config-arg", default="--config",
                     help="option the script takes its per-trial config file with (default --config)")
    src.add_argument("--grid-module", metavar="MODULE|FILE.py",
                     help="Python module or file with `grid` and `conditions`")
    src.add_argument("--arg-style", default=None, choices=["equals", "space", "hydra"],
                     help="how parameters are written: --k=v, --k v or k=v (default equals)")
    src.add_argument("--bool-style", default="flag", choices=["flag", "value"],
                     help="booleans as present/absent flags or as explicit values (grid modules, YAML)")
    how = p.add_argument_group("how to search")
    how.add_argument("--strategy", default=None, type=_strategy,
                     help="grid | random | none | qmc | tpe | gp | cmaes | nsga2 | auto "
                          "(default grid, or random when the space is continuous; Grid's "
                          "grid_search and random_search are grid and random)")
    how.add_argument("--scheduler", default="fifo",
                     help=" | ".join(_scheduler_names()) + " (default fifo)")
    how.add_argument("--num-trials", "--num_trials", type=int,
                     help="number of configurations (default: the whole grid)")
    how.add_argument("--metric", action="append", help="objective metric name (repeat for multi-objective)")
    how.add_argument("--mode", action="append", choices=["min", "max"], help="min or max per --metric")
    how.add_argument("--seed", type=int, help="study seed (trial seeds derive from it)")
    how.add_argument("--repetitions", type=int, default=1, help="runs of each configuration, in laps")
    how.add_argument("--enqueue", action="append", default=[], metavar="JSON",
                     help="a known good configuration to try first, as JSON (repeatable)")
    how.add_argument("--resource-budget", type=float,
                     help="stop the study once this much resource (e.g. epochs, summed over trials) is spent")
    how.add_argument("--time-budget", type=float, help="stop the study after this many seconds")
    mf = p.add_argument_group("multi-fidelity (each option names the schedulers that take it)")
    mf.add_argument("--resource-arg", help="script option that receives the target budget, e.g. epochs")
    mf.add_argument("--resource-attr", default="epoch",
                    help="report key holding the resource when a report has no step (default epoch)")
    add_scheduler_arguments(mf)
    con = p.add_argument_group("the trial contract")
    con.add_argument("--out-dir-arg", help="script option that receives the trial folder, e.g. out_dir")
    con.add_argument("--seed-arg", help="script option that receives the trial seed, e.g. random_seed")
    con.add_argument("--metric-regex", help="regex over stdout with named groups, e.g. 'loss=(?P<loss>\\S+)'")
    con.add_argument("--summary-file", help="file in the trial folder read at the end "
                                            "(performance_overview.txt, .json, .yaml)")
    where = p.add_argument_group("where trials run")
    where.add_argument("--executor", default="local", help="local | ray | slurm | lsf")
    where.add_argument("--parallel", type=int, help="parallel trials (slots); default 1, or all GPU slots")
    where.add_argument("--gpus", help="GPU ids (0,1,3) or all")
    where.add_argument("--jobs-per-gpu", type=int, default=1)
    where.add_argument("--allowed-load", type=float, help="admit a GPU only under this load (0..1)")
    where.add_argument("--allowed-memory", type=float, help="admit a GPU only under this used-memory fraction")
    where.add_argument("--warmup", type=float, default=0.0, help="seconds before a GPU takes another trial")
    where.add_argument("--executor-option", action="append", default=[], metavar="KEY=VALUE",
                       help="any option of a remote executor (see docs/scale-out.md)")
    for flag, text in _REMOTE_FLAGS.items():
        where.add_argument(flag, help=text)
    life = p.add_argument_group("study")
    life.add_argument("--study", help="study name (default: the script's name and a time stamp)")
    life.add_argument("--out", help="study folder (default runs/<study>)")
    life.add_argument("--timeout-per-trial", type=float, help="seconds before a run is killed")
    life.add_argument("--max-failures", type=int, help="stop the sweep after more failed trials than this")
    life.add_argument("--keep-checkpoints", default="all", choices=["all", "best", "none"],
                      help="remove checkpoints of trials that can no longer be resumed: keep all, "
                           "only the best trial's, or none")
    life.add_argument("--on-interrupted", default="rerun", choices=["rerun", "mark"],
                      help="on resume: run again, in place, the runs a dead controller left (default), "
                           "or only mark them interrupted")
    add_display_arguments(p)


def _scheduler_names() -> list[str]:
    from hpsweep.schedulers import SCHEDULERS

    return list(SCHEDULERS)


def add_scheduler_arguments(group: Any) -> None:
    """One flag per scheduler option, generated from the schedulers' specs."""
    from hpsweep.schedulers import all_options, scheduler_options

    for name, (info, users) in all_options().items():
        defaults: dict[str, list[str]] = {}
        helps: list[str] = []
        for user in users:
            spec = next(o for o in scheduler_options(user) if o.name == name)
            if spec.required:
                shown = "required"
            elif spec.default is None:
                shown = spec.derived or "none"
            else:
                shown = f"{spec.default:g}" if isinstance(spec.default, float) else repr(spec.default)
            defaults.setdefault(shown, []).append(user)
            if spec.help not in helps:
                helps.append(spec.help)
        shown = "; ".join(f"{', '.join(who)}: {value}" for value, who in defaults.items())
        group.add_argument(info.flag, dest=f"sched_{name}", metavar=name.upper(), type=info.kind,
                           default=None, help=f"{' / '.join(helps)} [default {shown}]")


def scheduler_args(args: argparse.Namespace, scheduler: str) -> dict[str, Any]:
    """The scheduler options given on the command line; one the scheduler does not take is an error."""
    from hpsweep.schedulers import all_options, scheduler_class

    given = {name: getattr(args, f"sched_{name}") for name in all_options()
             if getattr(args, f"sched_{name}", None) is not None}
    spec = scheduler_class(scheduler).Options
    refused = sorted(set(given) - set(spec.names()))
    if refused:
        flags = ", ".join("--" + n.replace("_", "-") for n in refused)
        takes = ", ".join("--" + n.replace("_", "-") for n in spec.names()) or "no options"
        raise UsageError(f"--scheduler {scheduler} does not take {flags}; it takes {takes}.")
    return given


# Remote executor options with their own flags (each also accepted as --executor-option KEY=VALUE).
_REMOTE_FLAGS = {
    "--ray-address": "Ray: auto or HOST:PORT of the cluster's head",
    "--cpus-per-trial": "Ray/Slurm/LSF: CPUs per trial",
    "--gpus-per-trial": "Ray: GPUs per trial (fractions allowed)",
    "--partition": "Slurm: partition", "--gres": "Slurm: generic resources, e.g. gpu:1",
    "--mem": "Slurm: memory per job, e.g. 8G", "--time": "Slurm/LSF: time limit per job",
    "--qos": "Slurm: quality of service", "--constraint": "Slurm: node features",
    "--max-jobs": "Slurm/LSF: jobs queued or running at once",
    "--lsf-resources": "LSF: -R resource string, e.g. 'rusage[mem=8000]'",
}


# Grid's own spellings of its strategies.
_STRATEGY_ALIASES = {"grid_search": "grid", "random_search": "random", "grid-search": "grid",
                     "random-search": "random"}


def _strategy(text: str) -> str:
    from hpsweep.search import STRATEGIES

    name = _STRATEGY_ALIASES.get(text.strip().lower(), text.strip().lower())
    allowed = ["none", *STRATEGIES, "nsga2"]
    if name not in allowed:
        raise argparse.ArgumentTypeError(f"{text!r} is not a strategy; use one of "
                                         f"{', '.join(allowed)}")
    return name


def _study_name(args: argparse.Namespace, command: list[str]) -> str:
    if args.study:
        if not re.fullmatch(r"[\w.\-]+", args.study):
            raise UsageError(f"--study {args.study!r}: use letters, digits, '.', '_' and '-' only.")
        return str(args.study)
    if args.out:  # a study is named after its folder
        return Path(args.out).resolve().name
    import time

    script = next((Path(t).stem for t in command[1:] if t.endswith(".py")), Path(command[0]).name)
    return f"{script}-{time.strftime('%Y%m%d-%H%M%S')}"


def _check_command(command: list[str] | None) -> list[str]:
    if not command:
        raise UsageError("missing command: write it after `--`, e.g. "
                         "hpsweep run -- python train.py --lr '[0.1, 0.01]'")
    exe = command[0]
    if os.sep in exe:
        path = Path(exe)
        if not path.exists():
            raise UsageError(f"command {exe!r} not found.")
        if not os.access(path, os.X_OK):
            raise UsageError(f"command {exe!r} is not executable (chmod +x it, or run it with its interpreter).")
    elif shutil.which(exe) is None:
        raise UsageError(f"command {exe!r} not found on PATH.")
    script = command[1] if len(command) > 1 else ""
    if Path(exe).name.startswith("python") and script.endswith(".py") and not Path(script).is_file():
        raise UsageError(f"script {script!r} not found (working directory {os.getcwd()}).")
    return command


def build_sweep(args: argparse.Namespace, command: list[str], strategy: str, seed: int | None) -> Sweep:
    import dataclasses

    from hpsweep.space import (
        ArgStyle,
        none_sweep,
        parse_inline,
        sweep_from_grid_module,
        sweep_from_yaml,
    )

    if args.arg_style == "hydra":
        style = ArgStyle.hydra()
    else:
        style = ArgStyle.from_names(args.arg_style or "equals", args.bool_style)
    if args.config or args.tune:
        if not (args.config and args.tune):
            raise UsageError("--config and --tune go together: a base config and a tuning config.")
        sweep = sweep_from_yaml(command, args.config, args.tune, config_arg=args.config_arg)
    elif args.grid_module:
        sweep = sweep_from_grid_module(command, args.grid_module, style=style)
    elif strategy == "none":
        sweep = none_sweep(command)
    else:
        sweep = parse_inline(command, seed=seed, style=style if args.arg_style == "hydra" else None)
    if args.arg_style is not None or args.bool_style != "flag":
        sweep = dataclasses.replace(sweep, style=style)
    return sweep


def options_from_args(args: argparse.Namespace, command: list[str]) -> tuple[SweepOptions, Sweep]:
    import secrets

    seed = args.seed if args.seed is not None else secrets.randbelow(2**31 - 1)
    strategy = args.strategy or "grid"
    sweep = build_sweep(args, command, strategy, seed)
    if args.strategy is None and not sweep.space.is_finite:
        strategy = "random"
    if strategy in ("grid", "none") and not sweep.space.is_finite:
        continuous = [n for n, p in sweep.space.params.items() if not p.is_finite]
        raise UsageError(f"--strategy {strategy}: parameter(s) {', '.join(continuous)} are continuous; "
                         "give a count (e.g. uniform(0, 1, 5)) or use --strategy random/tpe.")
    if strategy not in ("grid", "none") and args.num_trials is None and not sweep.space.is_finite:
        raise UsageError(f"--strategy {strategy} over a continuous space needs --num-trials.")
    executor_options: dict[str, Any] = {}
    for flag in _REMOTE_FLAGS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            executor_options[flag.lstrip("-").replace("-", "_")] = value
    for item in args.executor_option:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--executor-option {item!r}: write KEY=VALUE.")
        executor_options[key.replace("-", "_")] = value
    enqueue = []
    for text in args.enqueue:
        try:
            enqueue.append(dict(json.loads(text)))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise UsageError(f"--enqueue {text!r} is not a JSON object: {exc}") from exc
    from hpsweep.executors.gpu import parse_gpus
    from hpsweep.schedulers import scheduler_class
    from hpsweep.tuner.session import SweepOptions

    hints = grid_conventions(args)
    metrics, modes = metrics_and_modes(args, hints)
    scheduler = args.scheduler.strip().lower()
    scheduler_class(scheduler)  # an unknown name is an error that lists the known ones
    sched = scheduler_args(args, scheduler)
    options = SweepOptions(
        command=command, strategy=strategy, scheduler=scheduler, num_trials=args.num_trials,
        metrics=metrics, modes=modes, seed=seed,
        repetitions=args.repetitions, out_dir_arg=args.out_dir_arg or hints.get("out_dir_arg"),
        seed_arg=args.seed_arg,
        resource_arg=args.resource_arg, resource_attr=args.resource_attr,
        min_resource=sched.pop("min_resource", None), max_resource=sched.pop("max_resource", None),
        reduction_factor=sched.pop("reduction_factor", None), scheduler_options=sched,
        resource_budget=args.resource_budget, time_budget=args.time_budget,
        metric_regex=args.metric_regex, summary_file=args.summary_file or hints.get("summary_file"),
        executor=args.executor,
        parallel=args.parallel, gpus=parse_gpus(args.gpus), jobs_per_gpu=args.jobs_per_gpu,
        allowed_load=args.allowed_load, allowed_memory=args.allowed_memory, warmup=args.warmup,
        executor_options=executor_options, timeout_per_trial=args.timeout_per_trial,
        max_failures=args.max_failures, on_interrupted=args.on_interrupted, enqueue=enqueue,
        keep_checkpoints=args.keep_checkpoints,
        cwd=os.getcwd(),
    )
    options.validate()
    preflight(options)
    return options, sweep


def pausing_without_target(options: SweepOptions) -> str | None:
    """A warning when a pausing scheduler cannot tell the script its target budget."""
    from hpsweep.schedulers import scheduler_class

    if not scheduler_class(options.scheduler).pauses or options.resource_arg:
        return None
    if any("{resource}" in part for part in options.command):
        return None
    return (f"hpsweep: warning: --scheduler {options.scheduler} pauses trials at a budget, but the script "
            "is not told its target (no --resource-arg, no {resource} in the command): it must read "
            "$HPSWEEP_RESOURCE, or it trains to the end each time.")


# What each executor needs on this machine before its first launch.
_EXECUTOR_TOOLS = {"slurm": ("sbatch", "squeue", "scancel"), "lsf": ("bsub", "bjobs", "bkill")}


def preflight(options: SweepOptions) -> None:
    """Check what can be checked before the first trial: the executor and its tools (the command
    itself is checked by :func:`_check_command`)."""
    import importlib.util

    known = ("local", "ray", "slurm", "lsf")
    if options.executor not in known:
        raise UsageError(f"--executor {options.executor!r}: use one of {', '.join(known)}.")
    missing = [tool for tool in _EXECUTOR_TOOLS.get(options.executor, ()) if shutil.which(tool) is None]
    if missing:
        raise UsageError(f"--executor {options.executor} needs {', '.join(missing)} on PATH, and "
                         f"{'it is' if len(missing) == 1 else 'they are'} not there: run hpsweep on "
                         f"a machine of the cluster (a login node), or load its module first.")
    if options.executor == "ray" and importlib.util.find_spec("ray") is None:
        raise UsageError("--executor ray needs Ray: pip install 'hpsweep[ray]'.")


def grid_conventions(args: argparse.Namespace) -> dict[str, Any]:
    """A grid module's hypnettorch conventions (``_PERFORMANCE_KEY`` ...), read once per run."""
    if not getattr(args, "grid_module", None):
        return {}
    cached = getattr(args, "_grid_conventions", None)
    if cached is None:
        from hpsweep.space import grid_module_conventions

        cached = grid_module_conventions(args.grid_module)
        args._grid_conventions = cached
    return dict(cached)


def metrics_and_modes(args: argparse.Namespace, hints: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The objectives and their directions: as given, else a grid module's ``_PERFORMANCE_KEY`` /
    ``_PERFORMANCE_SORT_ASC``, else inferred from well-known names (refused for other names)."""
    from hpsweep._modes import infer_mode

    metrics = list(args.metric or ([hints["metric"]] if hints.get("metric") else ["loss"]))
    if args.mode:
        return metrics, list(args.mode)
    if hints.get("mode") and metrics == [hints.get("metric")]:
        return metrics, [str(hints["mode"])]
    modes: list[str] = []
    for metric in metrics:
        mode = infer_mode(metric)
        if mode is None:
            raise UsageError(f"--metric {metric}: say whether to minimise or maximise it with "
                             "--mode min or --mode max (the mode is inferred only for well-known "
                             "names such as loss, error, acc, f1 or reward).")
        modes.append(mode)
    if not args.metric and not hints.get("metric"):
        return metrics, modes
    args.inferred_modes = modes  # said in the first line of the run
    return metrics, modes


def run(args: argparse.Namespace) -> int:
    from hpsweep.cli._drive import drive
    from hpsweep.tuner.session import create_study

    if not args.command and args.grid_module:
        args.command = grid_conventions(args).get("command")  # the module's _SCRIPT_NAME
    command = _check_command(args.command)
    name = _study_name(args, command)
    study = StudyDir(args.out or Path("runs") / name)
    if study.exists() and study.is_locked():
        study.acquire()  # raises StudyLockedError naming the holder
    if study.exists():
        _check_same_sweep(study, args, command)  # `run` again on a study continues it
        study.acquire()
        try:
            return drive(study, args)
        finally:
            study.release()
    options, sweep = options_from_args(args, command)
    options.name = name
    warning = pausing_without_target(options)
    if warning:
        print(warning, file=sys.stderr)
    existed = study.root.exists()
    study.acquire()
    try:
        create_study(study, options, sweep)
        _first_line(args, options, sweep, study)
        return drive(study, args)
    except HpsweepError:
        if not existed:
            _remove_if_empty(study)  # a rejected run leaves no empty study behind
        raise
    finally:
        study.release()


def _remove_if_empty(study: StudyDir) -> None:
    """Remove a study folder this run made when no trial was ever written to it."""
    from hpsweep.store import Store

    if study.db.is_file():
        store = Store.open(study.db, readonly=True)
        try:
            if store.trials(with_reports=False):
                return
        finally:
            store.close()
    shutil.rmtree(study.root, ignore_errors=True)


def _grid_count(sweep: Sweep) -> str:
    """``36 configurations``, and how conditions changed the product of the value lists."""
    import math

    size = sweep.space.grid().size
    product = math.prod(p.n_values() for p in sweep.space.params.values())
    text = f"{size} configuration{'s' if size != 1 else ''}"
    if product != size:
        text += f" (the conditions made {product} combinations of the values into {size})"
    return text


def _first_line(args: argparse.Namespace, options: SweepOptions, sweep: Sweep | None = None,
                study: StudyDir | None = None) -> None:
    """The study seed (so a run can be repeated) and any inferred direction, said first."""
    import sys

    from hpsweep._modes import mode_note

    parts = [f"seed {options.seed} (repeat with --seed {options.seed})"]
    if sweep is not None and sweep.space.is_finite and options.strategy in ("grid", "none"):
        parts.append(_grid_count(sweep))
    for metric, mode in zip(options.metrics, getattr(args, "inferred_modes", None) or []):
        parts.append(mode_note(metric, mode))
    if options.summary_file and study is not None:
        where = study.root / "trials" / "<id>" / options.summary_file
        how = f"--{options.out_dir_arg}" if options.out_dir_arg else "$HPSWEEP_TRIAL_DIR"
        parts.append(f"each trial's summary is read from {where} (the script learns its folder "
                     f"from {how})")
    print("hpsweep: " + "; ".join(parts), file=sys.stderr if args.quiet else sys.stdout, flush=True)


# Options that define what a study computes: a `run` on an existing study must repeat them.
_IDENTITY = ("command", "strategy", "scheduler", "num_trials", "metrics", "modes", "repetitions",
             "resource_arg", "min_resource", "max_resource", "reduction_factor", "scheduler_options",
             "out_dir_arg", "seed_arg")


def _check_same_sweep(study: StudyDir, args: argparse.Namespace, command: list[str]) -> None:
    frozen = study.read_sweep().get("options", {})
    if args.seed is None:
        args.seed = frozen.get("seed")  # re-parse with the study's seed: same sampled values
    options, _ = options_from_args(args, command)
    new = options.to_dict()
    changed = [k for k in _IDENTITY if k in frozen and frozen[k] != new[k]]
    if changed == ["num_trials"] and new["num_trials"] is not None and (
            frozen["num_trials"] is not None and new["num_trials"] > frozen["num_trials"]):
        from hpsweep.tuner.session import extend_budget

        study.acquire()
        try:
            extend_budget(study, new["num_trials"], by="run")
        finally:
            study.release()
        print(f"hpsweep: {study.root}: budget raised from {frozen['num_trials']} to "
              f"{new['num_trials']} trials", flush=True)
        return
    if changed:
        details = "; ".join(f"{k}: {frozen[k]!r} then, {new[k]!r} now" for k in changed)
        raise UsageError(f"{study.root} already holds a different sweep ({details}); continue it with "
                         f"`hpsweep resume {study.root}` or choose another --out.")
