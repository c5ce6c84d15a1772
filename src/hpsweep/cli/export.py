"""``hpsweep export DIR --optuna sqlite:///x.db``: write a study into an Optuna storage, so that
``optuna.load_study`` and ``optuna-dashboard`` open it (parameters with their distributions,
intermediate values, states)."""

from __future__ import annotations

import argparse

from hpsweep.errors import UsageError

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("--optuna", metavar="URL", help="Optuna storage URL, e.g. sqlite:///study.db")
    p.add_argument("--study-name", help="name of the Optuna study (default: the study's name)")


def run(args: argparse.Namespace) -> int:
    if not args.optuna:
        raise UsageError("say where to export: --optuna sqlite:///study.db")
    from hpsweep.results import export_to_storage, load_study_data

    data = load_study_data(args.study_dir, with_events=False)
    study = export_to_storage(data, args.optuna, study_name=args.study_name)
    print(f"exported {len(study.trials)} trials to {args.optuna} as study {study.study_name!r}")
    return 0
