"""Multi-fidelity benchmark on YAHPO Gym surrogates (LCBench, rbv2_rpart), in simulated time.

Runs every hpsweep scheduler through the real Tuner loop (in-memory store, simulated executor)
and, in the same invocation and on the same ONNX surrogates, the peers: Syne Tune 0.13.0 (its own
virtual environment under ``benchmarks/.peers/``, installed from PyPI on first use; its simulator
backend fed by a Blackbox that wraps the surrogate) and Optuna TPE with HyperbandPruner and with
SuccessiveHalvingPruner (ask/tell driven by a simulated clock here).

Protocol (../shared/data/yahpo/README.md): 4 workers; budget per (task, seed) = 20 x T_full,
T_full read from the protocol's ``tfull.json`` of each scenario; score = best value of the
metric reported so far (``val_accuracy`` on LCBench, ``acc`` on rbv2_rpart) at 0.1, 0.25, 0.5 and
1.0 of the budget as normalized regret (max - best) / (max - min) with YAHPO's per-instance min
and max; mean over tasks and seeds and the mean rank among methods; CPU and wall-clock seconds.

hpsweep's schedulers are built with ``make_scheduler(name, searcher=..., metric=..., mode=...,
max_resource=..., seed=...)`` and no other option, so the
benchmark measures the defaults a user gets. PBT ends when its population has trained to the
maximum resource; it is then started again (a new population, seed ``seed * 1000 + round``) in
the remaining time, so that it spends the whole budget like every other method. On a surrogate
an exploited checkpoint cannot be priced: a trial that copies another's checkpoint continues
on its new configuration's curve from the copied step, as if that configuration had trained
there itself.

Per run the benchmark records the best configuration found and the share of launched
configurations with a continuous parameter exactly on a bound of its range; a run whose best
configuration has two or more parameters on a bound, at least one of them continuous, is flagged
(a continuous value exactly on a bound has probability zero under a sampler that does not clip,
and the surrogates extrapolate at the corners of the box; an integer at a bound alone is an
ordinary value of its grid).

    .venv/bin/python benchmarks/multifidelity.py --scenarios lcbench rbv2 --seeds 0 1 2 \
        --output benchmarks/results/mf

The same file runs inside the Syne Tune environment as a worker (``--peer-worker``); that mode
imports only the standard library, NumPy, Syne Tune and ``hpsweep.bench``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
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
LCBENCH_TASKS = ("3945", "7593", "34539", "126025", "146212", "167104", "168330", "189906")
RBV2_TASKS = ("3", "6", "11", "15", "23", "31", "37", "1461")
SCENARIO_TASKS = {"lcbench": LCBENCH_TASKS, "rbv2": RBV2_TASKS}
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
HPSWEEP_METHODS = ("hpsweep-random", "hpsweep-median", "hpsweep-asha", "hpsweep-promotion",
                   "hpsweep-hyperband", "hpsweep-bohb", "hpsweep-dyhpo", "hpsweep-pbt")
OPTUNA_METHODS = ("optuna-tpe-hyperband", "optuna-tpe-sha")
SYNE_TUNE_METHODS = ("synetune-random", "synetune-asha", "synetune-synchb", "synetune-bohb",
                     "synetune-dyhpo")
ASK_TELL_METHODS = ("dehb", "smac-hyperband")  # each in its own environment under .venvs/
ALL_METHODS = HPSWEEP_METHODS + OPTUNA_METHODS + SYNE_TUNE_METHODS + ASK_TELL_METHODS
DEFAULT_METHODS = (*HPSWEEP_METHODS, "optuna-tpe-hyperband", "synetune-synchb", "synetune-bohb",
                   *ASK_TELL_METHODS)
VENVS = ROOT / "benchmarks" / ".venvs"
ASK_TELL_ENV = {  # method -> (environment folder, pip requirements)
    "dehb": ("dehb", ["dehb==0.1.2", "onnxruntime"]),
    "smac-hyperband": ("smac", ["smac==2.4.*", "onnxruntime"]),
}
CONTINUES = {  # does a promoted job continue from its checkpoint (else it retrains from scratch)
    "hpsweep": "continues", "optuna": "continues (one trial runs on)",
    "synetune": "continues (simulator backend resumes)",
    "dehb": "retrains from scratch (charged the full time to its fidelity)",
    "smac": "retrains from scratch (charged the full time to its fidelity)",
}
NOTES = {"hpsweep-pbt": "an exploited checkpoint is not priced by the surrogate; restarted "
                        "populations spend the whole budget"}

Trajectory = list[tuple[float, float, int]]  # (simulated time, metric, config index) per report


# -- scenarios --------------------------------------------------------------------------------

def load_bench(scenario: str, task: str, data_dir: Path) -> Any:
    if scenario == "lcbench":
        from hpsweep.bench.lcbench import LCBenchModel

        return LCBenchModel(data_dir).task(task)
    if scenario == "rbv2":
        from hpsweep.bench.rbv2 import RBV2RpartModel

        return RBV2RpartModel(data_dir).task(task)
    raise ValueError(f"unknown scenario {scenario!r}")


def _tfull_table(scenario: str, data_dir: Path) -> dict[str, Any]:
    folder = {"lcbench": "lcbench", "rbv2": "rbv2_rpart"}[scenario]
    table: dict[str, Any] = json.loads((data_dir / folder / "tfull.json").read_text())
    return table


def t_full(scenario: str, task: str, data_dir: Path) -> float:
    """The protocol's T_full from the scenario's ``tfull.json``."""
    return float(_tfull_table(scenario, data_dir)[task]["t_full"])


def curve_arrays(bench: Any, configs: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative time [n, R], metric [n, R]) of every configuration at every resource level."""
    from hpsweep.bench.rbv2 import OUTPUTS, RBV2Rpart

    curves = bench.curves(configs)
    if isinstance(bench, RBV2Rpart):
        return curves[:, :, OUTPUTS.index("timetrain")], curves[:, :, OUTPUTS.index("acc")]
    return curves[:, :, 0], curves[:, :, 1]


