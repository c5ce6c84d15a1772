"""Multi-fidelity benchmark on YAHPO Gym's LCBench surrogate, in simulated time.

Runs every hpsweep scheduler through the real Tuner loop (in-memory store, simulated executor)
and, in the same invocation and on the same ONNX surrogate, the peers: Syne Tune 0.13.0 (its own
virtual environment under ``benchmarks/.peers/``, installed from PyPI on first use; its simulator
backend fed by a Blackbox that wraps this surrogate) and Optuna TPE with HyperbandPruner and with
SuccessiveHalvingPruner (ask/tell driven by a simulated clock here).

Protocol (../shared/data/yahpo/README.md): 4 workers; budget per (task, seed) = 20 x T_full, the
median simulated time of a full 52-epoch training over 64 random configurations; score = best
``val_accuracy`` so far at 0.1, 0.25, 0.5 and 1.0 of the budget as normalized regret
(max - best) / (max - min) with YAHPO's per-task min and max; mean over tasks and seeds and the
mean rank among methods; CPU seconds and wall-clock seconds per run.

    .venv/bin/python benchmarks/multifidelity.py --seeds 0 1 2 --output benchmarks/results/mf

The same file runs inside the Syne Tune environment as a worker (``--peer-worker``); that mode
imports only the standard library, NumPy, Syne Tune and ``hpsweep.bench.lcbench``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Literal

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread per run
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "yahpo"
PEERS = ROOT / "benchmarks" / ".peers"
SYNE_TUNE_VENV = PEERS / "syne-tune-0.13.0"
DEV_TASKS = ("3945", "7593", "34539", "126025", "146212", "167104", "168330", "189906")
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
HPSWEEP_METHODS = ("hpsweep-random", "hpsweep-median", "hpsweep-asha", "hpsweep-promotion",
                   "hpsweep-hyperband", "hpsweep-bohb", "hpsweep-dyhpo", "hpsweep-pbt")
OPTUNA_METHODS = ("optuna-tpe-hyperband", "optuna-tpe-sha")
SYNE_TUNE_METHODS = ("synetune-random", "synetune-asha", "synetune-synchb", "synetune-bohb",
                     "synetune-dyhpo")
ALL_METHODS = HPSWEEP_METHODS + OPTUNA_METHODS + SYNE_TUNE_METHODS
MAX_EPOCH = 52

Trajectory = list[tuple[float, float]]  # (simulated time, val_accuracy) of every report


# -- hpsweep ----------------------------------------------------------------------------------

def _random_searcher(space: Any, *, metric: str, mode: Literal["min", "max"], seed: int) -> Any:
    try:
        from hpsweep.search.basic import RandomSearcher

        return RandomSearcher(space, metric=metric, mode=mode, seed=seed)
    except ImportError:  # the basic searchers are optional here
        from hpsweep.search.base import Searcher

        class _Random(Searcher):
            def suggest(self, trial_id: int) -> dict[str, Any] | None:
                return dict(self.space.sample(np.random.default_rng([seed, trial_id])))

        return _Random(space, metric=metric, mode="max", seed=seed)


HPSWEEP_OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "hpsweep-random": ("fifo", {}),
    "hpsweep-median": ("median", {}),
    "hpsweep-asha": ("asha", {"brackets": 1}),
    "hpsweep-promotion": ("promotion", {"brackets": 1}),
    "hpsweep-hyperband": ("hyperband", {"brackets": 5}),
    "hpsweep-bohb": ("bohb", {"brackets": 5}),
    "hpsweep-dyhpo": ("dyhpo", {"probability_sh": 0.25, "rung_increment": 2}),
    "hpsweep-pbt": ("pbt", {"perturbation_interval": 4, "population_size": 16}),
}


def run_hpsweep(method: str, task: str, seed: int, workers: int, budget: float,
                data_dir: Path) -> dict[str, Any]:
    from hpsweep.bench.lcbench import LCBenchModel
    from hpsweep.executors.simulated import SimulatedExecutor, SimulatedLauncher
    from hpsweep.schedulers import make_scheduler
    from hpsweep.store import Store
    from hpsweep.tuner import Tuner

    bench = LCBenchModel(data_dir).task(task)
    name, options = HPSWEEP_OPTIONS[method]
    wall, cpu = time.perf_counter(), time.process_time()
    searcher = _random_searcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=seed)
    scheduler = make_scheduler(name, searcher=searcher, metric=bench.metric, mode=bench.mode,
                               resource_attr="epoch", min_resource=1, max_resource=MAX_EPOCH,
                               reduction_factor=3, seed=seed, **options)
    store = Store.create(None, name=f"{method}-{task}-{seed}", spec={})
    executor = SimulatedExecutor(bench, n_workers=workers, seed=seed)
    tuner = Tuner(store=store, scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor), num_trials=None, time_budget=budget,
                  seed=seed)
    result = tuner.run()
    traj = [(r.time, float(r.metrics["val_accuracy"])) for t in result.trials for r in t.reports]
    decisions = sum(t.runs for t in result.trials)  # one scheduling decision per start or resume
    return {"trajectory": traj, "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu, "trials": len(result.trials),
            "decisions": decisions}


# -- Optuna -----------------------------------------------------------------------------------

def run_optuna(method: str, task: str, seed: int, workers: int, budget: float,
               data_dir: Path) -> dict[str, Any]:
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    from hpsweep.bench.lcbench import LCBenchModel

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    bench = LCBenchModel(data_dir).task(task)
    wall, cpu = time.perf_counter(), time.process_time()
    dists = {
        "batch_size": IntDistribution(16, 512, log=True),
        "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
        "momentum": FloatDistribution(0.1, 0.99),
        "weight_decay": FloatDistribution(1e-5, 0.1),
        "num_layers": IntDistribution(1, 5),
        "max_units": IntDistribution(64, 1024, log=True),
        "max_dropout": FloatDistribution(0.0, 1.0),
    }
    pruner: optuna.pruners.BasePruner
    if method == "optuna-tpe-hyperband":
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCH,
                                                reduction_factor=3)
    else:
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    study = optuna.create_study(direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                study_name=f"lcbench-{task}-{seed}")
    queue: list[tuple[float, int, int]] = []
    running: dict[int, tuple[Any, np.ndarray, float]] = {}
    traj: Trajectory = []

    def start(now: float) -> None:
        trial = study.ask(dists)
        curve = bench.curves([trial.params])[0]
        running[trial.number] = (trial, curve, now)
        heapq.heappush(queue, (now + float(curve[0, 0]), trial.number, 1))

    for _ in range(workers):
        start(0.0)
    while queue:
        now, number, epoch = heapq.heappop(queue)
        if now > budget:
            break
        trial, curve, t0 = running[number]
        value = float(curve[epoch - 1, 1])
        traj.append((now, value))
        trial.report(value, epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif epoch == MAX_EPOCH:
            study.tell(trial, value)
        else:
            heapq.heappush(queue, (t0 + float(curve[epoch, 0]), number, epoch + 1))
            continue
        del running[number]
        start(now)
    return {"trajectory": traj, "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu, "trials": len(study.trials)}


# -- Syne Tune (runs in its own environment) ---------------------------------------------------

def ensure_syne_tune(python: str) -> Path:
    """The Syne Tune 0.13.0 environment's Python, installed from PyPI when missing."""
    exe = SYNE_TUNE_VENV / "bin" / "python"
    probe = [str(exe), "-c", "import syne_tune, onnxruntime; assert syne_tune.__version__ == '0.13.0'"]
    if exe.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return exe
    PEERS.mkdir(parents=True, exist_ok=True)
    (PEERS / ".gitignore").write_text("*\n")
    subprocess.run([python, "-m", "venv", str(SYNE_TUNE_VENV)], check=True)
    subprocess.run([str(exe), "-m", "pip", "install", "-q", "syne-tune[basic]==0.13.0",
                    "onnxruntime"], check=True)
    return exe


