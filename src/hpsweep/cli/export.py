"""``hpsweep export DIR [--optuna TARGET]``: write a study for Optuna's tools, so that
``optuna.load_study`` and ``optuna-dashboard`` open it (parameters with their distributions,
intermediate values, states).

``TARGET`` is an Optuna journal file (a path, default ``DIR/optuna.log``; ``optuna-dashboard
DIR/optuna.log`` opens it) or a storage URL (``sqlite:///study.db``, any RDB URL Optuna takes).
The journal is written in one append and takes seconds at 10,000 trials; an RDB storage is
written trial by trial by Optuna (minutes at that size)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_arguments", "run"]

DEFAULT_JOURNAL = "optuna.log"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("--optuna", metavar="TARGET", nargs="?", const="",
                   help="an Optuna journal file (a path; the default is DIR/optuna.log, which "
                        "optuna-dashboard opens; fast) or a storage URL such as "
                        "sqlite:///study.db (written trial by trial: slow for large studies)")
    p.add_argument("--study-name", help="name of the Optuna study (default: the study's name)")


def run(args: argparse.Namespace) -> int:
    from hpsweep.results import export_to_storage, load_study_data

    data = load_study_data(args.study_dir, with_events=False)
    target = args.optuna or str(Path(data.root) / DEFAULT_JOURNAL)
    study = export_to_storage(data, target, study_name=args.study_name)
    kind = "the Optuna storage" if "://" in target else "the Optuna journal"
    print(f"exported {len(study.get_trials(deepcopy=False))} trials to {kind} {target} as study "
          f"{study.study_name!r}")
    if "://" not in target:
        print(f"open it with: optuna-dashboard {target}")
    return 0
