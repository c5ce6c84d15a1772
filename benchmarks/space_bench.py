"""Timings of the search-space core: lazy grids, conditions, sampling, parsing, searchers.

Run: ``python benchmarks/space_bench.py`` (prints a Markdown table; ``--repeat N`` for more runs).
Each figure is the median over the repeats of the process's CPU time (``time.process_time``), which
other work on a shared machine disturbs less than wall time.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from hpsweep.search.basic import RandomSearcher
from hpsweep.space import SearchSpace, TrialContext, parse_inline, space_from_grid


def timed(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        runs.append(time.process_time() - start)
    return statistics.median(runs)


def billion_grid() -> SearchSpace:
    space = SearchSpace()
    for i in range(9):
        space.add_int(f"p{i}", 0, 9)
    return space


def conditional_space() -> SearchSpace:
    space = SearchSpace().add_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    space.add_float("lr", 1e-5, 1e-1, log=True).add_int("layers", 1, 8)
    space.add_conditional("sgd", "optimizer == 'sgd'",
                          SearchSpace().add_float("momentum", 0.0, 0.99))
    space.add_conditional("adam", "optimizer in ['adam']",
                          SearchSpace().add_float("beta2", 0.9, 0.9999))
    for i in range(5):
        space.add_float(f"x{i}", 0.0, 1.0)
    return space


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    rows: list[tuple[str, str]] = []

    space = billion_grid()
    rows.append(("build + count a 10^9-point grid",
                 f"{timed(lambda: len(billion_grid().grid()), repeat) * 1e3:.2f} ms"))
    grid = space.grid()
    idx = np.random.default_rng(0).integers(10**9, size=100_000)
    t = timed(lambda: [grid[int(i)] for i in idx], repeat)
    rows.append(("index a 10^9-point grid (per point)", f"{t / len(idx) * 1e6:.2f} us"))

    cond = conditional_space()
    t = timed(lambda: [cond.sample(np.random.default_rng(s)) for s in range(10_000)], repeat)
    rows.append(("sample a 10-parameter conditional space (per sample, fresh generator)",
                 f"{t / 10_000 * 1e6:.1f} us"))
    gen = np.random.default_rng(0)
    t = timed(lambda: [cond.sample(gen) for _ in range(10_000)], repeat)
    rows.append(("sample the same space (per sample, one generator)", f"{t / 10_000 * 1e6:.1f} us"))

    grid_dict = {f"o{i}": list(range(10)) for i in range(5)}  # 10^5 points
    conditions = [({"o0": [1, 2]}, {"o1": [-1]}), ({"o2": [3]}, {"o3": [0, 1]})]
    t = timed(lambda: space_from_grid(grid_dict, conditions).grid().size, repeat)
    size = space_from_grid(grid_dict, conditions).grid().size
    rows.append((f"expand a 10^5-point grid with 2 seed-000 conditions (-> {size} points)",
                 f"{t:.2f} s"))

    argv = ["python", "train.py", "--lr", "loguniform(1e-5, 1e-1, 5)", "--bs", "[16, 32, 64]",
            "--layers=range(1, 10, 2)", "--model", "['resnet18' 'transformer', 'resnet50']",
            "--out", "{trial_dir}"]
    t = timed(lambda: [parse_inline(argv, seed=s) for s in range(1000)], repeat)
    rows.append(("parse a 4-parameter inline command", f"{t / 1000 * 1e6:.0f} us"))
    sweep = parse_inline(argv, seed=0)
    ctx = TrialContext(trial_id=1, trial_dir="/runs/x/trials/0001", worker_id=0, seed=1,
                       resource=None)
    configs = list(sweep.space.grid())
    t = timed(lambda: [sweep.render(c, ctx) for c in configs], repeat)
    rows.append(("render one trial's argv", f"{t / len(configs) * 1e6:.1f} us"))

    def random_search() -> None:
        searcher = RandomSearcher(space, metric="y", mode="min", seed=1)
        for i in range(1000):
            searcher.suggest(i)

    t = timed(random_search, repeat)
    rows.append(("random search without replacement on the 10^9 grid (per suggestion)",
                 f"{t / 1000 * 1e6:.0f} us"))

    print(f"machine: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, NumPy {np.__version__}; "
          f"CPU time, median of {repeat} runs\n")
    print("| operation | time |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
