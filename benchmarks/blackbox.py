"""Black-box benchmark: hpsweep's strategies next to plain Optuna, hyperopt and random search.

Functions: Branin (2-D), Hartmann6 (6-D), Rosenbrock-10D, Ackley-10D. For every method, function
and seed one run of ``max(--evals)`` evaluations is made and the simple regret after each budget
in ``--evals`` is read from the same run, except for budget-aware methods (``hpsweep:auto``, which
is told the study's budget): they run once per budget in ``--evals``, told that budget, and each
budget's regret comes from its own run.
GP-based methods are slow at 300 evaluations: ``--gp-seeds-long`` seeds run the long budget,
the others stop at the smallest budget (the table says how many seeds each cell has).

Also measures the overhead per suggestion (suggest + tell through hpsweep against ask + tell on
plain Optuna with the same sampler and seed, trivial objective).

Usage::

    python benchmarks/blackbox.py --seeds 10 --evals 100 300 --gp-seeds-long 3 --workers 2 \
        --out benchmarks/results/blackbox.json

``--suite``: the fixed suite of 16 functions of :func:`hpsweep.bench.functions.black_box_suite`
(2-D to 20-D, two noisy, one mixed float/integer/categorical, one integer-only), the
``--strategy`` values ``auto``, ``tpe``, ``gp``, ``cmaes``, ``qmc`` and ``random`` only, each run
cached as one line of ``--out`` (JSONL, default ``benchmarks/results/blackbox_suite.jsonl``) so
that an interrupted invocation resumes where it was; the table marks ``auto`` best-or-tied on a
function when no other strategy has lower regrets by a one-sided Mann-Whitney test at p < 0.05::

    nice -n 19 python benchmarks/blackbox.py --suite --seeds 10 --evals 100 300 --workers 2
    python benchmarks/blackbox.py --suite --summarize benchmarks/results/blackbox_suite.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

# --------------------------------------------------------------------------- test functions

_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def branin(x: np.ndarray) -> float:
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return float((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10)


def hartmann6(x: np.ndarray) -> float:
    inner = np.sum(_H6_A * (x[None, :] - _H6_P) ** 2, axis=1)
    return float(-np.sum(_H6_ALPHA * np.exp(-inner)))


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(-20 * math.exp(-0.2 * math.sqrt(np.sum(x**2) / d))
                 - math.exp(np.sum(np.cos(2 * math.pi * x)) / d) + 20 + math.e)


@dataclass(frozen=True)
class Problem:
    name: str
    fn: Callable[[np.ndarray], float]
    bounds: tuple[tuple[float, float], ...]
    optimum: float


PROBLEMS = {
    "branin": Problem("branin", branin, ((-5.0, 10.0), (0.0, 15.0)), 0.397887357729738),
    "hartmann6": Problem("hartmann6", hartmann6, ((0.0, 1.0),) * 6, -3.322368011415515),
    "rosenbrock10": Problem("rosenbrock10", rosenbrock, ((-5.0, 10.0),) * 10, 0.0),
    "ackley10": Problem("ackley10", ackley, ((-32.768, 32.768),) * 10, 0.0),
}

HPSWEEP = ("hpsweep:auto", "hpsweep:tpe", "hpsweep:gp", "hpsweep:cmaes", "hpsweep:qmc",
           "hpsweep:random")
PEERS = ("optuna:tpe", "optuna:gp", "optuna:cmaes", "hyperopt:tpe", "random")
METHODS = HPSWEEP + PEERS
BUDGET_AWARE = ("hpsweep:auto",)
"""Methods told the total budget: one run per budget, each read only at its own budget."""


def _is_gp(method: str) -> bool:
    return method.endswith(":gp")


# --------------------------------------------------------------------------- runners


def _space(problem: Problem) -> Any:
    from hpsweep.space import SearchSpace

    space = SearchSpace()
    for i, (low, high) in enumerate(problem.bounds):
        space.add_float(f"x{i}", low, high)
    return space


def _vector(config: dict[str, Any], dim: int) -> np.ndarray:
    return np.array([float(config[f"x{i}"]) for i in range(dim)])


def run_hpsweep(strategy: str, problem: Problem, seed: int, n: int,
                budget: int | None = None) -> list[float]:
    from hpsweep.search import make_searcher
    from hpsweep.trial import TrialRecord, TrialState

    searcher = make_searcher(strategy, _space(problem), metric="y", mode="min", seed=seed,
                             budget=budget)
    values = []
    for i in range(n):
        config = searcher.suggest(i)
        assert config is not None
        y = problem.fn(_vector(config, len(problem.bounds)))
        searcher.on_trial_complete(TrialRecord(trial_id=i, config=config,
                                               state=TrialState.COMPLETED,
                                               last_metrics={"y": y}))
        values.append(y)
    return values


def _optuna_sampler(kind: str, seed: int) -> Any:
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if kind == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def run_optuna(kind: str, problem: Problem, seed: int, n: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=_optuna_sampler(kind, seed))
    values: list[float] = []

    def objective(trial: optuna.Trial) -> float:
        x = np.array([trial.suggest_float(f"x{i}", lo, hi)
                      for i, (lo, hi) in enumerate(problem.bounds)])
        y = problem.fn(x)
        values.append(y)
        return y

    study.optimize(objective, n_trials=n)
    return values


def run_hyperopt(problem: Problem, seed: int, n: int) -> list[float]:
    import logging

    from hyperopt import Trials, fmin, hp, tpe

    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    space = [hp.uniform(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(problem.bounds)]
    values: list[float] = []

    def objective(x: Sequence[float]) -> float:
        y = problem.fn(np.asarray(x, dtype=float))
        values.append(y)
        return y

    fmin(objective, space, algo=tpe.suggest, max_evals=n, trials=Trials(),
         rstate=np.random.default_rng(seed), show_progressbar=False)
    return values


def run_random(problem: Problem, seed: int, n: int) -> list[float]:
    rng = np.random.default_rng(seed)
    lows = np.array([b[0] for b in problem.bounds])
    highs = np.array([b[1] for b in problem.bounds])
    return [problem.fn(rng.uniform(lows, highs)) for _ in range(n)]


def run_one(job: tuple[str, str, int, int]) -> dict[str, Any]:
    method, fname, seed, n = job
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    problem = PROBLEMS[fname]
    start = time.perf_counter()
    lib, _, kind = method.partition(":")
    aware = method in BUDGET_AWARE
    if lib == "hpsweep":
        values = run_hpsweep(kind, problem, seed, n, budget=n if aware else None)
    elif lib == "optuna":
        values = run_optuna(kind, problem, seed, n)
    elif lib == "hyperopt":
        values = run_hyperopt(problem, seed, n)
    else:
        values = run_random(problem, seed, n)
    best = np.minimum.accumulate(np.asarray(values)) - problem.optimum
    return {"method": method, "function": fname, "seed": seed, "n": n, "budget_aware": aware,
            "regret": [float(max(r, 0.0)) for r in best],
            "seconds": time.perf_counter() - start}


# --------------------------------------------------------------------------- overhead


def _time_hpsweep(n: int, sampler: str, seed: int) -> float:
    from hpsweep.search.optuna import OptunaSearcher
    from hpsweep.trial import TrialRecord, TrialState

    problem = PROBLEMS["hartmann6"]
    searcher = OptunaSearcher(_space(problem), metric="y", mode="min", seed=seed, sampler=sampler)
    t0 = time.perf_counter()
    for i in range(n):
        config = searcher.suggest(i)
        assert config is not None
        y = problem.fn(_vector(config, 6))
        searcher.on_trial_complete(TrialRecord(trial_id=i, config=config,
                                               state=TrialState.COMPLETED, last_metrics={"y": y}))
    return (time.perf_counter() - t0) / n


def _time_optuna(n: int, sampler: str, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = PROBLEMS["hartmann6"]
    study = optuna.create_study(sampler=_optuna_sampler(sampler, seed))
    t0 = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(6)])
        study.tell(trial, problem.fn(x))
    return (time.perf_counter() - t0) / n


def overhead(n: int, sampler: str, seed: int = 0, repeats: int = 3) -> dict[str, float]:
    """Seconds per suggestion+tell over ``n`` trials on Hartmann6's 6-D space: hpsweep's
    searcher against plain Optuna ask/tell with the same sampler (after a warm-up run of each,
    alternating, best of ``repeats``)."""
    _time_hpsweep(20, sampler, seed)
    _time_optuna(20, sampler, seed)
    ours, plain = math.inf, math.inf
    for r in range(repeats):
        ours = min(ours, _time_hpsweep(n, sampler, seed + r))
        plain = min(plain, _time_optuna(n, sampler, seed + r))
    return {"sampler": sampler, "n": n, "hpsweep_ms": ours * 1e3, "optuna_ms": plain * 1e3,
            "ratio": ours / plain}


# --------------------------------------------------------------------------- report


def _quartiles(xs: Sequence[float]) -> tuple[float, float, float]:
    q = np.quantile(np.asarray(xs), [0.25, 0.5, 0.75])
    return float(q[0]), float(q[1]), float(q[2])


def summarise(results: list[dict[str, Any]], evals: Sequence[int]) -> dict[str, Any]:
    """Per function and budget: regrets per method, the best median, and auto's standing.

    A run of a budget-aware method (``budget_aware`` set) counts only at its own budget."""
    from scipy.stats import mannwhitneyu

    table: dict[str, Any] = {}
    for fname in PROBLEMS:
        for budget in evals:
            cell: dict[str, list[float]] = {}
            for r in results:
                fits = r["n"] == budget if r.get("budget_aware") else r["n"] >= budget
                if r["function"] == fname and fits:
                    cell.setdefault(r["method"], []).append(r["regret"][budget - 1])
            if not cell:
                continue
            medians = {m: statistics.median(v) for m, v in cell.items()}
            best = min(medians, key=lambda m: medians[m])
            auto = cell.get("hpsweep:auto")
            if auto is not None and medians["hpsweep:auto"] <= medians[best]:
                best = "hpsweep:auto"  # an equal median counts as auto's
            tied = None
            if auto is not None and best != "hpsweep:auto":
                p = mannwhitneyu(auto, cell[best], alternative="greater").pvalue
                tied = bool(p >= 0.05)
            table[f"{fname}@{budget}"] = {
                "regrets": cell, "medians": medians, "best": best,
                "auto_best": best == "hpsweep:auto", "auto_tied": tied,
            }
    return table


def markdown(table: dict[str, Any], over: list[dict[str, float]]) -> str:
    lines: list[str] = []
    methods = [m for m in METHODS if any(m in c["regrets"] for c in table.values())]
    if table:
        lines.append("| function @ evals | " + " | ".join(methods) + " | auto best / tied |")
        lines.append("|---" * (len(methods) + 2) + "|")
    for key, cell in table.items():
        row = [key]
        for m in methods:
            vals = cell["regrets"].get(m)
            if vals is None:
                row.append("-")
                continue
            q1, med, q3 = _quartiles(vals)
            mark = "**" if m == cell["best"] else ""
            row.append(f"{mark}{med:.3g}{mark} [{q1:.2g}, {q3:.2g}] (n={len(vals)})")
        standing = "best" if cell["auto_best"] else ("tied" if cell["auto_tied"] else "no")
        row.append(standing)
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("| sampler | trials | hpsweep ms/suggestion | plain Optuna ms/suggestion "
                 "| ratio |")
    lines.append("|---|---|---|---|---|")
    for o in over:
        lines.append(f"| {o['sampler']} | {o['n']} | {o['hpsweep_ms']:.2f} | {o['optuna_ms']:.2f} "
                     f"| {o['ratio']:.2f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the fixed suite

SUITE_STRATEGIES = ("auto", "tpe", "gp", "cmaes", "qmc", "random")
"""``--strategy`` values compared on the suite, all driven through ``make_searcher``."""

SUITE_DEV = ("branin", "hartmann3", "hartmann6", "rastrigin8", "rosenbrock10", "ackley20",
             "hartmann6_noisy", "mixed7")
"""The half of the suite the ``auto`` rule may be decided on (fixed with the suite, before any
run); the other half is reported apart, as functions the rule was not chosen on."""


def _suite_space(fn: Any) -> Any:
    from hpsweep.space import SearchSpace

    space = SearchSpace()
    for param in fn.params:
        space.add(param)
    return space


def run_suite_one(job: tuple[str, str, int, int, bool]) -> dict[str, Any]:
    """One study of ``n`` trials of ``strategy`` on a suite function, driven in-process through
    ``make_searcher`` (suggest / on_trial_complete, as the tuner does). ``aware``: the searcher is
    told the budget ``n``. The regret after ``i`` trials is the noise-free value of the best
    observed configuration so far minus the optimum; noise is drawn per (function, seed, trial)."""
    strategy, fname, seed, n, aware = job
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    from hpsweep.bench.functions import black_box_suite
    from hpsweep.search import make_searcher
    from hpsweep.trial import TrialRecord, TrialState

    fn = black_box_suite()[fname]
    searcher = make_searcher(strategy, _suite_space(fn), metric="y", mode="min", seed=seed,
                             budget=n if aware else None)
    key = zlib.crc32(fname.encode())
    start, cpu = time.perf_counter(), time.process_time()
    best_seen, best_true = math.inf, math.inf
    regret: list[float] = []
    choices: dict[str, int] = {}
    for i in range(n):
        config = searcher.suggest(i)
        assert config is not None
        chosen = str(getattr(searcher, "last_choice", strategy))
        choices[chosen] = choices.get(chosen, 0) + 1
        y = fn.observe(config, np.random.default_rng([key, seed, i]))
        if y < best_seen:
            best_seen, best_true = y, fn.value(config)
        regret.append(max(best_true - fn.optimum, 0.0))
        searcher.on_trial_complete(TrialRecord(trial_id=i, config=config,
                                               state=TrialState.COMPLETED,
                                               last_metrics={"y": y}))
    return {"strategy": strategy, "function": fname, "seed": seed, "n": n, "budget_aware": aware,
            "regret": regret, "choices": choices, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu}


def _suite_key(r: dict[str, Any]) -> tuple[str, str, int, int, bool]:
    return (r["strategy"], r["function"], int(r["seed"]), int(r["n"]), bool(r["budget_aware"]))


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """The runs cached in ``path`` (a torn last line, from a killed run, is skipped)."""
    rows: list[dict[str, Any]] = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def suite_cells(rows: list[dict[str, Any]], functions: Sequence[str], budgets: Sequence[int],
                strategies: Sequence[str]) -> dict[tuple[str, int], dict[str, list[float]]]:
    """Per (function, budget): each strategy's regrets, one per seed. A budget-aware run counts
    only at its own budget; any other run of at least ``budget`` trials is read at ``budget``."""
    cells: dict[tuple[str, int], dict[str, dict[int, float]]] = {}
    for r in rows:
        if r["strategy"] not in strategies or r["function"] not in functions:
            continue
        for b in budgets:
            fits = r["n"] == b if r["budget_aware"] else r["n"] >= b
            if fits:
                cells.setdefault((r["function"], b), {}).setdefault(
                    r["strategy"], {})[int(r["seed"])] = r["regret"][b - 1]
    return {k: {s: [v[seed] for seed in sorted(v)] for s, v in cell.items()}
            for k, cell in cells.items()}


def auto_single_choice(fname: str, budget: int) -> str | None:
    """The one sampler ``auto`` uses for every trial of a study told ``budget`` on ``fname``
    (None when it uses several): such a study is that sampler's study, trial by trial (the
    searcher seeds each trial from (seed, trial id) whatever the strategy), so its regrets are
    that sampler's. ``--check-auto`` runs a few real ``auto`` studies to confirm it."""
    from hpsweep.bench.functions import black_box_suite
    from hpsweep.search.optuna import OptunaSearcher

    fn = black_box_suite()[fname]
    searcher = OptunaSearcher(_suite_space(fn), metric="y", mode="min", seed=0, sampler="auto",
                              budget=budget)
    used = {searcher._choice_for(k) for k in range(budget)}
    return used.pop() if len(used) == 1 else None


