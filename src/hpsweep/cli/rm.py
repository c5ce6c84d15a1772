"""``hpsweep rm DIR``: remove a whole study, only when no controller holds it.

Only a folder that really is an hpsweep study (a readable study store in it) is removed; the default
lists what would go, ``--yes`` removes it.
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("--yes", action="store_true", help="really remove it (default: say what would go)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hpsweep.errors import StudyLockedError, UsageError
    from hpsweep.store import Store, StudyDir
    from hpsweep.tuner.housekeeping import check_is_study, folder_size, remove_study

    given = Path(args.study_dir)
    if given.is_symlink():
        raise UsageError(f"{given} is a symbolic link; give the study folder itself.")
    study = StudyDir(given)
    check_is_study(study)
    if study.is_locked():
        raise StudyLockedError(f"study {study.root} is held by a live controller; stop it (or let it "
                               "finish) before removing the study.")
    if not args.yes:
        store = Store.open(study.db, readonly=True)
        try:
            n = len(store.trials(with_reports=False))
        finally:
            store.close()
        size = folder_size(study.root)
        print(f"would remove study {study.root} ({n} trials, {size / 1e6:.1f} MB); add --yes to remove it")
        return 0
    removed = remove_study(study.root)
    print(f"removed study {removed}")
    return 0
