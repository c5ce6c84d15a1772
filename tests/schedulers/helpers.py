"""Shared pieces of the scheduler tests: a seeded random searcher and a simulated study."""

from __future__ import annotations

from typing import Any

import numpy as np

from hpsweep.bench.base import Benchmark
from hpsweep.bench.functions import CrossingCurves
from hpsweep.executors.simulated import SimulatedExecutor, SimulatedLauncher
from hpsweep.schedulers import Scheduler, make_scheduler
from hpsweep.search.base import Searcher
from hpsweep.search.basic import RandomSearcher
from hpsweep.store import Store
from hpsweep.trial import TrialRecord
from hpsweep.tuner import Tuner

SCHEDULER_OPTIONS: dict[str, dict[str, Any]] = {
    "fifo": {},
    "median": {},
    "asha": {"brackets": 2},
    "promotion": {"brackets": 2},
    "hyperband": {"brackets": 3},
    "bohb": {"brackets": 3},
    "dyhpo": {"probability_sh": 0.3, "rung_increment": 3, "n_candidates": 32},
    "pbt": {"perturbation_interval": 3, "population_size": 6},
}


class SeededRandomSearcher(Searcher):
    """Samples the space with a generator seeded by (seed, trial id)."""

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        rng = np.random.default_rng([self.seed or 0, trial_id])
        return dict(self.space.sample(rng))


def build(name: str, bench: Benchmark, *, seed: int = 0, **extra: Any) -> Scheduler:
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=seed)
    options = {**SCHEDULER_OPTIONS[name], **extra}
    return make_scheduler(name, searcher=searcher, metric=bench.metric, mode=bench.mode,
                          max_resource=bench.max_resource, seed=seed, **options)


def simulate(scheduler: Scheduler, bench: Benchmark | None = None, *, workers: int = 3,
             time_budget: float | None = None, num_trials: int | None = 30,
             seed: int = 0) -> tuple[list[TrialRecord], Store]:
    bench = bench or CrossingCurves(dim=3, max_resource=27)
    store = Store.create(None, name="test", spec={})
    executor = SimulatedExecutor(bench, n_workers=workers, seed=seed)
    tuner = Tuner(store=store, scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), num_trials=num_trials,
                  time_budget=time_budget, seed=seed)
    result = tuner.run()
    return result.trials, store
