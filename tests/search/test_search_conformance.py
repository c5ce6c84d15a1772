"""The searcher contract, run by every strategy ``make_searcher`` knows.

Suggestions lie in the space, a seed reproduces its suggestions, conditional parameters appear
only when active, and a searcher rebuilt from the store's trials continues the same study.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from hpsweep.search import STRATEGIES, make_searcher
from hpsweep.search.base import Searcher
from hpsweep.space import SearchSpace
from hpsweep.trial import TrialRecord, TrialState

# GP fits a model per trial: keep its runs short (its startup phase is 10 trials).
N_TRIALS = {"gp": 12, "auto": 13}
DEFAULT_TRIALS = 24


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The GP's tiny models run fastest on one thread; more only contend on a busy machine."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def conditional_space() -> SearchSpace:
    sgd = SearchSpace().add_float("momentum", 0.0, 0.99).add_categorical("nesterov", [True, False])
    adam = SearchSpace().add_float("beta1", 0.8, 0.999)
    space = (SearchSpace()
             .add_float("lr", 1e-5, 1e-1, log=True)
             .add_int("batch", 16, 128, step=16)
             .add_categorical("optimizer", ["sgd", "adam"])
             .add_fixed("epochs", 3))
    space.add_conditional("sgd_part", "optimizer == 'sgd'", sgd)
    space.add_conditional("adam_part", "optimizer == 'adam'", adam)
    return space


def grid_space() -> SearchSpace:
    """A finite space (grid search needs one), with a conditional part."""
    sgd = SearchSpace().add_categorical("momentum", [0.0, 0.9])
    space = (SearchSpace()
             .add_categorical("lr", [0.1, 0.01, 0.001])
             .add_int("layers", 1, 3)
             .add_categorical("optimizer", ["sgd", "adam"]))
    space.add_conditional("sgd_part", "optimizer == 'sgd'", sgd)
    return space


def space_for(strategy: str) -> SearchSpace:
    return grid_space() if strategy == "grid" else conditional_space()


def objective(config: dict[str, Any]) -> float:
    lr = float(config["lr"])
    extra = float(config.get("momentum", 0.5)) + float(config.get("beta1", 0.9))
    return (math.log10(lr) + 2.5) ** 2 + 0.1 * float(config.get("layers", config.get("batch", 1))) \
        / 16 + 0.01 * extra


def drive(searcher: Searcher, n: int, start: int = 0) -> list[TrialRecord]:
    """Suggest and complete ``n`` trials one after the other, as the tuner would."""
    records = []
    for tid in range(start, start + n):
        config = searcher.suggest(tid)
        if config is None:
            break
        record = TrialRecord(trial_id=tid, config=config, state=TrialState.COMPLETED,
                             last_metrics={"loss": objective(config)})
        searcher.on_trial_complete(record)
        records.append(record)
    return records


def build(strategy: str, seed: int) -> Searcher:
    return make_searcher(strategy, space_for(strategy), metric="loss", mode="min", seed=seed)


@pytest.fixture(params=list(STRATEGIES))
def strategy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_suggestions_lie_in_the_space_and_conditions_hold(strategy: str) -> None:
    space = space_for(strategy)
    records = drive(build(strategy, seed=1), N_TRIALS.get(strategy, DEFAULT_TRIALS))
    assert records
    for record in records:
        assert space.contains(record.config), (strategy, record.config)
        config = record.config
        if "optimizer" in config:
            has_sgd = "momentum" in config
            assert has_sgd == (config["optimizer"] == "sgd"), config
            if strategy != "grid":
                assert ("beta1" in config) == (config["optimizer"] == "adam"), config
                assert config["epochs"] == 3


def test_both_branches_of_a_condition_are_visited(strategy: str) -> None:
    records = drive(build(strategy, seed=2), N_TRIALS.get(strategy, DEFAULT_TRIALS))
    assert {r.config["optimizer"] for r in records} == {"sgd", "adam"}


def test_a_seed_reproduces_its_suggestions(strategy: str) -> None:
    n = N_TRIALS.get(strategy, DEFAULT_TRIALS)
    first = [r.config for r in drive(build(strategy, seed=7), n)]
    again = [r.config for r in drive(build(strategy, seed=7), n)]
    assert first == again
    if strategy != "grid":  # a grid's order does not depend on the seed
        other = [r.config for r in drive(build(strategy, seed=8), n)]
        assert other != first


def test_state_survives_restore(strategy: str) -> None:
    """A searcher rebuilt from the store's records continues as if it had never stopped."""
    n = N_TRIALS.get(strategy, DEFAULT_TRIALS)
    half = n // 2 + 1
    original = build(strategy, seed=3)
    history = drive(original, half)
    restored = build(strategy, seed=3)
    restored.restore(history)
    tail_original = [r.config for r in drive(original, n - half, start=half)]
    tail_restored = [r.config for r in drive(restored, n - half, start=half)]
    assert tail_restored == tail_original
    seen = [r.config for r in history]
    if strategy == "grid":  # a grid never repeats a point after a resume
        assert not any(c in seen for c in tail_restored)


def test_parallel_suggestions_differ(strategy: str) -> None:
    """Trials asked before any result comes back do not all get the same configuration."""
    searcher = build(strategy, seed=4)
    drive(searcher, N_TRIALS.get(strategy, DEFAULT_TRIALS) - 3)
    start = 100
    pending = [searcher.suggest(start + i) for i in range(3)]
    assert all(p is not None for p in pending)
    keys = {tuple(sorted((k, repr(v)) for k, v in p.items())) for p in pending if p is not None}
    assert len(keys) == 3, pending


def test_failed_and_nan_trials_do_not_break_the_searcher(strategy: str) -> None:
    searcher = build(strategy, seed=5)
    space = space_for(strategy)
    for tid in range(6):
        config = searcher.suggest(tid)
        assert config is not None
        if tid % 3 == 0:
            record = TrialRecord(trial_id=tid, config=config, state=TrialState.FAILED)
        elif tid % 3 == 1:
            record = TrialRecord(trial_id=tid, config=config, state=TrialState.FAILED,
                                 last_metrics={"loss": math.nan})
        else:
            record = TrialRecord(trial_id=tid, config=config, state=TrialState.COMPLETED,
                                 last_metrics={"loss": objective(config)})
        searcher.on_trial_complete(record)
    nxt = searcher.suggest(6)
    assert nxt is not None and space.contains(nxt)
