"""Asynchronous successive halving: stopping (ASHA) and promotion (pause and resume) variants.

With ``brackets > 1`` both become asynchronous Hyperband: each new trial draws its bracket (its
first rung level) with a probability proportional to the bracket's Hyperband size, from a
generator seeded by (seed, trial id), so a restore draws the same brackets.

A rung is reached at the first report with a step at or above its level. Departures from the
papers (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020): once no
new configuration can start, promotion takes the top ``max(1, floor(k/eta))`` of each rung instead
of ``floor(k/eta)``, so that a study of any size brings at least one trial of every bracket to
the full budget; the paused trials that can then never be promoted are stopped with that reason.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsweep.schedulers._brackets import BracketPlan
from hpsweep.schedulers._common import TrackingScheduler, TrialInfo, top_count
from hpsweep.schedulers._options import HalvingOptions, option
from hpsweep.schedulers.base import new_configuration
from hpsweep.trial import Decision, ResumeTrial, Suggestion, TrialState, Verdict

__all__ = [
    "ASHAOptions",
    "ASHAScheduler",
    "PromotionASHAScheduler",
    "PromotionHyperbandOptions",
    "PromotionHyperbandScheduler",
]


@dataclass(frozen=True)
class ASHAOptions(HalvingOptions):
    brackets: int | None = option(1, "Hyperband brackets (1 is successive halving)", minimum=1,
                                  derived="all")


@dataclass(frozen=True)
class PromotionHyperbandOptions(ASHAOptions):
    brackets: int | None = option(None, "Hyperband brackets (1 is successive halving)", minimum=1,
                                  derived="all")


class _BracketScheduler(TrackingScheduler):
    Options = ASHAOptions

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = BracketPlan(min_resource=self.min_resource, max_resource=self.max_resource,
                                eta=self.reduction_factor, brackets=self.options.brackets)  # type: ignore[attr-defined]
        self._bracket: dict[int, int] = {}

    def _reset(self) -> None:
        self._bracket = {}

    def _on_new_trial(self, info: TrialInfo) -> None:
        self._bracket[info.trial_id] = self._draw_bracket(info.trial_id)

    def _draw_bracket(self, trial_id: int) -> int:
        if self.plan.brackets == 1:
            return 0
        rng = np.random.default_rng([self.seed if self.seed is not None else 0, trial_id, 11])
        return int(rng.choice(self.plan.brackets, p=self.plan.weights()))

    def bracket_of(self, trial_id: int) -> int:
        return self._bracket.get(trial_id, 0)

    def rung_levels(self, trial_id: int) -> Sequence[int]:
        return self.plan.rungs(self.bracket_of(trial_id))

    def group_of(self, trial_id: int) -> int:
        return self.bracket_of(trial_id)

    def _new_trial(self, trial_id: int, allow_new: bool, resource_of: str) -> Suggestion | None:
        if not allow_new:
            return None
        if resource_of == "max":
            return new_configuration(self.searcher, trial_id, self.max_resource)
        bracket = self._draw_bracket(trial_id)  # the bracket _on_new_trial will record
        level = self.plan.rungs(bracket)[0]
        return new_configuration(self.searcher, trial_id, level,
                                 f"new configuration in bracket {bracket} up to rung {level}")


class ASHAScheduler(_BracketScheduler):
    """Stops a trial at a rung unless its value is in the top ``1/eta`` of that rung so far."""

    name = "asha"

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        return self._new_trial(trial_id, allow_new, "max")

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        bracket = self.bracket_of(info.trial_id)
        levels = [lv for lv in info.crossed if lv < self.max_resource]
        if not levels:
            return Verdict(Decision.CONTINUE, f"step {step} reaches no new rung")
        why = ""
        for level in levels:
            ranked = self.ranking(bracket, level)
            keep = max(1, -(-len(ranked) // self.reduction_factor))  # ceil(k / eta)
            mine = info.at_rung[level]
            if mine > ranked[keep - 1][0]:
                return Verdict(Decision.STOP, f"not in top {keep} of {len(ranked)} at rung {level}")
            why = f"top {keep} of {len(ranked)} at rung {level}"
        return Verdict(Decision.CONTINUE, why)


class PromotionASHAScheduler(_BracketScheduler):
    """Pauses every trial at its next rung; a free slot resumes the best paused trial that is in
    the top ``floor(k/eta)`` of its rung (highest rung first), else starts a new configuration.
    """

    name = "promotion"
    pauses = True

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        return self._pause_or_continue(info, step, f"value at step {step}")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # (bracket, rung) -> heap of (value, trial id) of the trials paused there; entries of
        # trials that moved on are dropped when they come to the top.
        self._wait: dict[tuple[int, int], list[tuple[float, int]]] = {}
        self._waits_at: dict[int, tuple[int, int]] = {}
        self._running_in: dict[int, set[int]] = {}  # bracket -> its running trials
        self._paused_in: dict[int, set[int]] = {}  # bracket -> its paused trials

    def _reset(self) -> None:
        super()._reset()
        self._wait, self._waits_at, self._running_in, self._paused_in = {}, {}, {}, {}

    def paused_level(self, info: TrialInfo) -> int | None:
        """The rung a paused trial waits at (None: nothing recorded there)."""
        if info.state is not TrialState.PAUSED:
            return None
        reached = [r for r in self.rung_levels(info.trial_id)
                   if r <= info.last_step and info.value_at(r) is not None]
        return reached[-1] if reached else None

    def _set_state(self, info: TrialInfo, state: TrialState) -> None:
        bracket, tid = self.bracket_of(info.trial_id), info.trial_id
        super()._set_state(info, state)
        for index, wanted in ((self._running_in, TrialState.RUNNING), (self._paused_in, TrialState.PAUSED)):
            if state is wanted:
                index.setdefault(bracket, set()).add(tid)
            else:
                index.get(bracket, set()).discard(tid)
        self._waits_at.pop(info.trial_id, None)
        level = self.paused_level(info)
        if level is not None and level < self.max_resource:
            key = (bracket, level)
            self._waits_at[info.trial_id] = key
            heapq.heappush(self._wait.setdefault(key, []), (info.at_rung[level], info.trial_id))

    def _best_waiting(self, key: tuple[int, int]) -> tuple[float, int] | None:
        heap = self._wait.get(key)
        while heap and self._waits_at.get(heap[0][1]) != key:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def promotable(self) -> list[tuple[int, int]]:
        """(trial id, next level): for each rung, in promotion order (highest rung first), its
        best paused trial when that one is in the top ``floor(k/eta)`` of the rung."""
        out: list[tuple[int, int]] = []
        for key in sorted(self._wait, key=lambda k: (-k[1], k[0])):
            best = self._best_waiting(key)
            if best is None:
                continue
            ranked = self.ranking(*key)
            n_top = top_count(len(ranked), self.reduction_factor, at_least_one=self.arrivals_over)
            if ranked.bisect_left(best) < n_top:
                nxt = self.plan.next_level(key[1])
                assert nxt is not None
                out.append((best[1], nxt))
        return out

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        candidates = self.promotable()
        if candidates:
            tid, level = candidates[0]
            return ResumeTrial(trial_id=tid, resource=level,
                               reason=f"promote trial {tid} to rung {level} (top 1/{self.reduction_factor})")
        return self._new_trial(trial_id, allow_new, "rung")

    def retire(self) -> list[tuple[int, str]]:
        """After the last configuration: the paused trials of a bracket with nothing running and
        nothing left to promote can never move on."""
        if not self.arrivals_over:
            return []
        idle = [b for b, paused in self._paused_in.items() if paused and not self._running_in.get(b)]
        if not idle:
            return []
        busy = {self.bracket_of(tid) for tid, _ in self.promotable()}
        out = []
        for tid in sorted(t for b in idle if b not in busy for t in self._paused_in[b]):
            key = self._waits_at.get(tid)
            if key is None:
                if self._trials[tid].last_step < self.max_resource:
                    out.append((tid, "paused without a value at any rung"))
                continue
            k = len(self.ranking(*key))
            n_top = top_count(k, self.reduction_factor, at_least_one=True)
            out.append((tid, f"not in the top {n_top} of {k} at rung {key[1]} after the last "
                             "configuration"))
        return out


class PromotionHyperbandScheduler(PromotionASHAScheduler):
    """Promotion ASHA over every Hyperband bracket (asynchronous Hyperband)."""

    name = "hyperband-promotion"
    Options = PromotionHyperbandOptions