def on_bounds(config: dict[str, Any], params: Sequence[Any]) -> tuple[int, int]:
    """(continuous parameters exactly on a bound, all numeric parameters on a bound)."""
    from hpsweep.space._params import Float, Int

    cont = wide = 0
    for p in params:
        if p.name not in config or not isinstance(p, (Float, Int)):
            continue
        v = float(config[p.name])
        at = any(abs(v - b) <= 1e-12 * max(1.0, abs(b)) for b in (float(p.low), float(p.high)))
        cont += at and isinstance(p, Float)
        wide += at
    return cont, wide


# -- hpsweep ----------------------------------------------------------------------------------

def _random_searcher(space: Any, *, metric: str, mode: Literal["min", "max"], seed: int) -> Any:
    from hpsweep.search.basic import RandomSearcher

    return RandomSearcher(space, metric=metric, mode=mode, seed=seed)


HPSWEEP_SCHEDULER = {
    "hpsweep-random": "fifo", "hpsweep-median": "median", "hpsweep-asha": "asha",
    "hpsweep-promotion": "promotion", "hpsweep-hyperband": "hyperband", "hpsweep-bohb": "bohb",
    "hpsweep-dyhpo": "dyhpo", "hpsweep-pbt": "pbt",
}


def build_scheduler(method: str, bench: Any, seed: int) -> Any:
    """The scheduler as a user gets it: no option beyond the study's own facts."""
    from hpsweep.schedulers import make_scheduler

    searcher = _random_searcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=seed)
    name = HPSWEEP_SCHEDULER[method]
    # --option: a constructor option for a labelled ablation only; the tables of record pass none
    options = {}
    for item in filter(None, os.environ.get("HPSWEEP_BENCH_OPTION", "").split(",")):
        key, _, value = item.partition("=")
        target, _, opt = key.partition(".")
        if target == name:
            options[opt] = json.loads(value) if value != "all" else _all_brackets(bench)
    sched = make_scheduler(name, searcher=searcher, metric=bench.metric, mode=bench.mode,
                           max_resource=bench.max_resource, seed=seed, **options)
    # --set: an ablation of a model attribute (e.g. dyhpo.incumbent_rule=any), never a default
    for item in filter(None, os.environ.get("HPSWEEP_BENCH_SET", "").split(",")):
        key, _, value = item.partition("=")
        target, _, attr = key.partition(".")
        if target == name:
            setattr(sched, attr, json.loads(value) if value[:1] in "0123456789-[{tf" else value)
    return sched


def _all_brackets(bench: Any) -> int:
    """Every bracket of Hyperband with eta 3 from resource 1 to the benchmark's maximum."""
    return 1 + math.ceil(math.log(bench.max_resource) / math.log(3) - 1e-9)


class _Stalled(Exception):
    """The loop kept deciding without the simulated clock moving (see run_hpsweep)."""


