"""Hyperband bracket arithmetic shared by ASHA, promotion Hyperband and synchronous Hyperband."""

from __future__ import annotations

import math

from hpsweep.errors import UsageError
from hpsweep.schedulers._common import geometric_rungs

__all__ = ["BracketPlan"]


class BracketPlan:
    """The rung levels of each bracket and how many configurations a full bracket starts.

    Bracket 0 starts at ``min_resource`` (the most aggressive), bracket ``b`` at the ``b``-th
    rung level. With min 1, max 81, eta 3 the levels are 1, 3, 9, 27, 81; bracket 0 starts
    81 configurations at 1, bracket 4 starts 5 at 81 (the classic Hyperband table).
    """

    def __init__(self, *, min_resource: int, max_resource: int, eta: int, brackets: int | None) -> None:
        self.levels = geometric_rungs(min_resource, max_resource, eta)
        self.eta = eta
        most = len(self.levels)
        if brackets is None:  # every bracket: Hyperband as its paper runs it
            brackets = most
        if isinstance(brackets, bool) or not isinstance(brackets, int) or not 1 <= brackets <= most:
            raise UsageError(
                f"brackets must be an integer in 1..{most} for min_resource={min_resource}, "
                f"max_resource={max_resource}, reduction_factor={eta}; got {brackets!r}."
            )
        self.brackets = brackets

    def rungs(self, bracket: int) -> list[int]:
        return self.levels[bracket:]

    def size(self, bracket: int) -> int:
        """Configurations a synchronous bracket starts (Hyperband's n)."""
        total = len(self.levels)
        halvings = total - 1 - bracket
        return math.ceil(total / (halvings + 1) * self.eta**halvings)

    def weights(self) -> list[float]:
        """Probability of each bracket for asynchronous variants (proportional to ``size``)."""
        sizes = [float(self.size(b)) for b in range(self.brackets)]
        total = sum(sizes)
        return [s / total for s in sizes]

    def next_level(self, level: int) -> int | None:
        for candidate in self.levels:
            if candidate > level:
                return candidate
        return None
