"""``hpsweep seeds DIR --num-seeds N``: rerun one configuration with N random seeds.

Takes the best trial of the study in DIR (or ``--run-dir`` of one of its trials, or an explicit
``--config``), makes a new study (default ``DIR/seeds-<trial>``) whose sweep is the same command
with that configuration fixed and ``--<seed-arg>`` taking distinct seeds, runs it through the same
engine, and writes ``seeds_summary.txt`` / ``seeds_summary.json`` (mean and SD, or SEM) into it.
The reference run counts as one seed unless ``--no-count-original``. Running the same command
again resumes the seed study.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hpsweep.cli._drive import add_display_arguments, drive
from hpsweep.errors import StudyError, UsageError
from hpsweep.results import (
    SEEDS_FILE,
    StudyData,
    best_trial,
    choose_seeds,
    load_study_data,
    reference_seed,
    seed_sweep,
    seeds_summary,
    summary_text,
    write_seeds_summary,
)
from hpsweep.space import Sweep
from hpsweep.store import StudyDir
from hpsweep.trial import TrialRecord, TrialState
from hpsweep.tuner.session import SweepOptions, create_study

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study whose best trial is rerun")
    p.add_argument("--num-seeds", type=int, default=10, help="seeds in all (default 10)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--run-dir", metavar="TRIAL_DIR",
                       help="rerun this trial instead of the best")
    which.add_argument("--config", metavar="JSON",
                       help="rerun this configuration (JSON object or .json file); "
                            "no reference run")
    p.add_argument("--seed-arg", default=None,
                   help="the script's seed option (default: the study's --seed-arg, else "
                        "random_seed)")
    p.add_argument("--sem", action="store_true", help="standard error of the mean instead of SD")
    p.add_argument("--precision", type=int, default=3, help="decimals in the summary (default 3)")
    p.add_argument("--summary-keys", metavar="a,b",
                   help="metrics to summarise (default: the objectives)")
    p.add_argument("--no-count-original", action="store_true",
                   help="run N new seeds; the reference run does not count as one")
    p.add_argument("--out", metavar="DIR2",
                   help="the seed study's folder (default DIR/seeds-<trial>)")
    p.add_argument("--parallel", type=int, help="parallel runs (default: as the study)")
    add_display_arguments(p)


def _explicit_config(text: str) -> dict[str, Any]:
    source = Path(text).read_text() if text.endswith(".json") and Path(text).is_file() else text
    try:
        value = json.loads(source)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--config {text!r}: not a JSON object ({exc}); write e.g. "
                         "'{\"lr\": 0.01}'.") from None
    if not isinstance(value, dict):
        raise UsageError(f"--config {text!r}: expected a JSON object such as '{{\"lr\": 0.01}}'.")
    return value


def _trial_from_dir(data: StudyData, run_dir: str) -> TrialRecord:
    wanted = Path(run_dir).resolve()
    for trial in data.trials:
        if trial.trial_dir and Path(trial.trial_dir).resolve() == wanted:
            return trial
    manifest = wanted / "manifest.json"
    if manifest.is_file():
        info = json.loads(manifest.read_text())
        if Path(str(info.get("study", ""))).resolve() == data.root.resolve():
            return data.trial(int(info["trial_id"]))
    raise UsageError(f"--run-dir {run_dir}: not the folder of a trial of {data.root}; "
                     "give one of its trials/<id> folders.")


def _reference(data: StudyData, args: argparse.Namespace) -> tuple[str, dict[str, Any],
                                                                   TrialRecord | None]:
    if args.config:
        return "config", _explicit_config(args.config), None
    trial = _trial_from_dir(data, args.run_dir) if args.run_dir else best_trial(data)
    return str(trial.trial_id), dict(trial.config), trial


def _plan(data: StudyData, args: argparse.Namespace
          ) -> tuple[SweepOptions, Sweep, dict[str, Any]]:
    """The options, the sweep and the ``seeds.json`` record of a new seed study."""
    label, config, ref = _reference(data, args)
    count_original = (ref is not None and ref.state is TrialState.COMPLETED
                      and not args.no_count_original)
    n_new = args.num_seeds - (1 if count_original else 0)
    if n_new < 1:
        raise UsageError(f"--num-seeds {args.num_seeds}: the reference run already counts as one "
                         "seed; ask for 2 or more, or add --no-count-original.")
    ref_seed = reference_seed(data, ref, args.seed_arg) if ref is not None else None
    options = SweepOptions.from_dict(dict(data.sweep.get("options", {})))
    seeds = choose_seeds(n_new, rng_seed=int(options.seed or 0) + (ref.trial_id if ref else 0),
                         exclude=[ref_seed] if ref_seed is not None else [])
    sweep = seed_sweep(Sweep.from_dict(data.sweep["sweep"]), config, seed_arg=args.seed_arg,
                       seeds=seeds)
    options.strategy, options.scheduler, options.num_trials = "grid", "fifo", None
    options.repetitions, options.seed_arg, options.enqueue, options.seed = 1, None, [], None
    options.name = f"{data.name}-seeds-{label}"
    if args.parallel is not None:
        options.parallel = args.parallel
    keys = _keys(args) or list(data.metrics)
    info = {
        "source_study": str(data.root), "source_trial": None if ref is None else ref.trial_id,
        "seed_arg": args.seed_arg, "seeds": seeds, "count_original": count_original,
        "summary_keys": keys, "config": config,
        "original": None if not count_original or ref is None else {
            "seed": ref_seed, "metrics": ref.last_metrics, "trial_dir": ref.trial_dir},
    }
    return options, sweep, info


def _keys(args: argparse.Namespace) -> list[str]:
    return [k.strip() for k in (args.summary_keys or "").split(",") if k.strip()]


def _summarise(study: StudyDir, args: argparse.Namespace) -> str:
    data = load_study_data(study.root, with_events=False)
    info = data.seeds_info() or {}
    seed_arg = str(info.get("seed_arg", args.seed_arg))
    runs: list[tuple[int | None, TrialRecord]] = []
    original = info.get("original")
    if original:
        ref = TrialRecord(trial_id=-1, config=dict(info.get("config", {})),
                          state=TrialState.COMPLETED, last_metrics=dict(original["metrics"]))
        runs.append((original.get("seed"), ref))
    runs += [(t.config.get(seed_arg), t) for t in data.trials]
    keys = _keys(args) or list(info.get("summary_keys") or data.metrics)
    summary = seeds_summary(runs, keys, sem=args.sem, precision=args.precision,
                            config=info.get("config", {}))
    write_seeds_summary(study.root, summary)
    return summary_text(summary)


def _resolve_seed_arg(data: StudyData, args: argparse.Namespace) -> None:
    """``--seed-arg`` defaults to the option the study already passed its seeds with."""
    if args.seed_arg is None:
        frozen = data.sweep.get("options", {}).get("seed_arg")
        args.seed_arg = str(frozen) if frozen else "random_seed"
    args.seed_arg = str(args.seed_arg).lstrip("-")
    if not args.seed_arg:
        raise UsageError("--seed-arg: name the script's seed option, e.g. --seed-arg random_seed.")


def _stale(study: StudyDir, args: argparse.Namespace) -> str | None:
    """Why an existing seed study in the way may be replaced: it was made with another seed option
    and none of its runs completed (so nothing is lost). None when it is to be continued."""
    try:
        info = json.loads((study.root / SEEDS_FILE).read_text())
    except (OSError, ValueError):
        return None
    old = str(info.get("seed_arg", ""))
    if old == args.seed_arg:
        return None
    data = load_study_data(study.root, with_events=False)
    if any(t.state is TrialState.COMPLETED for t in data.trials):
        raise UsageError(f"{study.root} gathers seeds through --{old}, not --{args.seed_arg}; "
                         "continue it with the same --seed-arg, or give --out for a new folder.")
    return f"its runs passed --{old} and none completed"


def _failure_text(study: StudyDir, seed_arg: str) -> str | None:
    """An explanation when no new seed completed: the first failure and its stderr's last line."""
    data = load_study_data(study.root, with_events=False)
    if not data.trials or any(t.state is TrialState.COMPLETED for t in data.trials):
        return None
    first = min(data.trials, key=lambda t: t.trial_id)
    detail = f"{first.error_kind.value}: {first.error}" if first.error_kind else first.state.value
    tail = ""
    if first.trial_dir:
        err = Path(first.trial_dir) / "stderr.log"
        lines = [ln for ln in (err.read_text(errors="replace").splitlines() if err.is_file() else [])
                 if ln.strip()]
        tail = f"; its stderr ends: {lines[-1].strip()}" if lines else ""
    return (f"no new seed completed ({len(data.trials)} runs; trial {first.trial_id}: {detail}"
            f"{tail}). The runs passed --{seed_arg}: if the script takes its seed through another "
            f"option, give it with --seed-arg (the folder is replaced while no run completed).")