def run_hpsweep(method: str, bench: Any, seed: int, workers: int,
                budget: float) -> dict[str, Any]:
    """One run through the real Tuner loop. Reports are recorded as the scheduler receives them
    (with the configuration the trial has at that moment: PBT changes it). A loop that makes
    10,000 decisions in a row without the simulated clock moving is cut off and the run is
    marked ``stalled`` (a guard: PBT once resumed a trial that copied a checkpoint past its target
    over and over; no run of the table of record stalls)."""
    from hpsweep.executors.simulated import SimulatedExecutor, SimulatedLauncher
    from hpsweep.store import Store
    from hpsweep.tuner import Tuner

    wall, cpu = time.perf_counter(), time.process_time()
    traj: Trajectory = []
    configs: list[dict[str, Any]] = []
    index: dict[tuple[str, ...], int] = {}
    offset, rounds, decisions, trials, stalled = 0.0, 0, 0, 0, False
    spent = [0.0]  # CPU seconds inside the scheduler (suggest and on_report)
    while offset < budget and not stalled:
        run_seed = seed if rounds == 0 else seed * 1000 + rounds
        scheduler = build_scheduler(method, bench, run_seed)
        executor = SimulatedExecutor(bench, n_workers=workers, seed=run_seed)
        suggest, on_report = scheduler.suggest, scheduler.on_report
        idle = [0, -1.0]

        def guarded(*args: Any, _suggest: Any = suggest, _ex: Any = executor,
                    _idle: list[Any] = idle, **kwargs: Any) -> Any:
            now = _ex.clock.now()
            _idle[0] = _idle[0] + 1 if now == _idle[1] else 0
            _idle[1] = now
            if _idle[0] > 10_000:
                raise _Stalled
            return _suggest(*args, **kwargs)

        def record(trial: Any, report: Any, _on_report: Any = on_report,
                   _offset: float = offset) -> Any:
            value = report.metrics.get(bench.metric)
            if value is not None:
                key = tuple(json.dumps(trial.config, sort_keys=True, default=str))
                if key not in index:
                    index[key] = len(configs)
                    configs.append(dict(trial.config))
                traj.append((_offset + report.time, float(value), index[key]))
            return _on_report(trial, report)

        scheduler.suggest = _timed(guarded, spent)
        scheduler.on_report = _timed(record, spent)
        store = Store.create(None, name=f"{method}-{run_seed}", spec={})
        tuner = Tuner(store=store, scheduler=scheduler, executor=executor,
                      launcher=SimulatedLauncher(executor), num_trials=None,
                      time_budget=budget - offset, seed=run_seed)
        try:
            result = tuner.run()
            decisions += sum(t.runs for t in result.trials)  # one per start or resume
            trials += len(result.trials)
        except _Stalled:
            stalled = True
        rounds += 1
        end = offset + executor.clock.now()
        if method != "hpsweep-pbt" or end <= offset:
            break
        offset = end
    return {"trajectory": traj, "configs": configs, "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu, "trials": trials, "decisions": decisions,
            "rounds": rounds, "scheduler_cpu": spent[0], "stalled": stalled,
            "reached": min(max((t for t, _, _ in traj), default=0.0) / budget, 1.0)}


def _timed(fn: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - start

    return wrapper


# -- Optuna -----------------------------------------------------------------------------------

def _optuna_dists(params: Sequence[Any]) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from hpsweep.space._params import Categorical, Float, Int

    out: dict[str, Any] = {}
    for p in params:
        if isinstance(p, Float):
            out[p.name] = FloatDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, Int):
            out[p.name] = IntDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, Categorical):
            out[p.name] = CategoricalDistribution(list(p.choices))
    return out


