"""The benchmark contract used by the simulated executor: (configuration, epoch) -> metrics."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from hpsweep.space import Param

if TYPE_CHECKING:
    from hpsweep.space import SearchSpace

__all__ = ["Benchmark"]


class Benchmark(ABC):
    """A multi-fidelity benchmark: learning curves with the training time they take.

    ``evaluate(config, epochs)`` returns, for each epoch asked for, the metrics a trial with
    ``config`` would report after that epoch, including ``time``: the cumulative seconds of
    training up to that epoch (non-decreasing in the epoch).
    """

    metric: str
    mode: Literal["min", "max"]
    max_resource: int
    resource_attr: str = "epoch"
    time_attr: str = "time"

    @property
    @abstractmethod
    def params(self) -> tuple[Param, ...]:
        """The benchmark's hyperparameters."""

    @abstractmethod
    def evaluate(self, config: dict[str, Any], epochs: Sequence[int], *,
                 seed: int | None = None) -> list[dict[str, float]]:
        """Metrics after each of ``epochs`` (1-based); ``seed`` draws noise where there is any."""

    def space(self) -> SearchSpace:
        """A :class:`~hpsweep.space.SearchSpace` over :attr:`params`."""
        from hpsweep.space import SearchSpace

        space = SearchSpace()
        for param in self.params:
            space.add(param)
        return space
