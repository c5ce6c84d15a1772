"""How long a searcher takes to rebuild a finished study, as ``hpsweep resume`` rebuilds it.

For each searcher and size a finished study is written to a real store (SQLite) once: CMA-ES,
QMC and ``auto`` (a known budget above 150, so CMA-ES from the first trial) with their own
suggestions, four trials in flight, every 17th trial failing; random and grid with theirs; TPE,
NSGA-II and GP with random configurations (their restore never consults their model, so where
the configurations came from does not change its cost, and building 10,000 TPE trials live would
take most of an hour). GP is timed at the sizes it runs at (``auto`` hands over to CMA-ES above
a budget of 150).

Then, in a fresh interpreter per measurement, each code under test (``--old-src`` for the code
before, this checkout's ``src`` for the new) opens the store, reads every trial (``load``),
builds the searcher and restores it (``restore``, the imports its samplers need included), and
asks the next suggestion (``next``: the Optuna study written and the first sampler run, paid
only when the study continues). CPU seconds of the child process. The next suggestion of the two
codes is compared (``same``): the restore is exact in both or in neither.

    nice -n 19 python benchmarks/restore_bench.py --sizes 1000 10000 --old-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from hpsweep.search import make_searcher
from hpsweep.space import SearchSpace
from hpsweep.store import Store
from hpsweep.trial import Report, TrialRecord, TrialState

LIVE = ("cmaes", "qmc", "auto", "random", "grid")  # built with their own suggestions
SIZES_OF = {"gp": (150,)}  # the sizes a searcher is used at, when not every size


def space(strategy: str) -> SearchSpace:
    if strategy == "grid":  # 10 x 10 x 10 x 10 points
        out = SearchSpace()
        for i in range(4):
            out = out.add_categorical(f"x{i}", [round(-3.0 + 0.6 * j, 1) for j in range(10)])
        return out
    out = SearchSpace()
    for i in range(4):
        out = out.add_float(f"x{i}", -3.0, 3.0)
    return out


def objective(config: dict[str, Any]) -> dict[str, float]:
    x = np.array([float(v) for v in config.values()])
    return {"loss": float(np.sum((x - 0.5) ** 2)), "size": float(np.sum(np.abs(x)))}


def searcher_for(strategy: str, n: int) -> Any:
    multi = {"metrics": ["loss", "size"], "modes": ["min", "min"]} if strategy == "nsga2" else {}
    return make_searcher(strategy, space(strategy), metric="loss", mode="min", seed=3,
                         budget=n if strategy == "auto" else None, **multi)


def build(strategy: str, n: int, path: Path) -> None:
    """A finished study of ``n`` trials in a store at ``path``."""
    live = searcher_for(strategy, n) if strategy in LIVE else None
    rng = np.random.default_rng(7)
    sample_space = space(strategy)
    store = Store.create(path, name=f"{strategy}-{n}", spec={})
    flight: list[TrialRecord] = []
    clock = 1000.0

    def finish(record: TrialRecord) -> None:
        nonlocal clock
        clock += 1.0
        failed = record.trial_id % 17 == 5
        metrics = objective(record.config)
        record.state = TrialState.FAILED if failed else TrialState.COMPLETED
        record.finished = clock
        record.last_metrics = {} if failed else metrics
        report = Report(record.trial_id, 1, metrics, clock)
        record.reports = [report]
        store.add_report(report)
        store.update_trial(record)
        if live is not None:
            live.on_trial_complete(record)

    with store.batch():
        for tid in range(n):
            clock += 1.0
            config = live.suggest(tid) if live is not None else sample_space.sample(rng)
            record = TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING,
                                 created=clock)
            store.add_trial(record)
            flight.append(record)
            if len(flight) >= 4:
                finish(flight.pop(0))
        for record in flight:
            finish(record)
    store.close()


_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
cpu = time.process_time
t0 = cpu()
from hpsweep.search import make_searcher
from hpsweep.store import Store
sys.path.insert(0, sys.argv[2])
from restore_bench import space
strategy, n, path = sys.argv[3], int(sys.argv[4]), sys.argv[5]
t1 = cpu()
store = Store.open(path, readonly=True)
trials = store.trials()
t2 = cpu()
multi = {"metrics": ["loss", "size"], "modes": ["min", "min"]} if strategy == "nsga2" else {}
s = make_searcher(strategy, space(strategy), metric="loss", mode="min", seed=3,
                  budget=n if strategy == "auto" else None, **multi)
s.restore(trials)
t3 = cpu()
nxt = s.suggest(n)
t4 = cpu()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "restore": t3 - t2, "next": t4 - t3,
                  "suggestion": nxt}))
"""


def measure(src: Path, strategy: str, n: int, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(src), str(Path(__file__).parent), strategy, str(n),
         str(path)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(src)})
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--strategies", nargs="+",
                    default=["random", "grid", "tpe", "cmaes", "qmc", "nsga2", "gp", "auto"])
    ap.add_argument("--old-src", type=Path, default=None,
                    help="the src folder of the code to compare with (e.g. a checkout of the "
                         "commit before)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/restore_bench.json"))
    args = ap.parse_args()
    new_src = Path(__file__).resolve().parent.parent / "src"
    codes = [("new", new_src)] + ([("old", args.old_src.resolve())] if args.old_src else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for strategy in args.strategies:
            for n in SIZES_OF.get(strategy, args.sizes):
                path = Path(tmp) / f"{strategy}-{n}.db"
                build(strategy, n, path)
                row: dict[str, Any] = {"strategy": strategy, "trials": n}
                for label, src in codes:
                    row[label] = measure(src, strategy, n, path)
                if len(codes) == 2:
                    row["same"] = row["new"].pop("suggestion") == row["old"].pop("suggestion")
                else:
                    row["new"].pop("suggestion")
                rows.append(row)
                cells = "  ".join(
                    f"{label}: load {row[label]['load']:.2f} restore {row[label]['restore']:.2f} "
                    f"next {row[label]['next']:.2f}" for label, _ in codes)
                print(f"{strategy:7s} {n:6d}  {cells}  same: {row.get('same', '-')}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": platform.platform(), "python": platform.python_version(),
        "cpus": os.cpu_count(), "args": {k: str(v) for k, v in vars(args).items()},
        "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