def run_optuna(method: str, bench: Any, seed: int, workers: int,
               budget: float) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    wall, cpu = time.perf_counter(), time.process_time()
    dists = _optuna_dists(bench.params)
    top = bench.max_resource
    pruner: optuna.pruners.BasePruner
    if method == "optuna-tpe-hyperband":
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=top,
                                                reduction_factor=3)
    else:
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    study = optuna.create_study(direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                study_name=f"mf-{bench.task}-{seed}")
    queue: list[tuple[float, int, int]] = []
    running: dict[int, tuple[Any, np.ndarray, np.ndarray, float]] = {}
    traj: Trajectory = []
    configs: list[dict[str, Any]] = []

    def start(now: float) -> None:
        trial = study.ask(dists)
        configs.append(dict(trial.params))
        times, values = curve_arrays(bench, [trial.params])
        running[trial.number] = (trial, times[0], values[0], now)
        heapq.heappush(queue, (now + float(times[0, 0]), trial.number, 1))

    for _ in range(workers):
        start(0.0)
    while queue:
        now, number, step = heapq.heappop(queue)
        if now > budget:
            break
        trial, times, values, t0 = running[number]
        value = float(values[step - 1])
        traj.append((now, value, number))
        trial.report(value, step)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif step == top:
            study.tell(trial, value)
        else:
            heapq.heappush(queue, (t0 + float(times[step]), number, step + 1))
            continue
        del running[number]
        start(now)
    return {"trajectory": traj, "configs": configs, "wall": time.perf_counter() - wall,
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


def ensure_venv(method: str, python: str) -> Path:
    """The Python of ``method``'s own environment, created and installed from PyPI if missing."""
    folder, requirements = ASK_TELL_ENV[method]
    exe = VENVS / folder / "bin" / "python"
    module = {"dehb": "dehb", "smac-hyperband": "smac"}[method]
    probe = [str(exe), "-c", f"import {module}, onnxruntime"]
    if exe.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return exe
    VENVS.mkdir(parents=True, exist_ok=True)
    (VENVS / ".gitignore").write_text("*\n")
    subprocess.run([python, "-m", "venv", str(VENVS / folder)], check=True)
    subprocess.run([str(exe), "-m", "pip", "install", "-q", *requirements], check=True)
    return exe


def run_syne_tune(method: str, scenario: str, task: str, seed: int, workers: int, budget: float,
                  data_dir: Path, *, python: Path, timeout: float) -> dict[str, Any]:
    out = PEERS / "runs" / f"{method}-{scenario}-{task}-{seed}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    argv = [str(python), str(Path(__file__).resolve()), "--peer-worker", method,
            "--scenarios", scenario, "--tasks", task, "--seeds", str(seed),
            "--workers", str(workers), "--peer-budget", repr(budget),
            "--data-dir", str(data_dir), "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "SYNETUNE_FOLDER": str(PEERS / "syne-tune-runs"),
           "PYTHONHASHSEED": "0"}  # SMAC3's run depends on it
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
    configs: list[dict[str, Any]] = []
    index: dict[int, int] = {}
    info: dict[str, Any] = {}
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            if "config" in row:
                index[row["trial"]] = len(configs)
                configs.append(row["config"])
            elif "t" in row:
                traj.append((row["t"], row["v"], index.get(row["trial"], -1)))
            else:
                info = row
    if not capped and proc.returncode != 0:
        raise RuntimeError(f"{method} on {task}/{seed} failed: {err.decode()[-2000:]}")
    return {"trajectory": traj, "configs": configs, "wall": time.perf_counter() - wall,
            "cpu": cpu, "trials": info.get("trials", 0),
            "capped": capped, "reached": max((t for t, _, _ in traj), default=0.0) / budget}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ask_tell_worker(args: argparse.Namespace) -> None:
    """Runs DEHB or SMAC3 (in its own environment) through ask/tell in a simulated clock with
    ``--workers`` workers. Both retrain a promoted configuration from scratch, so a job to
    fidelity r is charged the full time of training to r. Streams results to --output."""
    import tempfile

    import ConfigSpace as CS

    from hpsweep.space._params import Categorical, Float, Int

    cpu = time.process_time()
    bench = load_bench(args.scenarios[0], args.tasks[0], args.data_dir)
    seed, budget, top = args.seeds[0], float(args.peer_budget), bench.max_resource
    cs = CS.ConfigurationSpace(seed=seed)
    for p in bench.params:
        if isinstance(p, Float):
            cs.add(CS.Float(p.name, (p.low, p.high), log=p.log))
        elif isinstance(p, Int):
            cs.add(CS.Integer(p.name, (p.low, p.high), log=p.log))
        elif isinstance(p, Categorical):
            cs.add(CS.Categorical(p.name, list(p.choices)))
    tmp = tempfile.mkdtemp(prefix=f"{args.peer_worker}-")
    ask: Callable[[], tuple[Any, dict[str, Any], int]]
    tell: Callable[[Any, float, float], None]
    if args.peer_worker == "dehb":
        from dehb import DEHB

        opt = DEHB(cs=cs, dimensions=len(bench.params), min_fidelity=1, max_fidelity=top, eta=3,
                   n_workers=1, seed=seed, output_path=tmp, log_level="ERROR")

        def ask() -> tuple[Any, dict[str, Any], int]:
            job = opt.ask()
            raw = job["config"]  # a Configuration when DEHB was given a ConfigSpace
            config = dict(raw if isinstance(raw, CS.Configuration)
                          else opt.vector_to_configspace(raw))
            return job, config, int(min(max(round(float(job["fidelity"])), 1), top))

        def tell(job: Any, value: float, cost: float) -> None:
            opt.tell(job, {"fitness": -value, "cost": cost})
    else:
        from smac import MultiFidelityFacade, Scenario
        from smac.runhistory.dataclasses import TrialValue

        scenario = Scenario(cs, deterministic=True, n_trials=10**7, min_budget=1, max_budget=top,
                            seed=seed, output_directory=Path(tmp))
        smac = MultiFidelityFacade(scenario, target_function=lambda config, seed, budget: 0.0,
                                   intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=3),
                                   overwrite=True, logging_level=40)

        def ask() -> tuple[Any, dict[str, Any], int]:
            info = smac.ask()
            budget_ = int(min(max(round(float(info.budget)), 1), top))
            return info, dict(info.config), budget_

        def tell(info: Any, value: float, cost: float) -> None:
            smac.tell(info, TrialValue(cost=-value, time=cost))

    sink = open(args.output, "w")  # noqa: SIM115 - closed at the end, flushed per line
    queue: list[tuple[float, int, Any, float, float]] = []
    count = [0]

    def launch(now: float) -> None:
        job, config, r = ask()
        config = {p.name: config[p.name] for p in bench.params}
        times, values = curve_arrays(bench, [config])
        cost, value = float(times[0, r - 1]), float(values[0, r - 1])  # from scratch to r
        sink.write(json.dumps({"trial": count[0], "config": config}, default=float) + "\n")
        heapq.heappush(queue, (now + cost, count[0], job, value, cost))
        count[0] += 1

    for _ in range(args.workers):
        launch(0.0)
    while queue:
        now, number, job, value, cost = heapq.heappop(queue)
        if now > budget:
            break
        sink.write(json.dumps({"t": now, "trial": number, "v": value}) + "\n")
        sink.flush()
        tell(job, value, cost)
        launch(now)
    sink.write(json.dumps({"cpu": time.process_time() - cpu, "trials": count[0]}) + "\n")
    sink.close()