def run(args: argparse.Namespace) -> int:
    if args.num_seeds < 1:
        raise UsageError(f"--num-seeds must be >= 1, got {args.num_seeds}.")
    if args.precision < 0:
        raise UsageError(f"--precision must be >= 0, got {args.precision}.")
    data = load_study_data(args.study_dir, with_events=False)
    if "sweep" not in data.sweep:
        raise UsageError(f"{data.root} has no frozen sweep (sweep.json): there is no command to "
                         "rerun.")
    if data.seeds_info() is not None:
        raise UsageError(f"{data.root} is a seed gathering already; give the study it came from "
                         f"({data.seeds_info().get('source_study')}).")  # type: ignore[union-attr]
    _resolve_seed_arg(data, args)
    if args.out:
        study = StudyDir(args.out)
    else:
        label = "config" if args.config else str(_reference(data, args)[0])
        study = StudyDir(data.root / f"seeds-{label}")
    plan = None
    if study.exists() and not (study.root / SEEDS_FILE).is_file():
        raise UsageError(f"{study.root} holds a study that is not a seed gathering; "
                         "choose another --out.")
    replace = _stale(study, args) if study.exists() else None
    if not study.exists() or replace:
        plan = _plan(data, args)
    study.acquire()
    try:
        if replace:
            import shutil

            print(f"hpsweep: replacing {study.root}: {replace}", flush=True)
            for child in study.root.iterdir():
                if child.name != "controller.lock":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        if plan is not None and (replace or not study.exists()):
            options, sweep, info = plan
            create_study(study, options, sweep)
            (study.root / SEEDS_FILE).write_text(json.dumps(info, indent=2, default=str))
        code = drive(study, args)
    finally:
        study.release()
    failure = _failure_text(study, args.seed_arg)
    if failure is not None:
        for stale in ("seeds_summary.txt", "seeds_summary.json"):
            (study.root / stale).unlink(missing_ok=True)
        raise StudyError(failure)
    print(_summarise(study, args), end="")
    print(f"hpsweep: seeds summary in {study.root / 'seeds_summary.txt'}")
    return code
