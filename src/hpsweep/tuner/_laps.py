"""Repetition laps: every configuration of the first lap runs again, lap after lap."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hpsweep.trial import StartTrial, TrialRecord

__all__ = ["Laps"]


@dataclass(frozen=True)
class _Lap:
    origin: int  # trial id of the configuration's first run
    repetition: int


class Laps:
    """The repetitions still to run, in lap order (all of repetition 1, then 2, ...), built
    once from the trials the study has, so that a resumed study runs only the missing ones."""

    def __init__(self, repetitions: int) -> None:
        self.repetitions = max(1, repetitions)
        self._queue: deque[_Lap] | None = None

    def _build(self, trials: Iterable[TrialRecord]) -> deque[_Lap]:
        trials = list(trials)
        firsts = sorted(t.trial_id for t in trials
                        if t.repetition == 0 and "rerun_of" not in t.run_info)
        done = {(t.run_info.get("lap_of"), t.repetition) for t in trials if t.repetition > 0}
        return deque(_Lap(tid, rep) for rep in range(1, self.repetitions) for tid in firsts
                     if (tid, rep) not in done)

    def next(self, trials: Mapping[int, TrialRecord]) -> tuple[StartTrial, dict[str, Any]] | None:
        """The next repetition to start (and what the tuner records with it), or None."""
        if self.repetitions == 1:
            return None
        if self._queue is None:
            self._queue = self._build(trials.values())
        if not self._queue:
            return None
        lap = self._queue.popleft()
        origin = trials[lap.origin]
        return (StartTrial(origin.config, origin.resource,
                           f"repetition {lap.repetition} of trial {origin.trial_id}"),
                {"lap_of": origin.trial_id, "repetition": lap.repetition})