def peer_worker(args: argparse.Namespace) -> None:
    """Runs one Syne Tune method in this (Syne Tune) environment; streams results to --output."""
    if args.peer_worker in ASK_TELL_METHODS:
        ask_tell_worker(args)
        return
    import logging

    from syne_tune import StoppingCriterion
    from syne_tune import Tuner as STuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository.blackbox import Blackbox
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform
    from syne_tune.optimizer import baselines
    from syne_tune.tuner_callback import TunerCallback

    from hpsweep.space._params import Categorical, Float, Int

    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    cpu = time.process_time()
    bench = load_bench(args.scenarios[0], args.tasks[0], args.data_dir)
    seed, budget, top = args.seeds[0], float(args.peer_budget), bench.max_resource
    space: dict[str, Any] = {}
    for p in bench.params:
        if isinstance(p, Float):
            space[p.name] = (loguniform if p.log else uniform)(p.low, p.high)
        elif isinstance(p, Int):
            space[p.name] = (lograndint if p.log else randint)(p.low, p.high)
        elif isinstance(p, Categorical):
            space[p.name] = choice(list(p.choices))

    class SurrogateBlackbox(Blackbox):
        def __init__(self) -> None:
            super().__init__(configuration_space=space, fidelity_space={"epoch": randint(1, top)},
                             objectives_names=[bench.metric, "time"])

        @property
        def fidelity_values(self) -> np.ndarray:
            return np.arange(1, top + 1)

        def _objective_function(self, configuration: dict[str, Any], fidelity: Any = None,
                                seed: int | None = None) -> Any:
            config = {k: configuration[k] for k in space}
            times, values = curve_arrays(bench, [config])
            if fidelity is None:
                return np.column_stack([values[0], times[0]])
            step = int(fidelity["epoch"] if isinstance(fidelity, dict) else fidelity)
            return {bench.metric: float(values[0, step - 1]), "time": float(times[0, step - 1])}

    sink = open(args.output, "w")  # noqa: SIM115 - closed at the end, flushed per line
    seen: set[int] = set()

    class Recorder(TunerCallback):
        def on_trial_result(self, trial: Any, status: str, result: dict[str, Any],
                            decision: str) -> None:
            if trial.trial_id not in seen:
                seen.add(trial.trial_id)
                config = {k: trial.config[k] for k in space}
                sink.write(json.dumps({"trial": trial.trial_id, "config": config},
                                      default=float) + "\n")
            sink.write(json.dumps({"t": float(result["st_tuner_time"]), "trial": trial.trial_id,
                                   "v": float(result[bench.metric])}) + "\n")
            sink.flush()

    config_space = {**space, "epochs": top}
    common = {"metric": bench.metric, "mode": "max", "random_seed": seed}
    hb = {"resource_attr": "epoch", "max_resource_attr": "epochs"}
    makers: dict[str, Callable[[], Any]] = {
        "synetune-random": lambda: baselines.RandomSearch(config_space, **common),
        "synetune-asha": lambda: baselines.ASHA(config_space, **common, **hb),
        "synetune-synchb": lambda: baselines.SyncHyperband(config_space, **common, **hb),
        "synetune-bohb": lambda: baselines.BOHB(config_space, **common, **hb),
        "synetune-dyhpo": lambda: baselines.DyHPO(config_space, **common, **hb),
    }
    # Every method here is priced in simulated time only: Syne Tune's simulator would also add
    # the real time spent outside the backend (its scheduler's and the surrogate's CPU time, on a
    # loaded machine) and 5 s per tuner sleep, which on rbv2 (T_full about 1 s) eats the budget.
    # Its clock is advanced in steps of budget / 5000 instead, and outside time is not charged.
    backend = UserBlackboxBackend(blackbox=SurrogateBlackbox(), elapsed_time_attr="time",
                                  max_resource_attr="epochs", tuner_sleep_time=budget / 5000)
    backend._advance_by_outside_time = lambda: None
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
    """Normalized regret of the best metric value reported by each budget fraction."""
    arr = np.array(sorted((t, v) for t, v, _ in traj)) if traj else np.empty((0, 2))
    out = []
    for frac in FRACTIONS:
        seen = arr[arr[:, 0] <= frac * budget, 1] if len(arr) else np.empty(0)
        best = float(seen.max()) if len(seen) else lo
        out.append((hi - best) / (hi - lo))
    return out


