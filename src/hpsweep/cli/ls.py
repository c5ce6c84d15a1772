"""``hpsweep ls [ROOT]``: the studies under a folder (default ``runs``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hpsweep.cli.status import study_summary
from hpsweep.errors import HpsweepError, UsageError
from hpsweep.store import StudyDir

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", nargs="?", default="runs", help="folder holding study folders (default runs)")


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder.")
    found = sorted(p.parent for p in root.glob("**/study.db"))
    if not found:
        print(f"no studies under {root}")
        return 0
    for folder in found:
        try:
            info = study_summary(StudyDir(folder))
        except HpsweepError as exc:
            print(f"{folder}  (unreadable: {exc})")
            continue
        counts = info["counts"]
        assert isinstance(counts, dict)
        state = "RUNNING" if info["live_controller"] else "stopped"
        best = info["best"]
        best_text = f"best {info['metric']}={best['value']:.6g}" if isinstance(best, dict) else "no result"
        print(f"{folder}  {state:<8} {info['trials']:4d} trials ("
              + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f")  {best_text}")
    return 0
