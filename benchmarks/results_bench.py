"""How long the results side takes on studies of growing size.

A synthetic study (N trials, 3 float parameters of which two matter, R reports each) is written
straight into a store, then each operation is timed: loading, ranking, the Optuna conversion,
importance (three methods), PNG and HTML plots, and the export to an Optuna SQLite storage.

    .venv/bin/python benchmarks/results_bench.py --trials 100 1000 --reports 10
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hpsweep.results import (
    best_trials,
    export_to_storage,
    load_study_data,
    param_importance,
    to_optuna_study,
    write_plots,
)
from hpsweep.space import SearchSpace, Sweep
from hpsweep.store import Store, StudyDir
from hpsweep.trial import Report, TrialRecord, TrialState


def make_study(root: Path, n_trials: int, n_reports: int, seed: int = 0) -> Path:
    study = StudyDir(root)
    root.mkdir(parents=True)
    space = SearchSpace().add_float("a", 0, 1).add_float("b", 0, 1).add_float("c", 0, 1)
    sweep = Sweep(space=space, command=("python", "train.py"))
    options = {"metrics": ["loss"], "modes": ["min"], "command": ["python", "train.py"]}
    study.write_sweep({"format": 1, "options": options, "sweep": sweep.to_dict()})
    store = Store.create(study.db, name=f"bench-{n_trials}", spec={"options": options})
    rng = np.random.default_rng(seed)
    t0 = time.time()
    for tid in range(n_trials):
        cfg = {k: float(rng.uniform()) for k in "abc"}
        final = 4 * (cfg["a"] - 0.3) ** 2 + 3 * (cfg["b"] - 0.6) ** 2
        trial = TrialRecord(tid, cfg, TrialState.COMPLETED, created=t0 + tid, started=t0 + tid,
                            finished=t0 + tid + 1, last_metrics={"loss": final},
                            trial_dir=str(study.trial_dir(tid)))
        store.add_trial(trial)
        for step in range(1, n_reports + 1):
            store.add_report(Report(tid, step, {"loss": final + 1.0 / step}, t0 + tid, step - 1))
    store.close()
    return root


def timed(fn: Callable[[], Any], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench(n_trials: int, n_reports: int, repeat: int) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_study(Path(tmp) / "study", n_trials, n_reports)
        data = load_study_data(root)
        counter = iter(range(10**6))
        rows = [
            ("load (read-only store)", timed(lambda: load_study_data(root), repeat)),
            ("best 10", timed(lambda: best_trials(data, 10), repeat)),
            ("to in-memory Optuna study", timed(lambda: to_optuna_study(data), repeat)),
        ]
        for method in ("fanova", "ped-anova", "mdi"):
            rows.append((f"importance {method}",
                         timed(lambda m=method: param_importance(data, method=m), repeat)))
        rows.append(("5 PNG plots", timed(
            lambda: write_plots(data, Path(tmp) / "png", formats=["png"]), repeat)))
        rows.append(("5 HTML plots", timed(
            lambda: write_plots(data, Path(tmp) / "html", formats=["html"]), repeat)))
        rows.append(("export to Optuna SQLite", timed(
            lambda: export_to_storage(data, f"sqlite:///{tmp}/o.db",
                                      study_name=f"s{next(counter)}"), repeat)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--reports", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {n: dict(bench(n, args.reports, args.repeat)) for n in args.trials}
    names = list(next(iter(results.values())))
    print("| operation | " + " | ".join(f"{n} trials" for n in args.trials) + " |")
    print("|---|" + "---|" * len(args.trials))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{results[n][name]:.3f} s" for n in args.trials) + " |")


if __name__ == "__main__":
    main()