def best_config(traj: Trajectory, configs: list[dict[str, Any]],
                budget: float) -> tuple[dict[str, Any] | None, float]:
    """The configuration of the best report within the budget, and its value."""
    inside = [(v, i) for t, v, i in traj if t <= budget and 0 <= i < len(configs)]
    if not inside:
        return None, math.nan
    value, idx = max(inside, key=lambda item: (item[0], -item[1]))
    return configs[idx], value


def _job(job: tuple[str, str, str, int, int, float, str, str | None, float]) -> dict[str, Any]:
    method, scenario, task, seed, workers, budget, data_dir, peer_python, timeout = job
    data = Path(data_dir)
    bench = load_bench(scenario, task, data)
    if method.startswith("hpsweep-"):
        res = run_hpsweep(method, bench, seed, workers, budget)
    elif method.startswith("optuna-"):
        res = run_optuna(method, bench, seed, workers, budget)
    else:
        python = (Path(peer_python) if method.startswith("synetune-") else
                  VENVS / ASK_TELL_ENV[method][0] / "bin" / "python")
        res = run_syne_tune(method, scenario, task, seed, workers, budget, data,
                            python=python, timeout=timeout)
    lo, hi = bench.metric_range()
    traj, configs = res.pop("trajectory"), res.pop("configs")
    res["regret"] = regrets(traj, budget, lo, hi)
    best, value = best_config(traj, configs, budget)
    cont, wide = on_bounds(best, bench.params) if best is not None else (0, 0)
    distinct = {json.dumps(c, sort_keys=True, default=str) for c in configs}
    hits = sum(1 for c in distinct if on_bounds(json.loads(c), bench.params)[0] > 0)
    res.update(best_config=best, best_value=value, best_on_bounds=wide, best_cont_on_bounds=cont,
               flagged=cont >= 1 and wide >= 2, bound_share=hits / len(distinct) if distinct else 0.0,
               distinct_configs=len(distinct))
    return {"method": method, "scenario": scenario, "task": task, "seed": seed,
            "budget": budget, **res}


def _fmt_config(config: dict[str, Any] | None) -> str:
    if config is None:
        return "-"
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in config.items())


