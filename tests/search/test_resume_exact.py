"""A restored searcher continues the stream of an uninterrupted one.

Both searchers see the same schedule: two trials in flight, each trial ending with a value that
is a function of its configuration, one trial failing. The restored searcher is rebuilt from the
store's view at a kill point (the trials ended so far, the trials in flight as RUNNING), its
running trials end as they did (they are re-run in place, without a new suggestion), and from
then on every suggestion must equal the uninterrupted one's.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from hpsweep.search import make_searcher
from hpsweep.space import SearchSpace
from hpsweep.trial import TrialRecord, TrialState

N = 14
IN_FLIGHT = 2


def continuous() -> SearchSpace:
    return (SearchSpace().add_float("x", -3.0, 3.0).add_float("y", 1e-3, 1.0, log=True)
            .add_int("k", 1, 9))


def finite() -> SearchSpace:
    return SearchSpace().add_categorical("a", [1, 2, 3, 4, 5]).add_categorical("b", ["p", "q", "r"])


def loss(config: dict[str, Any]) -> float:
    vals = [float(v) if isinstance(v, (int, float)) else float(len(str(v))) for v in config.values()]
    return sum((v - 0.3 * i) ** 2 for i, v in enumerate(vals)) + math.log1p(abs(vals[0]))


def record(tid: int, config: dict[str, Any], state: TrialState, created: float,
           finished: float | None = None) -> TrialRecord:
    done = state is TrialState.COMPLETED
    return TrialRecord(trial_id=tid, config=config, state=state, created=created,
                       finished=finished, last_metrics={"loss": loss(config)} if done else {})


def ending(tid: int) -> TrialState:
    return TrialState.FAILED if tid == 3 else TrialState.COMPLETED


def run(strategy: str, space: SearchSpace, kill_at: int | None) -> list[dict[str, Any] | None]:
    """Suggestions for ids 0..N-1 with IN_FLIGHT running; ``kill_at``: after that many
    suggestions, a fresh searcher restored from the store's records takes over."""
    searcher = make_searcher(strategy, space, metric="loss", mode="min", seed=11)
    records: dict[int, TrialRecord] = {}
    flight: list[int] = []
    out: list[dict[str, Any] | None] = []
    clock = 1000.0
    for tid in range(N):
        clock += 1.0
        if kill_at is not None and tid == kill_at:
            searcher = make_searcher(strategy, space, metric="loss", mode="min", seed=11)
            searcher.restore(sorted(records.values(), key=lambda t: t.trial_id))
        config = searcher.suggest(tid)
        out.append(config)
        if config is None:
            break
        records[tid] = record(tid, config, TrialState.RUNNING, clock)
        flight.append(tid)
        if len(flight) >= IN_FLIGHT:
            done = flight.pop(0)
            clock += 1.0
            records[done] = record(done, records[done].config, ending(done),
                                   records[done].created, clock)
            searcher.on_trial_complete(records[done])
    return out


CASES = [("random", continuous), ("random", finite), ("grid", finite), ("qmc", continuous),
         ("tpe", continuous), ("tpe", finite), ("cmaes", continuous), ("gp", continuous)]


@pytest.mark.parametrize(("strategy", "space"), CASES, ids=[f"{s}-{f.__name__}" for s, f in CASES])
def test_a_restored_searcher_makes_the_same_suggestions(strategy: str, space: Any) -> None:
    if strategy == "gp":
        pytest.importorskip("torch")
    whole = run(strategy, space(), None)
    for kill_at in (1, 5, 9, 12):
        assert run(strategy, space(), kill_at) == whole, f"kill after {kill_at} suggestions"


POINTS = [{"x": 0.5, "y": 0.1, "k": 3}, {"x": -1.0}]  # a whole point and a partial one


@pytest.mark.parametrize("strategy", ["cmaes", "qmc", "tpe"])
def test_points_to_evaluate_restore_to_the_same_suggestions(strategy: str) -> None:
    """A point that fixes every parameter consults no sampler; a partial one does: a restored
    searcher replays exactly those asks."""
    def fresh() -> Any:
        return make_searcher(strategy, continuous(), metric="loss", mode="min", seed=11,
                             points_to_evaluate=POINTS)

    def drive(kill_at: int | None) -> list[dict[str, Any] | None]:
        searcher = fresh()
        records: dict[int, TrialRecord] = {}
        out = []
        for tid in range(12):
            if tid == kill_at:
                searcher = fresh()
                searcher.restore([records[i] for i in sorted(records)])
            config = searcher.suggest(tid)
            out.append(config)
            assert config is not None
            records[tid] = record(tid, config, TrialState.COMPLETED, 10.0 + 2 * tid, 11.0 + 2 * tid)
            searcher.on_trial_complete(records[tid])
        return out

    whole = drive(None)
    assert whole[0] == POINTS[0] and whole[1]["x"] == -1.0
    for kill_at in (1, 2, 7):
        assert drive(kill_at) == whole, f"kill after {kill_at} suggestions"


