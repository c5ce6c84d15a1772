"""``hpsweep resume DIR [--num-trials N]``: continue a study exactly where it stopped; with
``--num-trials`` a larger budget first (the searcher continues with everything it learned)."""

from __future__ import annotations

import argparse

from hpsweep.cli.progress import add_display_arguments
from hpsweep.store import StudyDir

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("--num-trials", type=int, metavar="N",
                   help="raise the study's budget to N trials in all (it only grows)")
    add_display_arguments(p)


def run(args: argparse.Namespace) -> int:
    from hpsweep.cli._drive import drive

    study = StudyDir(args.study_dir)
    if not study.creation_unfinished():
        study.require()
    study.acquire()
    try:
        study.finish_creation()  # a controller killed between sweep.json and study.db
        study.require()
        if args.num_trials is not None:
            from hpsweep.tuner.session import extend_budget

            was = extend_budget(study, args.num_trials, by="resume")
            if was != args.num_trials:
                print(f"hpsweep: budget raised from {was} to {args.num_trials} trials", flush=True)
        return drive(study, args)
    finally:
        study.release()
