"""``hpsweep resume DIR``: continue a study exactly where it stopped."""

from __future__ import annotations

import argparse

from hpsweep.cli.progress import add_display_arguments
from hpsweep.store import StudyDir

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
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
        return drive(study, args)
    finally:
        study.release()