def summarize(rows: list[dict[str, Any]], methods: Sequence[str], tasks: Sequence[str]) -> str:
    lines = ["| method | " + " | ".join(f"regret @{f:g}" for f in FRACTIONS)
             + " | mean rank @1.0 | on-bound share | flagged | promoted job | wall s/run "
             "| CPU s/run | scheduler CPU s/run |",
             "|---|" + "---|" * (len(FRACTIONS) + 7)]
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
        stalled = sum(1 for r in mine if r.get("stalled"))
        note += f" (stalled {stalled}/{len(mine)})" if stalled else ""
        if m.split(" [")[0] in NOTES:
            note += f" ({NOTES[m.split(' [')[0]]})"
        share = np.mean([r.get("bound_share", 0.0) for r in mine])
        flagged = sum(1 for r in mine if r.get("flagged"))
        lines.append(f"| {m}{note} | " + " | ".join(cells)
                     + f" | {ranks.get(m, float('nan')):.2f} | {share:.1%} | {flagged}/{len(mine)}"
                     f" | {CONTINUES[m.split('-')[0]]} | {wall:.2f} | {cpu:.2f} | "
                     + (f"{np.mean([r['scheduler_cpu'] for r in mine]):.2f} |"
                        if all("scheduler_cpu" in r for r in mine) else "- |"))
    lines += ["", "Per task, mean normalized regret at the full budget (± std over seeds; "
              "† k: k runs flagged, best configuration on two or more bounds):", "",
              "| method | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
    for m in methods:
        cells = []
        for t in tasks:
            mine = [r for r in rows if r["method"] == m and r["task"] == t]
            vals = [r["regret"][-1] for r in mine]
            flag = sum(1 for r in mine if r.get("flagged"))
            cell = (f"{np.mean(vals):.4f} ± {np.std(vals, ddof=1) if len(vals) > 1 else 0:.3f}"
                    if vals else "-")
            cells.append(cell + (f" † {flag}" if flag else ""))
        if any(c != "-" for c in cells):
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_listing(rows: list[dict[str, Any]], methods: Sequence[str]) -> str:
    """One line per run: regret, on-bound share and the best configuration found."""
    lines = ["| method | task | seed | regret @1 | on-bound share | best on bounds | flag | "
             "best configuration |", "|---|---|---|---|---|---|---|---|"]
    order = {m: i for i, m in enumerate(methods)}
    for r in sorted(rows, key=lambda r: (order.get(r["method"], 99), r["task"], r["seed"])):
        lines.append(f"| {r['method']} | {r['task']} | {r['seed']} | {r['regret'][-1]:.4f} | "
                     f"{r.get('bound_share', 0.0):.1%} | {r.get('best_on_bounds', 0)} | "
                     f"{'FLAG' if r.get('flagged') else ''} | {_fmt_config(r.get('best_config'))} |")
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


def decision_timing(data_dir: Path, *, n_trials: int = 2000, repeats: int = 50) -> str:
    """Milliseconds per DyHPO decision with ``n_trials`` paused LCBench trials in the study
    (``probability_sh=0``: every decision fits the surrogate and scores all candidates)."""
    from hpsweep.bench.lcbench import LCBenchModel
    from hpsweep.schedulers import make_scheduler
    from hpsweep.trial import Report, TrialRecord, TrialState

    bench = LCBenchModel(data_dir).task("3945")
    rng = np.random.default_rng(0)
    searcher = _random_searcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=0)
    sched = make_scheduler("dyhpo", searcher=searcher, metric=bench.metric, mode=bench.mode,
                           max_resource=bench.max_resource, seed=0, probability_sh=0.0)
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
    cpu = time.process_time()
    sched.suggest(n_trials, allow_new=True)  # first call tunes the kernel
    first = 1000 * (time.process_time() - cpu)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        sched.suggest(n_trials, allow_new=True)
        times.append(1000 * (time.process_time() - start))
    arr = np.array(times)
    return (f"DyHPO decision with {n_trials} paused trials ({observations} observations), CPU: "
            f"median {np.median(arr):.1f} ms, mean {arr.mean():.1f} ms, "
            f"95th percentile {np.percentile(arr, 95):.1f} ms over {repeats} decisions "
            f"(first, with kernel tuning: {first:.0f} ms)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIO_TASKS),
                        default=["lcbench", "rbv2"])
    parser.add_argument("--tasks", nargs="+", default=None,
                        help="instances (default: the scenario's 8 development instances)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--budget-multiple", type=float, default=20.0)
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "mf")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in OUTPUT/runs.jsonl and run only the others")
    parser.add_argument("--peer-timeout", type=float, default=400.0,
                        help="real seconds before a Syne Tune run is cut off (reported as capped)")
    parser.add_argument("--dyhpo-timeout", type=float, default=30.0,
                        help="the same cut-off for Syne Tune's DyHPO, which is far slower")
    parser.add_argument("--summarize", nargs="+", default=None, metavar="RUNS.jsonl[:LABEL]",
                        help="only print the tables of the runs in these files (a LABEL is "
                             "appended to the method names of that file, e.g. an ablation)")
    parser.add_argument("--decision-timing", type=int, default=None, metavar="N",
                        help="only time DyHPO's decisions with N trials in the study")
    parser.add_argument("--set", nargs="+", default=[], metavar="SCHEDULER.ATTR=VALUE",
                        help="ablation: set a model attribute after construction")
    parser.add_argument("--option", nargs="+", default=[], metavar="SCHEDULER.OPTION=JSON",
                        help="ablation: pass a constructor option (not the defaults any more)")
    parser.add_argument("--peer-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--peer-budget", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.set:
        os.environ["HPSWEEP_BENCH_SET"] = ",".join(args.set)
    if args.option:
        os.environ["HPSWEEP_BENCH_OPTION"] = ",".join(args.option)
    if args.peer_worker:
        peer_worker(args)
        return
    if args.summarize:
        done = []
        for item in args.summarize:
            path, _, label = item.partition(":")
            for line in Path(path).read_text().splitlines():
                if line:
                    row = json.loads(line)
                    row["method"] += f" [{label}]" if label else ""
                    done.append(row)
        print(report(done))
        return
    if args.decision_timing:
        print(decision_timing(args.data_dir, n_trials=args.decision_timing))
        return
    unknown = sorted(set(args.methods) - set(ALL_METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(ALL_METHODS)}")
    cells = [(sc, t) for sc in args.scenarios for t in (args.tasks or SCENARIO_TASKS[sc])
             if t in _tfull_table(sc, args.data_dir)]  # --tasks may name several scenarios'
    budgets = {cell: args.budget_multiple * t_full(*cell, args.data_dir) for cell in cells}
    peer_python = None
    if any(m.startswith("synetune-") for m in args.methods):
        peer_python = str(ensure_syne_tune(sys.executable))
    for method in set(args.methods) & set(ASK_TELL_METHODS):
        ensure_venv(method, sys.executable)
    slow_first = {"synetune-bohb": 0, "smac-hyperband": 0, "hpsweep-dyhpo": 1, "optuna-tpe-sha": 2,
                  "optuna-tpe-hyperband": 3, "synetune-dyhpo": 4}
    jobs = [(m, sc, t, s, args.workers, budgets[(sc, t)], str(args.data_dir), peer_python,
             args.dyhpo_timeout if m == "synetune-dyhpo" else args.peer_timeout)
            for s in args.seeds for sc, t in cells
            for m in sorted(args.methods, key=lambda m: slow_first.get(m, 9))]
    args.output.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    runs_file = args.output / "runs.jsonl"
    if args.resume and runs_file.exists():
        rows = [json.loads(line) for line in runs_file.read_text().splitlines() if line]
        done = {(r["method"], r["scenario"], r["task"], r["seed"]) for r in rows}
        jobs = [j for j in jobs if (j[0], j[1], j[2], j[3]) not in done]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool, \
            runs_file.open("a" if args.resume else "w") as sink:
        for future in as_completed([pool.submit(_job, job) for job in jobs]):
            row = future.result()
            rows.append(row)
            sink.write(json.dumps(row, default=str) + "\n")
            sink.flush()
            print(f"{row['method']:<22} {row['scenario']:<8} {row['task']:>6} seed {row['seed']} "
                  f"regret@1 {row['regret'][-1]:.4f} bound {row['bound_share']:.0%} "
                  f"cpu {row['cpu']:.1f}s", flush=True)
    header = (f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`  \n"
              f"Seeds {' '.join(map(str, args.seeds))}; {args.workers} workers; budget "
              f"{args.budget_multiple:g} x T_full (tfull.json); total real time "
              f"{time.perf_counter() - started:.0f} s\n\n")
    text = header + report(rows)
    (args.output / "table.md").write_text(text + "\n")
    (args.output / "runs.md").write_text(run_listing(rows, ALL_METHODS) + "\n")
    print(text)


def report(rows: list[dict[str, Any]]) -> str:
    """The tables of every scenario in ``rows``."""
    out = []
    for scenario in [s for s in SCENARIO_TASKS if any(r.get("scenario", "lcbench") == s
                                                     for r in rows)]:
        mine = [r for r in rows if r.get("scenario", "lcbench") == scenario]
        tasks = sorted({r["task"] for r in mine}, key=int)
        present = {r["method"] for r in mine}
        methods = sorted(present, key=lambda m: (ALL_METHODS.index(m.split(" [")[0])
                                                 if m.split(" [")[0] in ALL_METHODS else 99, m))
        out.append(f"### {scenario}: {len(tasks)} instances, seeds "
                   f"{' '.join(map(str, sorted({r['seed'] for r in mine})))}\n\n"
                   + summarize(mine, methods, tasks))
    return "\n\n".join(out)


if __name__ == "__main__":
    main()