def test_the_restored_study_is_the_live_one() -> None:
    """Trial by trial (number, state, values, parameters, reports): stopped trials with their
    reports, a NaN told as the worst value, a crash, a repetition lap the searcher did not
    suggest, and trials still running at the kill."""
    from hpsweep.trial import ErrorKind, Report

    space = continuous()
    live = make_searcher("tpe", space, metric="loss", mode="min", seed=3)
    records: list[TrialRecord] = []
    clock = 0.0
    running: list[TrialRecord] = []
    for tid in range(16):
        clock += 1.0
        config = live.suggest(tid)
        assert config is not None
        running.append(TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING,
                                   created=clock))
        if len(running) < 3:
            continue
        rec = running.pop(0)
        clock += 1.0
        reports = [Report(rec.trial_id, s, {"loss": loss(rec.config) + 1.0 / s}, clock)
                   for s in (1, 2)]
        kind = rec.trial_id % 4
        rec.finished, rec.reports = clock, reports
        if kind == 1:
            rec.state = TrialState.STOPPED
        elif kind == 2 and rec.trial_id > 2:
            rec.state, rec.error_kind, rec.last_metrics = (TrialState.FAILED, ErrorKind.NAN,
                                                           {"loss": math.nan})
        elif kind == 3:
            rec.state, rec.error_kind = TrialState.FAILED, ErrorKind.CRASH
        else:
            rec.state, rec.last_metrics = TrialState.COMPLETED, {"loss": loss(rec.config)}
        for report in reports:
            live.on_report(rec.trial_id, rec.config, report.step, report.metrics["loss"])
        live.on_trial_complete(rec)
        records.append(rec)
        if rec.trial_id == 4:  # a repetition lap of trial 4, numbered after the searcher's
            clock += 1.0
            lap = TrialRecord(trial_id=100, config=rec.config, state=TrialState.COMPLETED,
                              repetition=1, created=clock, finished=clock,
                              last_metrics={"loss": 0.5})
            live.on_trial_complete(lap)
            records.append(lap)
    restored = make_searcher("tpe", space, metric="loss", mode="min", seed=3)
    restored.restore(sorted(records + running, key=lambda t: t.trial_id))

    def view(searcher: Any) -> list[tuple[Any, ...]]:
        return [(t.number, t.state, t.values, t.params, t.distributions, t.intermediate_values)
                for t in searcher.study.trials]

    assert view(restored) == view(live)
    assert [t.state.name for t in live.study.trials].count("RUNNING") == 2
    assert restored.suggest(16) == live.suggest(16)


def test_nsga2_restores_its_generations_and_parents() -> None:
    """NSGA-II keeps each trial's generation and each generation's parents in the study as it
    samples; a restored searcher rebuilds both, so it continues the same past its first
    generations (population 50: 130 trials reach the third)."""
    def fresh() -> Any:
        return make_searcher("nsga2", continuous(), metric="a", mode="min", metrics=["a", "b"],
                             modes=["min", "max"], seed=5)

    def two(config: dict[str, Any]) -> dict[str, float]:
        first = loss(config)
        return {"a": first, "b": -((config["x"] - 1.0) ** 2) - 0.1 * config["k"] - first / 4}

    def drive(kill_at: int | None) -> list[dict[str, Any] | None]:
        searcher = fresh()
        records: dict[int, TrialRecord] = {}
        flight: list[int] = []
        out: list[dict[str, Any] | None] = []
        clock = 100.0
        for tid in range(130):
            clock += 1.0
            if tid == kill_at:
                searcher = fresh()
                searcher.restore([records[i] for i in sorted(records)])
            config = searcher.suggest(tid)
            assert config is not None
            out.append(config)
            records[tid] = TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING,
                                       created=clock)
            flight.append(tid)
            if len(flight) >= IN_FLIGHT:
                done = flight.pop(0)
                clock += 1.0
                ended = TrialState.FAILED if done % 37 == 5 else TrialState.COMPLETED
                records[done] = TrialRecord(
                    trial_id=done, config=records[done].config, state=ended,
                    created=records[done].created, finished=clock,
                    last_metrics=two(records[done].config) if ended is TrialState.COMPLETED else {})
                searcher.on_trial_complete(records[done])
        return out

    whole = drive(None)
    for kill_at in (30, 70, 110):
        assert drive(kill_at) == whole, f"kill after {kill_at} suggestions"