def fill_auto(rows: list[dict[str, Any]], functions: Sequence[str],
              budgets: Sequence[int]) -> list[dict[str, Any]]:
    """Rows for ``auto`` taken from the candidate it reduces to (see :func:`auto_single_choice`),
    where no real ``auto`` run of that function and budget is cached."""
    real = {(r["function"], r["n"]) for r in rows if r["strategy"] == "auto"}
    extra: list[dict[str, Any]] = []
    for fname in functions:
        for b in budgets:
            if (fname, b) in real:
                continue
            chosen = auto_single_choice(fname, b)
            if chosen is None:
                continue
            for r in rows:
                if r["strategy"] == chosen and r["function"] == fname and r["n"] >= b \
                        and not r["budget_aware"]:
                    extra.append({**r, "strategy": "auto", "n": b, "budget_aware": True,
                                  "regret": r["regret"][:b], "same_as": chosen})
    return rows + extra


def standing(cell: dict[str, list[float]], who: str = "auto",
             alpha: float = 0.05) -> tuple[bool, dict[str, float]]:
    """Whether ``who`` is best-or-tied in ``cell``: no other strategy has lower regrets by a
    one-sided Mann-Whitney U test at ``alpha``; and each rival's p-value."""
    from scipy.stats import mannwhitneyu

    mine = cell[who]
    ps: dict[str, float] = {}
    for other, theirs in cell.items():
        if other == who:
            continue
        if np.array_equal(np.sort(mine), np.sort(theirs)):
            ps[other] = 1.0
            continue
        ps[other] = float(mannwhitneyu(theirs, mine, alternative="less").pvalue)
    return all(p >= alpha for p in ps.values()), ps


