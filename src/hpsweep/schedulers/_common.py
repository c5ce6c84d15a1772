"""Shared bookkeeping for the multi-fidelity schedulers.

:class:`TrackingScheduler` keeps, per trial, its configuration, its objective values by resource
level (signed so that smaller is always better), its state and its current target. It rebuilds all
of that from the store's :class:`~hpsweep.trial.TrialRecord` list in :meth:`restore`, so every
subclass whose decisions depend only on this table decides the same way after a restart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hpsweep.errors import UsageError
from hpsweep.schedulers._options import HalvingOptions, SchedulerOptions
from hpsweep.schedulers._ranked import Ranked
from hpsweep.schedulers.base import Scheduler
from hpsweep.search.base import Mode, Searcher
from hpsweep.trial import (
    CONTINUE,
    Decision,
    Report,
    TrialRecord,
    TrialState,
    Verdict,
    objective_value,
)

__all__ = [
    "TrackingScheduler",
    "TrialInfo",
    "check_positive_int",
    "geometric_rungs",
    "linear_rungs",
    "top_count",
]


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, else a :class:`UsageError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UsageError(
            f"{name} must be an integer >= {minimum}, got {value!r}; pass e.g. {name}={minimum}."
        )
    return int(value)


def geometric_rungs(min_resource: int, max_resource: int, eta: int) -> list[int]:
    """Rung levels ``min * eta**k`` below ``max``, then ``max`` itself.

    >>> geometric_rungs(1, 81, 3)
    [1, 3, 9, 27, 81]
    >>> geometric_rungs(1, 52, 3)
    [1, 3, 9, 27, 52]
    """
    levels: list[int] = []
    level = min_resource
    while level < max_resource:
        levels.append(level)
        level *= eta
    levels.append(max_resource)
    return levels


def linear_rungs(min_resource: int, max_resource: int, increment: int) -> list[int]:
    """Rung levels ``min, min + inc, min + 2 inc, ...`` and ``max``.

    >>> linear_rungs(1, 10, 3)
    [1, 4, 7, 10]
    """
    levels = list(range(min_resource, max_resource, increment))
    levels.append(max_resource)
    return levels


@dataclass
class TrialInfo:
    """What a scheduler knows about one trial.

    ``values`` map each reported step to its signed value; ``at_rung`` maps a rung level to the
    value of the first report with a step at or above it (a rung is reached there, so a script
    that reports every second epoch still meets rung 3 at epoch 4).
    """

    trial_id: int
    config: dict[str, Any]
    state: TrialState = TrialState.RUNNING
    resource: int | None = None
    values: dict[int, float] = field(default_factory=dict)
    at_rung: dict[int, float] = field(default_factory=dict)
    crossed: list[int] = field(default_factory=list)  # rung levels the latest report reached first

    @property
    def last_step(self) -> int:
        return max(self.values) if self.values else 0

    def value_at(self, step: int) -> float | None:
        value = self.at_rung.get(step)
        return value if value is not None else self.values.get(step)


class TrackingScheduler(Scheduler):
    """A scheduler that tracks every trial's reports by resource level (smaller value = better)."""

    name = "tracking"
    Options: ClassVar[type[SchedulerOptions]] = HalvingOptions
    needs_resource = True

    def __init__(self, *, searcher: Searcher, metric: str, mode: Mode, seed: int | None = None,
                 **options: Any) -> None:
        if mode not in ("min", "max"):
            raise UsageError(f"mode must be 'min' or 'max', got {mode!r}.")
        super().__init__(searcher=searcher, metric=metric, mode=mode, seed=seed, **options)
        self.min_resource: int = int(getattr(self.options, "min_resource", 1))
        assert self.max_resource is not None  # required by every fidelity spec
        self.max_resource: int = int(self.max_resource)
        self.reduction_factor: int = int(getattr(self.options, "reduction_factor", 3))
        self._trials: dict[int, TrialInfo] = {}
        self._n_runs = 0
        # (group, rung level) -> (value, trial id) of every trial that reached it, best first;
        # kept sorted as reports arrive (in blocks: an insertion does not move the whole rung),
        # so a decision costs a bisection, not a scan.
        self._ranking: dict[tuple[int, int], Ranked] = {}
        self._paused_ids: set[int] = set()

    # -- helpers -------------------------------------------------------------------------------

    def _signed(self, value: float) -> float:
        if math.isnan(value):
            return math.inf
        return value if self.mode == "min" else -value

    def _rng(self, salt: int = 0) -> np.random.Generator:
        """A generator seeded by (seed, runs so far, salt): the same after a restore."""
        return np.random.default_rng([self.seed if self.seed is not None else 0, self._n_runs, salt])

    def _info(self, trial: TrialRecord) -> TrialInfo:
        info = self._trials.get(trial.trial_id)
        if info is None:
            info = TrialInfo(trial_id=trial.trial_id, config=dict(trial.config))
            self._trials[trial.trial_id] = info
            self._on_new_trial(info)
        return info

    def paused(self) -> list[TrialInfo]:
        return [self._trials[tid] for tid in sorted(self._paused_ids)]

    def _touched(self, info: TrialInfo) -> None:
        """A trial's values or state changed (for subclasses that cache what depends on them)."""

    def _set_state(self, info: TrialInfo, state: TrialState) -> None:
        self._touched(info)
        info.state = state
        if state is TrialState.PAUSED:
            self._paused_ids.add(info.trial_id)
        else:
            self._paused_ids.discard(info.trial_id)

    def group_of(self, trial_id: int) -> int:
        """The group whose trials are ranked together at a rung (a bracket, a bracket run)."""
        return 0

    def ranking(self, group: int, level: int) -> Ranked:
        """(value, trial id) of the trials of ``group`` that reached ``level``, best first (a
        view: do not change it; ``len``, indexing and ``bisect_left`` cost O(log n), a slice
        is a copy)."""
        return self._ranking.get((group, level), _EMPTY)

    def running_count(self) -> int:
        return sum(1 for t in self._trials.values() if t.state is TrialState.RUNNING)

    def rung_levels(self, trial_id: int) -> Sequence[int]:
        """The rung levels that apply to ``trial_id`` (its bracket's, for bracketed schedulers)."""
        return ()

    # -- the contract --------------------------------------------------------------------------

    def on_trial_start(self, trial: TrialRecord) -> None:
        info = self._info(trial)
        info.config = dict(trial.config)
        self._set_state(info, TrialState.RUNNING)
        info.resource = trial.resource
        self._n_runs += 1

    def on_report(self, trial: TrialRecord, report: Report) -> Verdict:
        info = self._info(trial)
        recorded = self._record(info, report)
        if recorded is None:
            return CONTINUE
        step, value = recorded
        self.searcher.on_report(trial.trial_id, trial.config, step,
                                value if self.mode == "min" else -value)
        return self._decide(info, step, value)

    def on_trial_end(self, trial: TrialRecord) -> None:
        info = self._info(trial)
        self._set_state(info, trial.state)
        if trial.state.is_final:
            self.searcher.on_trial_complete(trial)

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        self._trials = {}
        self._n_runs = 0
        self._ranking = {}
        self._paused_ids = set()
        self._reset()
        for trial in sorted(trials, key=lambda t: t.trial_id):
            info = self._info(trial)
            info.resource = trial.resource
            for report in trial.reports:
                self._record(info, report)
            self._set_state(info, trial.state)
            self._n_runs += trial.runs
        self.searcher.restore(trials)
        self._after_restore()

    # -- hooks for subclasses ------------------------------------------------------------------

    def _record(self, info: TrialInfo, report: Report) -> tuple[int, float] | None:
        value = objective_value(report.metrics, self.metric)
        if value is None or report.step is None:
            return None
        step = int(report.step)
        signed = self._signed(value)
        self._touched(info)
        info.values[step] = signed
        info.crossed = []
        for level in self.rung_levels(info.trial_id):
            if level <= step and level not in info.at_rung:
                info.at_rung[level] = signed
                info.crossed.append(level)
                key = (self.group_of(info.trial_id), level)
                ranked = self._ranking.get(key)
                if ranked is None:
                    ranked = self._ranking[key] = Ranked()
                ranked.insert((signed, info.trial_id))
        return step, signed

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        return CONTINUE

    def _on_new_trial(self, info: TrialInfo) -> None:
        """A trial was seen for the first time (live or during a restore)."""

    def _reset(self) -> None:
        """Forget derived state before a restore."""

    def _after_restore(self) -> None:
        """Derive state after a restore replayed every trial."""

    def _pause_or_continue(self, info: TrialInfo, step: int, why: str) -> Verdict:
        """PAUSE once a run reaches its target below the maximum, else CONTINUE."""
        target = info.resource if info.resource is not None else self.max_resource
        if step >= target and step < self.max_resource:
            return Verdict(Decision.PAUSE, f"{why}; reached target {target}, pause")
        return Verdict(Decision.CONTINUE, why)


_EMPTY = Ranked()  # the ranking of a rung nobody reached yet


def top_count(k: int, eta: int, *, at_least_one: bool) -> int:
    """How many of ``k`` trials at a rung are promoted: ``floor(k / eta)``, at least one once no
    more trials can arrive at that rung."""
    n = k // eta
    return max(1, n) if at_least_one and k else n
