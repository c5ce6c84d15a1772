"""Controller cost as a study grows, in simulated time: does a launch cost the same at trial
100,000 as at trial 1,000?

The simulated executor runs ``--workers`` workers over closed-form learning curves
(``CrossingCurves``), so the figures are the controller's own CPU (tuner, scheduler, searcher and
an in-memory store), with no process or surrogate cost. CPU per trial is reported in bins of
``--bin`` trials; the flatness ratio is the last bin over the first one past the warm-up.

    python benchmarks/scale_sim.py --trials 100000 --workers 1000 --schedulers fifo asha hyperband
"""

from __future__ import annotations

import argparse
import json
import platform
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
        self.rows: list[dict[str, float]] = []
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        self._dec = 0

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Any) -> None:
        if kind in ("start", "resume", "report"):
            self.decisions += 1
        if kind != "start":
            return
        self.started += 1
        if self.started % self.size == 0:
            cpu, wall = time.process_time(), time.perf_counter()
            self.rows.append({"upto": self.started, "ms_per_trial": 1000 * (cpu - self._cpu) / self.size,
                              "decisions_per_s": (self.decisions - self._dec) / max(cpu - self._cpu, 1e-9)})
            self._cpu, self._wall, self._dec = cpu, wall, self.decisions


def run(name: str, trials: int, workers: int, bin_size: int, seed: int) -> dict[str, Any]:
    bench = CrossingCurves(dim=3, max_resource=27)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=seed)
    options: dict[str, Any] = {} if name == "fifo" else {"max_resource": bench.max_resource}
    scheduler = make_scheduler(name, searcher=searcher, metric=bench.metric, mode=bench.mode,
                               seed=seed, **options)
    executor = SimulatedExecutor(bench, n_workers=workers, seed=seed)
    bins = _Bins(bin_size)
    tuner = Tuner(store=Store.create(None, name=name, spec={}), scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), budget=Budget(num_trials=trials), seed=seed,
                  callbacks=[bins])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = tuner.run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    steady = [r["ms_per_trial"] for r in bins.rows[1:]] or [r["ms_per_trial"] for r in bins.rows]
    return {"scheduler": name, "trials": len(result.trials), "workers": workers, "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2), "bins": bins.rows,
            "flatness": round(steady[-1] / steady[0], 3) if steady else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=1000)
    ap.add_argument("--bin", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schedulers", nargs="+", default=["fifo", "asha", "hyperband", "promotion"])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/scale_sim.json"))
    args = ap.parse_args()
    rows = []
    for name in args.schedulers:
        row = run(name, args.trials, args.workers, args.bin, args.seed)
        rows.append(row)
        per = ", ".join(f"{b['ms_per_trial']:.2f}" for b in row["bins"])
        print(f"{name:10s} {row['trials']} trials, {row['cpu_s']} CPU s; ms/trial per bin: {per}; "
              f"last/first {row['flatness']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                    "args": vars(args) | {"out": str(args.out)}, "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