def run_syne_tune(method: str, task: str, seed: int, workers: int, budget: float,
                  data_dir: Path, *, python: Path, timeout: float) -> dict[str, Any]:
    out = PEERS / "runs" / f"{method}-{task}-{seed}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    argv = [str(python), str(Path(__file__).resolve()), "--peer-worker", method, "--tasks", task,
            "--seeds", str(seed), "--workers", str(workers), "--peer-budget", repr(budget),
            "--data-dir", str(data_dir), "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "SYNETUNE_FOLDER": str(PEERS / "syne-tune-runs")}
    wall, cpu0 = time.perf_counter(), _children_cpu()
    capped = False
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        _, err = proc.communicate()
        capped = True
    cpu = _children_cpu() - cpu0
    traj: Trajectory = []
    info: dict[str, Any] = {}
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            if "t" in row:
                traj.append((row["t"], row["v"]))
            else:
                info = row
    if not capped and proc.returncode != 0:
        raise RuntimeError(f"{method} on {task}/{seed} failed: {err.decode()[-2000:]}")
    return {"trajectory": traj, "wall": time.perf_counter() - wall,
            "cpu": cpu, "trials": info.get("trials", 0),
            "capped": capped, "reached": max((t for t, _ in traj), default=0.0) / budget}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peer_worker(args: argparse.Namespace) -> None:
    """Runs one Syne Tune method in this (Syne Tune) environment; streams results to --output."""
    import logging

    from syne_tune import StoppingCriterion
    from syne_tune import Tuner as STuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository.blackbox import Blackbox
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.config_space import lograndint, loguniform, randint, uniform
    from syne_tune.optimizer import baselines
    from syne_tune.tuner_callback import TunerCallback

    from hpsweep.bench.lcbench import LCBenchModel

    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    cpu = time.process_time()
    bench = LCBenchModel(args.data_dir).task(args.tasks[0])
    seed, budget = args.seeds[0], float(args.peer_budget)
    space = {"batch_size": lograndint(16, 512), "learning_rate": loguniform(1e-4, 1e-1),
             "momentum": uniform(0.1, 0.99), "weight_decay": uniform(1e-5, 0.1),
             "num_layers": randint(1, 5), "max_units": lograndint(64, 1024),
             "max_dropout": uniform(0.0, 1.0)}

    class LCBenchBlackbox(Blackbox):
        def __init__(self) -> None:
            super().__init__(configuration_space=space, fidelity_space={"epoch": randint(1, 52)},
                             objectives_names=["val_accuracy", "time"])

        @property
        def fidelity_values(self) -> np.ndarray:
            return np.arange(1, MAX_EPOCH + 1)

        def _objective_function(self, configuration: dict[str, Any], fidelity: Any = None,
                                seed: int | None = None) -> Any:
            curve = bench.curves([configuration])[0][:, [1, 0]]
            if fidelity is None:
                return curve
            epoch = int(fidelity["epoch"] if isinstance(fidelity, dict) else fidelity)
            return {"val_accuracy": float(curve[epoch - 1, 0]), "time": float(curve[epoch - 1, 1])}

    sink = open(args.output, "w")  # noqa: SIM115 - closed at the end, flushed per line

    class Recorder(TunerCallback):
        def on_trial_result(self, trial: Any, status: str, result: dict[str, Any],
                            decision: str) -> None:
            sink.write(json.dumps({"t": float(result["st_tuner_time"]),
                                   "v": float(result["val_accuracy"])}) + "\n")
            sink.flush()

    config_space = {**space, "epochs": MAX_EPOCH}
    common = {"metric": "val_accuracy", "mode": "max", "random_seed": seed}
    hb = {"resource_attr": "epoch", "max_resource_attr": "epochs"}
    makers: dict[str, Callable[[], Any]] = {
        "synetune-random": lambda: baselines.RandomSearch(config_space, **common),
        "synetune-asha": lambda: baselines.ASHA(config_space, **common, **hb),
        "synetune-synchb": lambda: baselines.SyncHyperband(config_space, **common, **hb),
        "synetune-bohb": lambda: baselines.BOHB(config_space, **common, **hb),
        "synetune-dyhpo": lambda: baselines.DyHPO(config_space, **common, **hb),
    }
    backend = UserBlackboxBackend(blackbox=LCBenchBlackbox(), elapsed_time_attr="time",
                                  max_resource_attr="epochs")
    tuner = STuner(trial_backend=backend, scheduler=makers[args.peer_worker](),
                   stop_criterion=StoppingCriterion(max_wallclock_time=budget),
                   n_workers=args.workers, sleep_time=0, callbacks=[SimulatorCallback(), Recorder()],
                   results_update_interval=1e9, print_update_interval=1e9, save_tuner=False,
                   tuner_name=f"st-{args.peer_worker}-{args.tasks[0]}-{seed}")
    tuner.run()
    sink.write(json.dumps({"cpu": time.process_time() - cpu,
                           "trials": len(tuner.trial_backend._trial_dict)}) + "\n")
    sink.close()


