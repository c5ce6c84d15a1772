"""CMA-ES with its state kept by the searcher (``search/_cmaes.py``) makes Optuna's suggestions.

The reference is Optuna's own ``CmaEsSampler`` asked as the searcher asks it: a fresh sampler per
trial, seeded from ``(seed, trial id)``, over a study that holds its state in the trials. The
schedule runs several generations with trials in flight, so that a tell waits for the trial
holding its result, plus a failed trial and a NaN told as the worst value; any drift (in Optuna's
rule, its private ``_SearchSpaceTransform`` or the ``cmaes`` library) makes the suggestions differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pytest

from hpsweep.search import OptunaSearcher
from hpsweep.search._cmaes import population_size
from hpsweep.space import SearchSpace
from hpsweep.trial import ErrorKind, TrialRecord, TrialState

SEED = 5
N = 46
IN_FLIGHT = 3


def space() -> SearchSpace:
    return (SearchSpace().add_float("x", -2.0, 3.0).add_float("lr", 1e-4, 1.0, log=True)
            .add_int("k", 1, 40, step=3))


def loss(config: dict[str, Any]) -> float:
    return (config["x"] - 1.2) ** 2 + (math.log10(config["lr"]) + 2) ** 2 + 0.01 * config["k"]


def outcome(tid: int) -> str:
    return {7: "fail", 12: "nan"}.get(tid, "ok")


def schedule(suggest: Callable[[int], dict[str, Any]],
             tell: Callable[[int, dict[str, Any], str], None]) -> list[dict[str, Any]]:
    """Ask ids 0..N-1 with IN_FLIGHT trials running; the oldest ends before the next ask."""
    flight: list[tuple[int, dict[str, Any]]] = []
    out = []
    for tid in range(N):
        config = suggest(tid)
        out.append(config)
        flight.append((tid, config))
        if len(flight) >= IN_FLIGHT:
            done, cfg = flight.pop(0)
            tell(done, cfg, outcome(done))
    return out


def optuna_reference() -> list[dict[str, Any]]:
    study = optuna.create_study(direction="minimize")
    live: dict[int, optuna.trial.Trial] = {}
    values: list[float] = []

    def suggest(tid: int) -> dict[str, Any]:
        seed = int(np.random.SeedSequence([SEED, tid]).generate_state(1)[0])
        study.sampler = optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        trial = live[tid] = study.ask()
        return {"x": trial.suggest_float("x", -2.0, 3.0),
                "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
                "k": trial.suggest_int("k", 1, 40, step=3)}

    def tell(tid: int, config: dict[str, Any], how: str) -> None:
        if how == "fail":
            study.tell(live[tid], state=optuna.trial.TrialState.FAIL)
            return
        value = max(values) if how == "nan" else loss(config)
        values.append(value)
        study.tell(live[tid], value)

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return schedule(suggest, tell)
    finally:
        optuna.logging.set_verbosity(before)


def searcher_run(restore_at: int | None = None) -> list[dict[str, Any]]:
    holder = [OptunaSearcher(space(), metric="loss", mode="min", seed=SEED, sampler="cmaes")]
    records: dict[int, TrialRecord] = {}
    clock = [100.0]

    def suggest(tid: int) -> dict[str, Any]:
        clock[0] += 1.0
        if tid == restore_at:
            holder[0] = OptunaSearcher(space(), metric="loss", mode="min", seed=SEED,
                                       sampler="cmaes")
            holder[0].restore([records[i] for i in sorted(records)])
        config = holder[0].suggest(tid)
        assert config is not None
        records[tid] = TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING,
                                   created=clock[0])
        return config

    def tell(tid: int, config: dict[str, Any], how: str) -> None:
        clock[0] += 1.0
        state = TrialState.FAILED if how != "ok" else TrialState.COMPLETED
        metrics = {"loss": math.nan if how == "nan" else loss(config)} if how != "fail" else {}
        records[tid] = TrialRecord(trial_id=tid, config=config, state=state, created=records[tid].created,
                                   finished=clock[0], last_metrics=metrics,
                                   error_kind=ErrorKind.NAN if how == "nan" else ErrorKind.CRASH
                                   if how == "fail" else None)
        holder[0].on_trial_complete(records[tid])

    return schedule(suggest, tell)


def test_several_generations_make_the_suggestions_of_optunas_own_sampler() -> None:
    assert 5 * population_size(3) < N  # several generations, each told while trials run
    reference = optuna_reference()
    ours = searcher_run()
    assert len(ours) == len(reference) == N
    for tid, (a, b) in enumerate(zip(ours, reference)):
        assert a == b, f"trial {tid}"


@pytest.mark.parametrize("restore_at", [9, 23, 38])
def test_a_restored_cmaes_continues_with_the_same_suggestions(restore_at: int) -> None:
    assert searcher_run(restore_at) == searcher_run()


def test_population_size_is_the_cmaes_default() -> None:
    import cmaes

    for dim in range(1, 21):
        optimizer = cmaes.CMA(mean=np.zeros(dim), sigma=1.0)
        assert population_size(dim) == optimizer.population_size, dim
