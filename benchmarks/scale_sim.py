"""Controller cost as a study grows, in simulated time: does a launch cost the same at trial
100,000 as at trial 1,000?

The simulated executor runs ``--workers`` workers over closed-form learning curves
(``CrossingCurves``), so the figures are the controller's own CPU (tuner, scheduler, searcher and
store), with no process cost. CPU per trial and scheduler decisions (starts, resumes and reports
decided) per CPU second are reported in bins of ``--bin`` trials; the flatness ratio is the last
bin over the first one past the warm-up.

``--store file`` (the default) writes the study's SQLite file as a real study does (WAL), in a
temporary folder; ``--store memory`` uses SQLite's in-memory database, whose commits grow with
the database (a commit truncates SQLite's page cache by walking its hash table, which in memory
holds every page), so it overstates the growth of a real study.

    python benchmarks/scale_sim.py --trials 100000 --workers 1000 --schedulers fifo asha hyperband
    python benchmarks/scale_sim.py --trials 10000 --workers 100 --bin 1000 --schedulers dyhpo
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from hpsweep.bench.functions import CrossingCurves
from hpsweep.executors.simulated import SimulatedExecutor, SimulatedLauncher
from hpsweep.schedulers import make_scheduler
from hpsweep.search.basic import RandomSearcher
from hpsweep.store import Store
from hpsweep.trial import TrialRecord
from hpsweep.tuner import Tuner
from hpsweep.tuner.budget import Budget


class _Bins:
    """CPU seconds and scheduler decisions per bin of started trials."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.started = 0
        self.decisions = 0
        self.slot_decisions = 0  # starts and resumes: what the scheduler chose for a free slot
        self.rows: list[dict[str, float]] = []
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        self._dec = 0
        self._slot = 0

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Any) -> None:
        if kind in ("start", "resume", "report"):
            self.decisions += 1
        if kind in ("start", "resume"):
            self.slot_decisions += 1
        if kind != "start":
            return
        self.started += 1
        if self.started % self.size == 0:
            cpu, wall = time.process_time(), time.perf_counter()
            self.rows.append({"upto": self.started, "ms_per_trial": 1000 * (cpu - self._cpu) / self.size,
                              "decisions_per_s": (self.decisions - self._dec) / max(cpu - self._cpu, 1e-9),
                              "slot_decisions_per_s": (self.slot_decisions - self._slot)
                              / max(cpu - self._cpu, 1e-9)})
            self._cpu, self._wall, self._dec, self._slot = cpu, wall, self.decisions, self.slot_decisions


def run(name: str, trials: int, workers: int, bin_size: int, seed: int,
        store: str = "file") -> dict[str, Any]:
    if store == "memory":
        return _run(name, trials, workers, bin_size, seed, Store.create(None, name=name, spec={}))
    with tempfile.TemporaryDirectory(prefix="scale_sim-") as folder:
        study = Store.create(Path(folder) / "study.db", name=name, spec={})
        try:
            return _run(name, trials, workers, bin_size, seed, study)
        finally:
            study.close()


def _run(name: str, trials: int, workers: int, bin_size: int, seed: int,
         store: Store) -> dict[str, Any]:
    bench = CrossingCurves(dim=3, max_resource=27)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=seed)
    options: dict[str, Any] = {} if name == "fifo" else {"max_resource": bench.max_resource}
    scheduler = make_scheduler(name, searcher=searcher, metric=bench.metric, mode=bench.mode,
                               seed=seed, **options)
    executor = SimulatedExecutor(bench, n_workers=workers, seed=seed)
    bins = _Bins(bin_size)
    tuner = Tuner(store=store, scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), budget=Budget(num_trials=trials), seed=seed,
                  callbacks=[bins])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = tuner.run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    steady = [r["ms_per_trial"] for r in bins.rows[1:]] or [r["ms_per_trial"] for r in bins.rows]
    return {"scheduler": name, "trials": len(result.trials), "workers": workers, "cpu_s": round(cpu, 2),
            "decisions": bins.decisions, "decisions_per_s": round(bins.decisions / max(cpu, 1e-9), 1),
            "slot_decisions": bins.slot_decisions,
            "wall_s": round(wall, 2), "bins": bins.rows,
            "flatness": round(steady[-1] / steady[0], 3) if steady else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=1000)
    ap.add_argument("--bin", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schedulers", nargs="+", default=["fifo", "asha", "hyperband", "promotion"])
    ap.add_argument("--store", choices=["file", "memory"], default="file",
                    help="the study's SQLite file in a temporary folder, or SQLite in memory")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/scale_sim.json"))
    args = ap.parse_args()
    rows = []
    for name in args.schedulers:
        row = run(name, args.trials, args.workers, args.bin, args.seed, args.store)
        rows.append(row)
        per = ", ".join(f"{b['ms_per_trial']:.2f}" for b in row["bins"])
        rate = ", ".join(f"{b['decisions_per_s']:.0f} ({b['slot_decisions_per_s']:.0f})" for b in row["bins"])
        print(f"{name:10s} {row['trials']} trials, {row['cpu_s']} CPU s; ms/trial per bin: {per}; "
              f"last/first {row['flatness']}; decisions (of a free slot) per CPU s per bin: {rate}",
              flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                    "args": vars(args) | {"out": str(args.out)}, "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
