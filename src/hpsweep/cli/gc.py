"""``hpsweep gc DIR``: remove the folders of poor or failed trials by rule (never the store).

Nothing is deleted without ``--yes``; the default lists what would go. While a controller holds the
study only ended trials are touched, and those that ended in the last few seconds are spared (see
:func:`hpsweep.tuner.housekeeping.plan_gc`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hpsweep.errors import UsageError

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    from hpsweep.tuner.housekeeping import LIVE_GRACE

    p.epilog = ("Only the trials/<id>/ folders are removed: the store and results.csv stay as they "
                "are. While a controller holds the study, only ended trials are touched, trials "
                f"that ended in the last {LIVE_GRACE:g} s are spared, and a PBT study is refused.")
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    rules = p.add_argument_group("rules (selectors add up; --older-than narrows them)")
    rules.add_argument("--failed", action="store_true", help="folders of failed trials")
    rules.add_argument("--stopped", action="store_true", help="folders of trials stopped early")
    rules.add_argument("--interrupted", action="store_true",
                       help="folders of trials a dead controller or worker interrupted")
    rules.add_argument("--keep-best", type=int, metavar="N",
                       help="folders of every ended trial not among the N best by the objective")
    rules.add_argument("--older-than", metavar="AGE",
                       help="only trials that ended more than AGE ago (30m, 12h, 7d); alone: all such")
    rules.add_argument("--include-paused", action="store_true",
                       help="paused trials may be chosen too (refused while a controller holds the study)")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--dry-run", action="store_true", help="list only (the default)")
    act.add_argument("--yes", action="store_true", help="really delete the listed folders")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def run(args: argparse.Namespace) -> int:
    from hpsweep.results import load_study_data, trial_value
    from hpsweep.tuner.housekeeping import (
        GcRule,
        delete_trial_folders,
        folder_size,
        parse_age,
        plan_gc,
    )

    if args.keep_best is not None and args.keep_best < 0:
        raise UsageError(f"--keep-best must be >= 0, got {args.keep_best}.")
    rule = GcRule(failed=args.failed, stopped=args.stopped, interrupted=args.interrupted,
                  keep_best=args.keep_best,
                  older_than=parse_age(args.older_than) if args.older_than is not None else None,
                  include_paused=args.include_paused)
    rule.validate()
    data = load_study_data(args.study_dir, with_events=False)
    plan = plan_gc(data, rule)
    for trial, why in plan.spared:
        print(f"  spared trial {trial.trial_id} ({trial.state.value}): {why}")
    if not plan.delete:
        print("no trial folder to delete")
        return 0
    sizes = {t.trial_id: folder_size(Path(t.trial_dir)) for t in plan.delete}
    total = _mb(sum(sizes.values()))
    verb = "deleting" if args.yes else "would delete"
    print(f"{verb} {len(plan.delete)} trial folders ({total}):")
    for t in plan.delete:
        value = trial_value(t, data.metric)
        shown = f"{value:.6g}" if value is not None else "-"
        print(f"  trial {t.trial_id:>4}  {t.state.value:<11} {data.metric}={shown:<12} "
              f"{_mb(sizes[t.trial_id]):>9}  {t.trial_dir}")
    if not args.yes:
        print("add --yes to delete them")
        return 0
    removed = delete_trial_folders(data.root, plan.delete)
    print(f"deleted {len(removed)} trial folders ({total}); the store and results.csv are unchanged")
    return 0
