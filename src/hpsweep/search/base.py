"""The searcher contract: what configuration to try next.

A searcher is a function of the history plus its own seeded generator. It never owns the trial
loop: the scheduler (or the tuner, through the FIFO scheduler) asks it for configurations and tells
it about results. Its state can always be rebuilt from the store through :meth:`Searcher.restore`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from hpsweep.space import SearchSpace
    from hpsweep.trial import TrialRecord

__all__ = ["Mode", "Searcher"]

Mode = Literal["min", "max"]


class Searcher(ABC):
    """Proposes configurations from ``space``.

    Subclasses implement :meth:`suggest`; the hooks default to doing nothing.
    ``seed`` seeds the searcher's own generator; no searcher touches global random state.
    """

    def __init__(self, space: SearchSpace, *, metric: str, mode: Mode, seed: int | None) -> None:
        self.space = space
        self.metric = metric
        self.mode: Mode = mode
        self.seed = seed

    @abstractmethod
    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        """The configuration for new trial ``trial_id``; None when the searcher is exhausted."""

    @property
    def total(self) -> int | None:
        """How many configurations this searcher can give at most (a grid's size), or None."""
        return None

    def on_report(self, trial_id: int, config: dict[str, Any], step: int | None, value: float) -> None:
        """An intermediate value of the objective at ``step``."""

    def on_trial_complete(self, trial: TrialRecord) -> None:
        """Trial ended, in any final state (the one hook for it: ``trial.value(metric)`` is the
        objective of a COMPLETED trial; multi-objective searchers read every metric)."""

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        """Rebuild the state from the trials already in the store (in trial-id order).

        The default replays :meth:`on_trial_complete` for final trials; searchers with a position
        (grid, quasi-random) override it to continue where they were.
        """
        for trial in trials:
            if trial.state.is_final:
                self.on_trial_complete(trial)