# -- scoring and the table --------------------------------------------------------------------

def regrets(traj: Trajectory, budget: float, lo: float, hi: float) -> list[float]:
    """Normalized regret of the best val_accuracy reported by each budget fraction."""
    arr = np.array(sorted(traj)) if traj else np.empty((0, 2))
    out = []
    for frac in FRACTIONS:
        seen = arr[arr[:, 0] <= frac * budget, 1] if len(arr) else np.empty(0)
        best = float(seen.max()) if len(seen) else lo
        out.append((hi - best) / (hi - lo))
    return out


def _job(job: tuple[str, str, int, int, float, str, str | None, float]) -> dict[str, Any]:
    method, task, seed, workers, budget, data_dir, peer_python, timeout = job
    data = Path(data_dir)
    if method.startswith("hpsweep-"):
        res = run_hpsweep(method, task, seed, workers, budget, data)
    elif method.startswith("optuna-"):
        res = run_optuna(method, task, seed, workers, budget, data)
    else:
        assert peer_python is not None
        res = run_syne_tune(method, task, seed, workers, budget, data,
                            python=Path(peer_python), timeout=timeout)
    from hpsweep.bench.lcbench import LCBenchModel

    lo, hi = LCBenchModel(data).task(task).metric_range()
    res["regret"] = regrets(res.pop("trajectory"), budget, lo, hi)
    return {"method": method, "task": task, "seed": seed, "budget": budget, **res}


