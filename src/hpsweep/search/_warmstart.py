"""A wrapper that tries given configurations first, then asks the wrapped searcher."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.search.base import Searcher
from hpsweep.trial import TrialRecord

__all__ = ["PointsFirst"]


class PointsFirst(Searcher):
    """Suggest ``points`` (complete configurations of the space) before ``searcher``'s own.

    Used to give grid and random search a warm start; Optuna-based searchers enqueue the points
    themselves. Restoring skips the points already run (one per stored trial, in order).
    """

    def __init__(self, searcher: Searcher, *, points: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(searcher.space, metric=searcher.metric, mode=searcher.mode,
                         seed=searcher.seed)
        self.searcher = searcher
        self.points = [dict(p) for p in points]
        for i, point in enumerate(self.points):
            if not searcher.space.contains(point):
                raise UsageError(
                    f"points_to_evaluate[{i}] = {point!r} is not a configuration of the space "
                    f"(parameters: {', '.join(searcher.space.names)}); give a value for every "
                    "active parameter, inside its range."
                )
        self._next = 0

    @property
    def total(self) -> int | None:
        inner = self.searcher.total
        return None if inner is None else inner + len(self.points)

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        if self._next < len(self.points):
            self._next += 1
            return dict(self.points[self._next - 1])
        return self.searcher.suggest(trial_id)

    def on_report(
        self, trial_id: int, config: dict[str, Any], step: int | None, value: float
    ) -> None:
        self.searcher.on_report(trial_id, config, step, value)

    def on_trial_complete(self, trial: TrialRecord) -> None:
        self.searcher.on_trial_complete(trial)

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        ordered = sorted(trials, key=lambda t: t.trial_id)
        self._next = min(len(ordered), len(self.points))
        self.searcher.restore(ordered[self._next:])
