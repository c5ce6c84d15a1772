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