def summarize(rows: list[dict[str, Any]], methods: Sequence[str], tasks: Sequence[str]) -> str:
    lines = ["| method | " + " | ".join(f"regret @{f:g}" for f in FRACTIONS)
             + " | mean rank @1.0 | wall s/run | CPU s/run |",
             "|---|" + "---|" * (len(FRACTIONS) + 3)]
    ranks = _ranks(rows, methods)
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        if not mine:
            continue
        reg = np.array([r["regret"] for r in mine])
        cells = [f"{reg[:, i].mean():.4f} ± {reg[:, i].std(ddof=1) if len(reg) > 1 else 0:.4f}"
                 for i in range(len(FRACTIONS))]
        wall = np.mean([r["wall"] for r in mine])
        cpu = np.nanmean([r["cpu"] for r in mine])
        capped = sum(1 for r in mine if r.get("capped"))
        note = f" (capped {capped}/{len(mine)})" if capped else ""
        lines.append(f"| {m}{note} | " + " | ".join(cells)
                     + f" | {ranks.get(m, float('nan')):.2f} | {wall:.2f} | {cpu:.2f} |")
    lines += ["", "Per task, mean normalized regret at the full budget (± std over seeds):", "",
              "| method | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
    for m in methods:
        cells = []
        for t in tasks:
            vals = [r["regret"][-1] for r in rows if r["method"] == m and r["task"] == t]
            cells.append(f"{np.mean(vals):.4f} ± {np.std(vals, ddof=1) if len(vals) > 1 else 0:.3f}"
                         if vals else "-")
        if any(c != "-" for c in cells):
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ranks(rows: list[dict[str, Any]], methods: Sequence[str]) -> dict[str, float]:
    from scipy.stats import rankdata

    groups: dict[tuple[str, int], dict[str, float]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["seed"]), {})[r["method"]] = r["regret"][-1]
    acc: dict[str, list[float]] = {}
    for scores in groups.values():
        present = [m for m in methods if m in scores]
        for m, rank in zip(present, rankdata([scores[m] for m in present])):
            acc.setdefault(m, []).append(float(rank))
    return {m: float(np.mean(v)) for m, v in acc.items()}


