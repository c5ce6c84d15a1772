"""Synchronous Hyperband: brackets of successive halving that wait for a whole rung.

Bracket runs are opened one after the other (cycling through the brackets, most aggressive
first). A new trial joins the oldest run whose first rung is not full; once every member of a
rung has ended, the top ``max(1, floor(n/eta))`` by their value at that rung are resumed to the
next rung. Several runs proceed side by side so that no worker waits idle for a slow rung.
Membership follows trial ids, so :meth:`restore` rebuilds the runs from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpsweep.schedulers._brackets import BracketPlan
from hpsweep.schedulers._common import TrackingScheduler, TrialInfo
from hpsweep.trial import ResumeTrial, StartTrial, Suggestion, TrialState, Verdict

__all__ = ["HyperbandScheduler"]


@dataclass
class _BracketRun:
    index: int
    bracket: int
    capacity: int
    levels: list[int]
    members: list[int] = field(default_factory=list)


class HyperbandScheduler(TrackingScheduler):
    """Synchronous Hyperband (``brackets=1``: synchronous successive halving)."""

    name = "hyperband"

    def __init__(self, *, brackets: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = BracketPlan(min_resource=self.min_resource, max_resource=self.max_resource,
                                eta=self.reduction_factor, brackets=brackets)
        self._runs: list[_BracketRun] = []
        self._run_of: dict[int, int] = {}

    def _reset(self) -> None:
        self._runs = []
        self._run_of = {}

    def _open_run(self) -> _BracketRun:
        index = len(self._runs)
        bracket = index % self.plan.brackets
        run = _BracketRun(index=index, bracket=bracket, capacity=self.plan.size(bracket),
                          levels=self.plan.rungs(bracket))
        self._runs.append(run)
        return run

    def _filling_run(self) -> _BracketRun:
        for run in self._runs:
            if len(run.members) < run.capacity:
                return run
        return self._open_run()

    def _on_new_trial(self, info: TrialInfo) -> None:
        run = self._filling_run()
        run.members.append(info.trial_id)
        self._run_of[info.trial_id] = run.index

    # -- rung bookkeeping ---------------------------------------------------------------------

    def _survivors(self, run: _BracketRun) -> tuple[int, list[int], bool]:
        """(rung index, the trials that belong at that rung, whether that rung is complete)
        for the lowest rung of ``run`` that is not complete (or the last rung)."""
        current = list(run.members)
        for k, level in enumerate(run.levels):
            infos = [self._trials[t] for t in current if t in self._trials]
            done = len(current) == run.capacity or k > 0
            done = done and len(infos) == len(current)
            done = done and all(i.value_at(level) is not None or i.state.is_final for i in infos)
            if not done or k == len(run.levels) - 1:
                return k, current, done
            scored = sorted((i.value_at(level), i.trial_id) for i in infos
                            if i.value_at(level) is not None)
            keep = max(1, len(current) // self.reduction_factor)
            current = [tid for _, tid in scored[:keep]]
        raise AssertionError("unreachable")

    def _job(self, run: _BracketRun) -> ResumeTrial | None:
        k, members, _ = self._survivors(run)
        if k == 0:
            return None
        level = run.levels[k]
        for tid in sorted(members):
            info = self._trials[tid]
            if info.state is TrialState.PAUSED and info.last_step < level:
                return ResumeTrial(trial_id=tid, resource=level,
                                   reason=f"bracket run {run.index}: promote to rung {level}")
        return None

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        if not allow_new:  # no more trials: a partly filled first rung is all there will be
            for run in self._runs:
                if 0 < len(run.members) < run.capacity:
                    run.capacity = len(run.members)
        for run in self._runs:
            job = self._job(run)
            if job is not None:
                return job
            if len(run.members) < run.capacity:
                return self._start(trial_id, run, allow_new)
        return self._start(trial_id, self._open_run(), allow_new)

    def _start(self, trial_id: int, run: _BracketRun, allow_new: bool) -> Suggestion | None:
        if not allow_new:
            return None
        config = self._new_config(trial_id, run.levels[0])
        if config is None:
            return None
        return StartTrial(config=config, resource=run.levels[0],
                          reason=f"bracket run {run.index} (bracket {run.bracket}): new "
                                 f"configuration {len(run.members) + 1}/{run.capacity} "
                                 f"up to rung {run.levels[0]}")

    def _new_config(self, trial_id: int, level: int) -> dict[str, Any] | None:
        return self.searcher.suggest(trial_id)

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        return self._pause_or_continue(info, step, f"value at step {step}")

    def rng_for(self, trial_id: int) -> np.random.Generator:
        return np.random.default_rng([self.seed if self.seed is not None else 0, trial_id, 13])
