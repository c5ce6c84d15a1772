#!/usr/bin/env python3
"""Controller overhead per trial, and slot utilization, against the floor and a peer.

- floor: launching the same trivial command N times in a row with ``subprocess.run``;
- hpsweep: a grid of N trials of that command on 1 slot (``Tuner.run`` in-process, so the
  figure is the loop's own cost, not the CLI's import time), overhead = (sweep - floor) / N;
- Optuna: the same command run from an objective with ``subprocess.run`` (in-memory storage and
  SQLite storage), the usual way to sweep a script with it;
- utilization: M trials that each sleep 0.2 s on 2 slots: busy process time / (2 x wall time).

    python benchmarks/overhead.py --trials 200 --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hpsweep.space import parse_inline
from hpsweep.store import Store, StudyDir
from hpsweep.trial import TrialState
from hpsweep.tuner.session import SweepOptions, create_study, load_study

_SCRIPTS = Path(tempfile.mkdtemp(prefix="hpsweep-bench-scripts-"))
(_SCRIPTS / "trivial.py").write_text("print('[hpsweep] {\"loss\": 1.0}')\n")
(_SCRIPTS / "sleepy.py").write_text("import time\ntime.sleep(0.2)\nprint('[hpsweep] {\"loss\": 1.0}')\n")
TRIVIAL = [sys.executable, "-S", str(_SCRIPTS / "trivial.py")]
SLEEPY = [sys.executable, "-S", str(_SCRIPTS / "sleepy.py")]


CPU: dict[str, list[float]] = {}  # the controller's own CPU seconds per trial (children excluded)


def floor(n: int) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        subprocess.run(TRIVIAL, stdout=subprocess.DEVNULL, check=True)
    CPU.setdefault("floor", []).append((time.process_time() - c0) / n)
    return time.perf_counter() - t0


def hpsweep_sweep(n: int, command: list[str], slots: int) -> tuple[float, Path]:
    root = Path(tempfile.mkdtemp(prefix="hpsweep-bench-"))
    study = StudyDir(root / "study")
    argv = [*command, "--i", f"range(0, {n})"]
    options = SweepOptions(command=argv, strategy="grid", metrics=["loss"], modes=["min"],
                           parallel=slots, seed=0, cwd=str(root))
    study.acquire()
    create_study(study, options, parse_inline(argv, seed=0))
    tuner, store, _, _ = load_study(study)
    t0, c0 = time.perf_counter(), time.process_time()
    result = tuner.run()
    elapsed = time.perf_counter() - t0
    if command is TRIVIAL:
        CPU.setdefault("hpsweep", []).append((time.process_time() - c0) / n)
    store.close()
    study.release()
    assert sum(t.state is TrialState.COMPLETED for t in result.trials) == n, result.stopped_reason
    return elapsed, study.root


def optuna_loop(n: int, storage: str | None) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage)

    def objective(trial: optuna.Trial) -> float:
        trial.suggest_int("i", 0, n)
        subprocess.run(TRIVIAL, stdout=subprocess.DEVNULL, check=True)
        return 1.0

    t0, c0 = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=n)
    CPU.setdefault("optuna-mem" if storage is None else "optuna-sqlite", []).append(
        (time.process_time() - c0) / n)
    return time.perf_counter() - t0


def utilization(n: int, slots: int) -> float:
    _, root = hpsweep_sweep(n, SLEEPY, slots)
    store = Store.open(root / "study.db", readonly=True)
    trials = store.trials(with_reports=False)
    busy = sum((t.finished or 0) - (t.started or 0) for t in trials)
    span = max(t.finished or 0 for t in trials) - min(t.started or 0 for t in trials)
    store.close()
    return busy / (slots * span)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--util-trials", type=int, default=60)
    args = p.parse_args()
    n = args.trials
    rows: dict[str, list[float]] = {k: [] for k in ("floor", "hpsweep", "optuna-mem", "optuna-sqlite")}
    utils = []
    for _ in range(args.repeats):  # interleaved, so machine noise hits every method alike
        rows["floor"].append(floor(n) / n)
        rows["hpsweep"].append(hpsweep_sweep(n, TRIVIAL, 1)[0] / n)
        rows["optuna-mem"].append(optuna_loop(n, None) / n)
        db = Path(tempfile.mkdtemp()) / "o.db"
        rows["optuna-sqlite"].append(optuna_loop(n, f"sqlite:///{db}") / n)
        utils.append(utilization(args.util_trials, 2))
    base = statistics.median(rows["floor"])
    print(f"machine: {platform.node()} {platform.machine()} Python {platform.python_version()}, "
          f"{n} trials x {args.repeats} repeats (median)")
    print("| method | wall ms per trial | added over floor (ms) | controller CPU ms per trial | "
          "CPU added over floor (ms) |")
    print("|---|---|---|---|---|")
    cpu_base = statistics.median(CPU["floor"])
    for name, values in rows.items():
        med = statistics.median(values)
        cpu = statistics.median(CPU[name])
        print(f"| {name} | {med * 1e3:.1f} | {(med - base) * 1e3:+.1f} | {cpu * 1e3:.2f} | "
              f"{(cpu - cpu_base) * 1e3:+.2f} |")
    print(f"\nslot utilization, {args.util_trials} trials of 0.2 s on 2 slots: "
          f"{statistics.median(utils) * 100:.1f} % (runs: {', '.join(f'{u * 100:.1f}' for u in utils)})")


if __name__ == "__main__":
    main()