def decision_timing(data_dir: Path, *, n_trials: int = 500, repeats: int = 50) -> str:
    """Milliseconds per DyHPO decision with ``n_trials`` paused LCBench trials in the study
    (``probability_sh=0``: every decision fits the surrogate and scores all candidates)."""
    from hpsweep.bench.lcbench import LCBenchModel
    from hpsweep.schedulers import make_scheduler
    from hpsweep.trial import Report, TrialRecord, TrialState

    bench = LCBenchModel(data_dir).task("3945")
    rng = np.random.default_rng(0)
    searcher = _random_searcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=0)
    sched = make_scheduler("dyhpo", searcher=searcher, metric=bench.metric, mode=bench.mode,
                           max_resource=MAX_EPOCH, seed=0,
                           **{**HPSWEEP_OPTIONS["hpsweep-dyhpo"][1], "probability_sh": 0.0})
    configs = [bench.space().sample(rng) for _ in range(n_trials)]
    curves = bench.curves(configs)
    clock, observations = 0.0, 0
    for tid, (config, curve) in enumerate(zip(configs, curves)):
        trial = TrialRecord(tid, config, TrialState.RUNNING, resource=1)
        sched.on_trial_start(trial)
        for epoch in range(1, int(rng.integers(1, 12)) + 1):
            clock += 1.0
            report = Report(tid, epoch, {"val_accuracy": float(curve[epoch - 1, 1])}, clock)
            trial.reports.append(report)
            sched.on_report(trial, report)
            observations += 1
        trial.state = TrialState.PAUSED
        sched.on_trial_end(trial)
    sched.suggest(n_trials, allow_new=True)  # first call tunes the kernel
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sched.suggest(n_trials, allow_new=True)
        times.append(1000 * (time.perf_counter() - start))
    arr = np.array(times)
    return (f"DyHPO decision with {n_trials} paused trials ({observations} observations): "
            f"median {np.median(arr):.1f} ms, mean {arr.mean():.1f} ms, "
            f"95th percentile {np.percentile(arr, 95):.1f} ms over {repeats} decisions")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(DEV_TASKS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--budget-multiple", type=float, default=20.0)
    parser.add_argument("--methods", nargs="+", default=list(ALL_METHODS))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "mf")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument("--peer-timeout", type=float, default=400.0,
                        help="real seconds before a Syne Tune run is cut off (reported as capped)")
    parser.add_argument("--dyhpo-timeout", type=float, default=30.0,
                        help="the same cut-off for Syne Tune's DyHPO, which is far slower")
    parser.add_argument("--summarize", type=Path, default=None, metavar="RUNS.jsonl",
                        help="only print the table of the runs in RUNS.jsonl (e.g. a cut-off run)")
    parser.add_argument("--decision-timing", action="store_true",
                        help="only time DyHPO's decisions with 500 trials in the study")
    parser.add_argument("--peer-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--peer-budget", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer_worker:
        peer_worker(args)
        return
    if args.summarize:
        done = [json.loads(line) for line in args.summarize.read_text().splitlines() if line]
        print(summarize(done, [m for m in ALL_METHODS if any(r["method"] == m for r in done)],
                        sorted({r["task"] for r in done}, key=args.tasks.index)))
        return
    if args.decision_timing:
        print(decision_timing(args.data_dir))
        return
    unknown = sorted(set(args.methods) - set(ALL_METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(ALL_METHODS)}")
    from hpsweep.bench.lcbench import LCBenchModel

    model = LCBenchModel(args.data_dir)
    budgets = {t: args.budget_multiple * model.task(t).full_time(n=64, seed=0) for t in args.tasks}
    peer_python = None
    if any(m.startswith("synetune-") for m in args.methods):
        peer_python = str(ensure_syne_tune(sys.executable))
    slow_first = {"optuna-tpe-sha": 0, "optuna-tpe-hyperband": 1, "synetune-bohb": 2,
                  "synetune-dyhpo": 3}
    jobs = [(m, t, s, args.workers, budgets[t], str(args.data_dir), peer_python,
             args.dyhpo_timeout if m == "synetune-dyhpo" else args.peer_timeout)
            for s in args.seeds for t in args.tasks
            for m in sorted(args.methods, key=lambda m: slow_first.get(m, 9))]
    args.output.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool, \
            (args.output / "runs.jsonl").open("w") as sink:
        for future in as_completed([pool.submit(_job, job) for job in jobs]):
            row = future.result()
            rows.append(row)
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            print(f"{row['method']:<22} task {row['task']:>6} seed {row['seed']} "
                  f"regret@1 {row['regret'][-1]:.4f} wall {row['wall']:.1f}s", flush=True)
    table = summarize(rows, [m for m in ALL_METHODS if m in args.methods], args.tasks)
    header = (f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`  \n"
              f"Tasks {' '.join(args.tasks)}; seeds {' '.join(map(str, args.seeds))}; "
              f"{args.workers} workers; budget {args.budget_multiple:g} x T_full; "
              f"total real time {time.perf_counter() - started:.0f} s\n\n")
    (args.output / "table.md").write_text(header + table + "\n")
    print(header + table)


if __name__ == "__main__":
    main()
