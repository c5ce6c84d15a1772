"""Synchronous Hyperband: brackets of successive halving that wait for a whole rung.

Bracket runs are opened one after the other (cycling through the brackets, most aggressive
first). A new trial joins the oldest run whose first rung is not full; once every member of a
rung has ended, the top ``max(1, floor(n/eta))`` by their value at that rung are resumed to the
next rung and the others are stopped. Several runs proceed side by side so that no worker waits
idle for a slow rung. Membership follows trial ids, so :meth:`restore` rebuilds the runs from the
store.

Departures from the paper (Li et al., "Hyperband", JMLR 2018): bracket runs overlap instead of
running one after the other (so that every worker stays busy); when the last configuration has
started, a partly filled first rung is closed with the members it has, and halving keeps at least
one trial, so every opened run brings one trial to the full budget.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpsweep.schedulers._brackets import BracketPlan
from hpsweep.schedulers._common import TrackingScheduler, TrialInfo
from hpsweep.schedulers._options import HalvingOptions, option
from hpsweep.trial import ResumeTrial, StartTrial, Suggestion, TrialState, Verdict

__all__ = ["HyperbandOptions", "HyperbandScheduler"]


@dataclass(frozen=True)
class HyperbandOptions(HalvingOptions):
    brackets: int | None = option(None, "Hyperband brackets (1 is successive halving)", minimum=1,
                                  derived="all")


@dataclass
class _BracketRun:
    index: int
    bracket: int
    capacity: int
    levels: list[int]
    members: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Rung:
    """One rung of a bracket run: who belongs there, and whether all of them have a result."""

    k: int
    level: int
    members: list[int]
    complete: bool


class HyperbandScheduler(TrackingScheduler):
    """Synchronous Hyperband (``brackets=1``: synchronous successive halving)."""

    name = "hyperband"
    Options = HyperbandOptions
    pauses = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = BracketPlan(min_resource=self.min_resource, max_resource=self.max_resource,
                                eta=self.reduction_factor, brackets=self.options.brackets)  # type: ignore[attr-defined]
        self._reset()

    def _reset(self) -> None:
        self._runs: list[_BracketRun] = []
        self._run_of: dict[int, int] = {}
        self._open: dict[int, _BracketRun] = {}  # runs with a member that is not final yet
        self._cache: dict[int, list[_Rung]] = {}  # run -> its rungs, until a member changes
        # What a decision reads of each open run, kept up to date for the runs whose members
        # changed since (``_dirty``), so that a decision does not walk every open run: the
        # runs that have a promotion to make or room for a new member (``_ready``), the runs
        # with room (``_roomy``), and each run's paused members that can be stopped.
        self._dirty: set[int] = set()
        self._ready: dict[int, ResumeTrial | None] = {}  # run -> its promotion (None: room only)
        self._roomy: set[int] = set()
        self._retirable: dict[int, list[tuple[int, str]]] = {}

    def _invalidate(self, run: int) -> None:
        self._cache.pop(run, None)
        self._dirty.add(run)

    def _touched(self, info: TrialInfo) -> None:
        run = self._run_of.get(info.trial_id)
        if run is not None:
            self._invalidate(run)

    def _open_runs(self) -> list[_BracketRun]:
        return [self._open[i] for i in sorted(self._open)]

    def _update_open(self, run: _BracketRun) -> None:
        done = len(run.members) >= run.capacity and all(
            self._trials[t].state.is_final for t in run.members if t in self._trials) and all(
            t in self._trials for t in run.members)
        if done:
            self._open.pop(run.index, None)
        else:
            self._open[run.index] = run
        self._dirty.add(run.index)

    def _refresh(self) -> None:
        """Bring the per-run views of the runs that changed up to date."""
        for index in self._dirty:
            self._ready.pop(index, None)
            self._roomy.discard(index)
            self._retirable.pop(index, None)
            run = self._open.get(index)
            if run is None:
                continue
            job = self._job(run)
            room = len(run.members) < run.capacity
            if job is not None or room:
                self._ready[index] = job
            if room:
                self._roomy.add(index)
            retirable = self._retirable_in(run)
            if retirable:
                self._retirable[index] = retirable
        self._dirty.clear()

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        run = self._run_of.get(trial.trial_id)
        if run is not None:
            self._update_open(self._runs[run])

    def _open_run(self) -> _BracketRun:
        index = len(self._runs)
        bracket = index % self.plan.brackets
        run = _BracketRun(index=index, bracket=bracket, capacity=self.plan.size(bracket),
                          levels=self.plan.rungs(bracket))
        self._runs.append(run)
        self._open[index] = run
        self._dirty.add(index)
        return run

    def _filling_run(self) -> _BracketRun:
        self._refresh()
        if self._roomy:
            return self._open[min(self._roomy)]
        return self._open_run()

    def _on_new_trial(self, info: TrialInfo) -> None:
        run = self._filling_run()
        run.members.append(info.trial_id)
        self._run_of[info.trial_id] = run.index
        self._invalidate(run.index)

    def rung_levels(self, trial_id: int) -> list[int]:
        run = self._run_of.get(trial_id)
        return self._runs[run].levels if run is not None else []

    def no_more_arrivals(self) -> None:
        super().no_more_arrivals()
        self._close_runs()

    def _after_restore(self) -> None:
        if self.arrivals_over:
            self._close_runs()
        for run in self._runs:
            self._update_open(run)

    def _close_runs(self) -> None:
        """No more members will come: a partly filled run closes with the ones it has."""
        while self._runs and not self._runs[-1].members:  # opened when the searcher ran dry
            index = self._runs.pop().index
            self._open.pop(index, None)
            self._dirty.add(index)
        for run in self._open_runs():
            run.capacity = min(run.capacity, len(run.members))
            self._invalidate(run.index)
            self._update_open(run)

    # -- rung bookkeeping ---------------------------------------------------------------------

    def _rungs(self, run: _BracketRun) -> list[_Rung]:
        """The rungs of ``run`` up to the lowest one that is not complete (or the last rung)."""
        cached = self._cache.get(run.index)
        if cached is None:
            cached = self._cache[run.index] = self._compute_rungs(run)
        return cached

    def _compute_rungs(self, run: _BracketRun) -> list[_Rung]:
        out: list[_Rung] = []
        current = list(run.members)
        for k, level in enumerate(run.levels):
            infos = [self._trials[t] for t in current if t in self._trials]
            done = len(current) == run.capacity or k > 0
            done = done and len(infos) == len(current)
            done = done and all(i.value_at(level) is not None or i.state.is_final for i in infos)
            out.append(_Rung(k, level, current, done))
            if not done or k == len(run.levels) - 1:
                return out
            scored = sorted((i.value_at(level), i.trial_id) for i in infos
                            if i.value_at(level) is not None)
            keep = max(1, len(current) // self.reduction_factor)
            current = [tid for _, tid in scored[:keep]]
        raise AssertionError("unreachable")

    def _job(self, run: _BracketRun) -> ResumeTrial | None:
        rungs = self._rungs(run)
        top = rungs[-1]
        if top.k == 0:
            return None
        for tid in sorted(top.members):
            info = self._trials[tid]
            if info.state is TrialState.PAUSED and info.last_step < top.level:
                return ResumeTrial(trial_id=tid, resource=top.level,
                                   reason=f"bracket run {run.index}: promote to rung {top.level}")
        return None

    def retire(self) -> list[tuple[int, str]]:
        """The paused members of a complete rung that were not kept for the next one."""
        self._refresh()
        return [item for index in sorted(self._retirable) for item in self._retirable[index]]

    def _retirable_in(self, run: _BracketRun, rungs: list[_Rung] | None = None) -> list[tuple[int, str]]:
        """The paused members of ``run`` that its next rungs left out (``rungs``: the run's
        rungs, its cached ones by default)."""
        out = []
        for rung, nxt in itertools.pairwise(self._rungs(run) if rungs is None else rungs):
            kept = set(nxt.members)
            for tid in sorted(rung.members):
                info = self._trials.get(tid)
                if tid not in kept and info is not None and info.state is TrialState.PAUSED:
                    out.append((tid, f"bracket run {run.index}: not in the top {len(kept)} of "
                                     f"{len(rung.members)} at rung {rung.level}"))
        return out

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        """The first open run (oldest first) with a promotion to make or room for a member."""
        self._refresh()
        if self._ready:
            index = min(self._ready)
            job = self._ready[index]
            if job is not None:
                return job
            return self._start(trial_id, self._open[index], allow_new)
        if not allow_new:
            return None
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
