"""``hpsweep plot DIR [--kind ...] [--out ...]``: PNG (Matplotlib) and self-contained HTML
(Plotly) plots of a study: history, parallel coordinates, importance, slices, learning curves and,
for a seed-gathering study, the per-seed spread."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("--kind", action="append", metavar="KIND",
                   help="history, parallel, importance, slice, curves or seeds (repeatable or "
                        "comma-separated; default: every kind the study has data for)")
    p.add_argument("--out", metavar="FOLDER", help="where to write (default DIR/plots)")
    p.add_argument("--format", action="append", choices=["png", "html"],
                   help="png and/or html (default both)")
    p.add_argument("--importance", default="auto", choices=["auto", "fanova", "ped-anova", "mdi"],
                   help="importance method (default auto: fanova up to 300 completed trials, "
                        "mdi above)")
    p.add_argument("--seed", type=int, default=0, help="seed of the importance model")


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from hpsweep.results import load_study_data, write_plots

    data = load_study_data(args.study_dir, with_events=False)
    kinds = [k.strip() for item in (args.kind or []) for k in item.split(",") if k.strip()]
    out = Path(args.out) if args.out else data.root / "plots"
    written = write_plots(data, out, kinds=kinds or None, formats=args.format or ("png", "html"),
                          method=args.importance, seed=args.seed)
    for path in written:
        print(path)
    return 0