def _kinds(fname: str) -> tuple[bool, int]:
    """(every searched parameter numeric, number of parameters) of a suite function."""
    from hpsweep.bench.functions import black_box_suite
    from hpsweep.space._params import Categorical

    fn = black_box_suite()[fname]
    return not any(isinstance(p, Categorical) for p in fn.params), fn.dim


RULE_VARIANTS: dict[str, Callable[[bool, int, int], str]] = {
    # (all numeric, dimension, budget) -> the one sampler of the whole study
    "rule of issue 5 (kept)": lambda num, d, b: (
        "tpe" if not num else "gp" if b <= 150 else "cmaes"),
    "CMA-ES from 10 dimensions at small budgets": lambda num, d, b: (
        "tpe" if not num else "gp" if b <= 150 and d < 10 else "cmaes"),
    "CMA-ES from 7 dimensions at small budgets": lambda num, d, b: (
        "tpe" if not num else "gp" if b <= 150 and d < 7 else "cmaes"),
    "GP up to 300 trials up to 6 dimensions": lambda num, d, b: (
        "tpe" if not num else "gp" if b <= 150 or (b <= 300 and d <= 6) else "cmaes"),
    "GP on categorical spaces too": lambda num, d, b: "gp" if b <= 150 else (
        "cmaes" if num else "tpe"),
    "CMA-ES on categorical spaces too": lambda num, d, b: "gp" if b <= 150 and num else (
        "cmaes"),
}
"""Static rules (one sampler per study) scored on the suite from the candidates' own runs:
``--variants`` prints each one's share on the dev half and on the held-out half."""


