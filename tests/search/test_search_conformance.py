"""Every strategy ``make_searcher`` knows runs the public searcher suite
(``hpsweep.testing.searchers``), check by check."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from hpsweep.search import STRATEGIES, make_searcher
from hpsweep.search.base import Searcher
from hpsweep.space import SearchSpace
from hpsweep.testing import searchers as suite
from hpsweep.trial import TrialRecord

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


def factory(strategy: str) -> suite.SearcherFactory:
    def make(space: SearchSpace, seed: int) -> Searcher:
        return make_searcher(strategy, space, metric="loss", mode="min", seed=seed)
    return make


def space_for(strategy: str) -> SearchSpace:
    return suite.finite_space() if strategy == "grid" else suite.conditional_space()


@pytest.fixture(params=list(STRATEGIES))
def strategy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def n_for(strategy: str) -> int:
    return N_TRIALS.get(strategy, DEFAULT_TRIALS)


def test_suggestions_lie_in_the_space_and_conditions_hold(strategy: str) -> None:
    suite.check_in_space(factory(strategy), space_for(strategy), n_for(strategy))


def test_both_branches_of_a_condition_are_visited(strategy: str) -> None:
    suite.check_branches(factory(strategy), space_for(strategy), n_for(strategy))


def test_a_seed_reproduces_its_suggestions(strategy: str) -> None:
    suite.check_seeded(factory(strategy), space_for(strategy), n_for(strategy),
                       seeded=strategy != "grid")  # a grid's order does not depend on the seed


def test_state_survives_restore(strategy: str) -> None:
    suite.check_restore(factory(strategy), space_for(strategy), n_for(strategy),
                        finite=strategy == "grid")


def test_parallel_suggestions_differ(strategy: str) -> None:
    suite.check_parallel(factory(strategy), space_for(strategy), n_for(strategy))


def test_failed_and_nan_trials_do_not_break_the_searcher(strategy: str) -> None:
    suite.check_failures(factory(strategy), space_for(strategy))


class _Forgetful(Searcher):
    """A searcher whose restore changes its stream: the suite must catch it."""

    def __init__(self, space: SearchSpace, seed: int) -> None:
        super().__init__(space, metric="loss", mode="min", seed=seed)
        self.shift = 0

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        return self.space.sample(np.random.default_rng([self.shift, trial_id]))

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        self.shift += 1


def test_the_suite_fails_a_searcher_that_restores_wrongly() -> None:
    with pytest.raises(AssertionError, match="continue the same study"):
        suite.check_restore(_Forgetful, suite.conditional_space(), 10)