def variants_markdown(cells: dict[tuple[str, int], dict[str, list[float]]],
                      budgets: Sequence[int]) -> str:
    cols = [f"{part} @{b}" for part in ("dev", "held-out") for b in budgets]
    lines = ["| static rule | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, rule in RULE_VARIANTS.items():
        row = [name]
        for part in ("dev", "held-out"):
            for b in budgets:
                got = []
                for (fname, bb), cell in cells.items():
                    if bb != b or (fname in SUITE_DEV) != (part == "dev"):
                        continue
                    chosen = rule(*_kinds(fname), b)
                    if chosen in cell:
                        got.append(standing({**cell, "auto": cell[chosen]})[0])
                row.append(f"{sum(got)} of {len(got)}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def suite_markdown(cells: dict[tuple[str, int], dict[str, list[float]]],
                   strategies: Sequence[str], who: str = "auto") -> str:
    lines = ["| function | evals | " + " | ".join(strategies)
             + f" | {who} best-or-tied | every best-or-tied strategy |",
             "|---" * (len(strategies) + 4) + "|"]
    for (fname, b), cell in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        medians = {s: statistics.median(v) for s, v in cell.items()}
        low = min(medians.values())
        row = [fname, str(b)]
        for s in strategies:
            if s not in cell:
                row.append("-")
                continue
            q1, med, q3 = _quartiles(cell[s])
            mark = "**" if medians[s] == low else ""
            row.append(f"{mark}{med:.3g}{mark} [{q1:.2g}, {q3:.2g}]"
                       + ("" if len(cell[s]) == 10 else f" (n={len(cell[s])})"))
        if who in cell:
            ok, ps = standing(cell, who)
            beaten = [f"{s} p={p:.3f}" for s, p in sorted(ps.items(), key=lambda kv: kv[1])
                      if p < 0.05]
            row.append("yes" if ok else "no: " + ", ".join(beaten))
        else:
            row.append("-")
        row.append(", ".join(s for s in strategies if s in cell and standing(cell, s)[0]))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def suite_main(args: argparse.Namespace) -> int:
    from hpsweep.bench.functions import black_box_suite

    suite = list(black_box_suite())
    functions = args.functions or suite
    unknown = sorted(set(functions) - set(suite))
    if unknown:
        raise SystemExit(f"unknown suite functions {unknown}; the suite has {suite}")
    budgets = sorted(set(args.evals))
    rows = load_jsonl(args.out)
    for extra in args.replace_from:  # other caches of the suite, read only
        rows += load_jsonl(extra)
    done = {_suite_key(r) for r in rows}
    seeds_of = {m: int(k) for m, _, k in (item.partition("=") for item in args.seeds_of)}
    long_of = {m: int(k) for m, _, k in (item.partition("=") for item in args.long_seeds_of)}
    jobs: list[tuple[str, str, int, int, bool]] = []
    for strategy in args.strategies:
        for fname in functions:
            for seed in range(seeds_of.get(strategy, args.seeds)):
                if strategy == "auto":  # told its budget: one run per budget
                    wanted = [(b, True) for b in budgets]
                else:  # one run, read at every budget
                    n = budgets[-1] if seed < long_of.get(strategy, args.seeds) else budgets[0]
                    wanted = [(n, False)]
                for n, aware in wanted:
                    job = (strategy, fname, seed, n, aware)
                    longer = any(d[:3] == job[:3] and d[3] >= n and d[4] == aware for d in done)
                    if job not in done and not (not aware and longer):
                        jobs.append(job)
    jobs.sort(key=lambda j: (j[3], j[2]))  # short runs first, then seed by seed
    if not args.summarize:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        print(f"{len(jobs)} runs to make, {len(done)} cached in {args.out}", flush=True)
        with ProcessPoolExecutor(max_workers=args.workers) as pool, args.out.open("a") as out:
            futures = [pool.submit(run_suite_one, job) for job in jobs]
            for future in as_completed(futures):
                row = future.result()
                out.write(json.dumps(row) + "\n")
                out.flush()
                rows.append(row)
                print(f"{row['strategy']} {row['function']} seed {row['seed']} n {row['n']}: "
                      f"regret {row['regret'][-1]:.3g}, {row['cpu_seconds']:.1f} CPU s",
                      flush=True)
    if args.check_auto:
        for fname in functions:
            for b in budgets:
                chosen = auto_single_choice(fname, b)
                ref = sorted((r for r in rows if r["strategy"] == chosen
                              and r["function"] == fname and r["n"] >= b
                              and not r["budget_aware"]), key=lambda r: int(r["seed"]))
                if chosen is None or not ref:
                    continue
                seed = int(ref[0]["seed"])
                mine = run_suite_one(("auto", fname, seed, b, True))
                same = mine["regret"] == ref[0]["regret"][:b] and mine["choices"] == {chosen: b}
                print(f"auto on {fname} with budget {b} (seed {seed}) = {chosen}: "
                      f"identical regrets: {same}", flush=True)
                if not same:
                    return 1
    if args.auto_by_rule:
        rows = fill_auto(rows, functions, budgets)
    cells = suite_cells(rows, functions, budgets, SUITE_STRATEGIES)
    if args.variants:
        print(variants_markdown(cells, budgets) + "\n")
    print(suite_markdown(cells, SUITE_STRATEGIES))
    for b in budgets:
        for label, part in (("dev", SUITE_DEV), ("held-out", None), ("all", "all")):
            mine = [c for (f, bb), c in cells.items() if bb == b and "auto" in c
                    and (part == "all" or (f in SUITE_DEV) == (part is not None))]
            ok = sum(standing(c)[0] for c in mine)
            print(f"auto best-or-tied at {b} evaluations, {label}: {ok} of {len(mine)} functions")
    cpu: dict[str, float] = {}
    for r in rows:
        cpu[r["strategy"]] = cpu.get(r["strategy"], 0.0) + r.get("cpu_seconds", r["seconds"])
    print("CPU seconds by strategy: " + ", ".join(f"{s} {c:.0f}" for s, c in cpu.items()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", action="store_true",
                        help="the fixed suite of hpsweep.bench.functions.black_box_suite: "
                             "--strategy values only, cached run by run in a JSONL --out")
    parser.add_argument("--strategies", nargs="+", default=list(SUITE_STRATEGIES),
                        choices=list(SUITE_STRATEGIES), help="with --suite")
    parser.add_argument("--long-seeds-of", nargs="*", default=[], metavar="STRATEGY=N",
                        help="with --suite: only N seeds of STRATEGY run the longest budget, "
                             "the others stop at the smallest")
    parser.add_argument("--functions", nargs="+", default=None)
    parser.add_argument("--auto-by-rule", action="store_true",
                        help="with --suite: where no auto run is cached and auto uses one sampler "
                             "for the whole budget, read that sampler's runs as auto's")
    parser.add_argument("--variants", action="store_true",
                        help="with --suite: score the static rules of RULE_VARIANTS on the "
                             "dev and held-out halves")
    parser.add_argument("--check-auto", action="store_true",
                        help="with --suite: run auto (the first cached seed) where it uses one "
                             "sampler and "
                             "check that its regrets are that sampler's")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--evals", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--gp-seeds-long", type=int, default=3,
                        help="seeds for which optuna:gp runs the longest budget")
    parser.add_argument("--hpsweep-gp-seeds-long", type=int, default=0,
                        help="seeds for which hpsweep:gp (same sampler) runs the longest budget")
    parser.add_argument("--seeds-of", nargs="*", default=[], metavar="METHOD=N",
                        help="fewer seeds for a method, e.g. hpsweep:gp=5")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in --out and run only the missing ones")
    parser.add_argument("--summarize", type=Path, default=None,
                        help="only print the tables of an earlier --out file")
    parser.add_argument("--replace-from", type=Path, nargs="*", default=[],
                        help="with --summarize: take every method found in these files from them; "
                             "with --suite: further JSONL caches to read (never written)")
    parser.add_argument("--overhead-only", action="store_true",
                        help="only measure the overhead per suggestion (--overhead counts)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--overhead", type=int, nargs="*", default=[100, 300],
                        help="trial counts for the overhead measurement (none: skip it)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/blackbox.json"))
    args = parser.parse_args(argv)
    if args.suite:
        if args.summarize is not None:
            args.out, args.summarize = args.summarize, True
        if args.out == Path("benchmarks/results/blackbox.json"):
            args.out = Path("benchmarks/results/blackbox_suite.jsonl")
        return suite_main(args)
    if args.functions is None:
        args.functions = list(PROBLEMS)
    unknown = sorted(set(args.functions) - set(PROBLEMS))
    if unknown:
        parser.error(f"unknown functions {unknown}; choose from {list(PROBLEMS)}")
    evals = sorted(set(args.evals))
    if args.summarize is not None:
        data = json.loads(args.summarize.read_text())
        rows = data["results"]
        for path in args.replace_from:
            newer = json.loads(path.read_text())["results"]
            replaced = {r["method"] for r in newer}
            rows = [r for r in rows if r["method"] not in replaced] + newer
        print(markdown(summarise(rows, evals), data.get("overhead", [])))
        table = summarise(rows, evals)
        wins = sum(1 for c in table.values() if c["auto_best"] or c["auto_tied"])
        print(f"\nauto best or tied-best in {wins} of {len(table)} cells")
        return 0
    if args.overhead_only:
        over = [overhead(n, sampler) for n in args.overhead for sampler in ("tpe", "cmaes", "random")]
        print(markdown({}, over))
        return 0
    long_seeds = {"optuna:gp": args.gp_seeds_long, "hpsweep:gp": args.hpsweep_gp_seeds_long}
    seeds_of = {m: int(n) for m, _, n in (item.partition("=") for item in args.seeds_of)}
    done: set[tuple[str, str, int, int]] = set()
    results: list[dict[str, Any]] = []
    earlier_wall = 0.0
    if args.resume and args.out.is_file():
        earlier = json.loads(args.out.read_text())
        results = earlier["results"]
        earlier_wall = float(earlier.get("wall_seconds", 0.0))
        done = {(r["method"], r["function"], r["seed"], r["n"]) for r in results}
    jobs: list[tuple[str, str, int, int]] = []
    for method in args.methods:
        for fname in args.functions:
            for seed in range(seeds_of.get(method, args.seeds)):
                n = evals[-1]
                if seed >= long_seeds.get(method, args.seeds):
                    n = evals[0]
                budgets = evals[: evals.index(n) + 1] if method in BUDGET_AWARE else [n]
                jobs.extend((method, fname, seed, b) for b in budgets
                            if (method, fname, seed, b) not in done)
    jobs.sort(key=lambda j: -(j[3] * (50 if _is_gp(j[0]) or j[0] == "hpsweep:auto" else 1)))
    start = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    over: list[dict[str, float]] = []

    def save() -> dict[str, float]:
        seconds: dict[str, float] = {}
        for r in results:
            seconds[r["method"]] = seconds.get(r["method"], 0.0) + r["seconds"]
        args.out.write_text(json.dumps({
            "argv": sys.argv, "wall_seconds": earlier_wall + time.perf_counter() - start,
            "results": results,
            "overhead": over, "cpu_seconds_by_method": seconds}, indent=1))
        return seconds

    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for future in as_completed([pool.submit(run_one, job) for job in jobs]):
            results.append(future.result())
            save()  # a cut-short run still leaves its results
    wall = time.perf_counter() - start
    for n in args.overhead:
        for sampler in ("tpe", "cmaes", "random"):
            over.append(overhead(n, sampler))
    seconds = save()
    table = summarise(results, evals)
    print(markdown(table, over))
    wins = sum(1 for c in table.values() if c["auto_best"] or c["auto_tied"])
    print(f"\nauto best or tied-best in {wins} of {len(table)} cells; wall {wall:.0f} s")
    print("CPU seconds by method: " + ", ".join(f"{m} {s:.0f}" for m, s in seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
