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
    brackets: int | None = option(1, "Hyperband brackets (1: successive halving)", minimum=1)


@dataclass(frozen=True)
class PromotionHyperbandOptions(ASHAOptions):
    brackets: int | None = option(None, "Hyperband brackets (default: all of them)", minimum=1)


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

    def _rung_values(self, bracket: int, level: int) -> list[tuple[float, int]]:
        """(value, trial id) of the trials of ``bracket`` that reached ``level``, best first."""
        out = [
            (value, t.trial_id)
            for t in self._trials.values()
            if self._bracket.get(t.trial_id) == bracket and (value := t.value_at(level)) is not None
        ]
        out.sort()
        return out

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
            ranked = self._rung_values(bracket, level)
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

    def paused_level(self, info: TrialInfo) -> int | None:
        """The rung a paused trial waits at (None: nothing recorded there)."""
        if info.state is not TrialState.PAUSED:
            return None
        reached = [r for r in self.rung_levels(info.trial_id)
                   if r <= info.last_step and info.value_at(r) is not None]
        return reached[-1] if reached else None

    def _waiting(self) -> dict[tuple[int, int], list[int]]:
        """(bracket, rung level) -> the paused trials waiting there below the maximum."""
        waiting: dict[tuple[int, int], list[int]] = {}
        for info in self.paused():
            level = self.paused_level(info)
            if level is not None and level < self.max_resource:
                waiting.setdefault((self.bracket_of(info.trial_id), level), []).append(info.trial_id)
        return waiting

    def promotable(self) -> list[tuple[int, int]]:
        """(trial id, next level) of the trials that may be promoted, in promotion order."""
        waiting = self._waiting()
        out: list[tuple[int, int]] = []
        for (bracket, level) in sorted(waiting, key=lambda k: (-k[1], k[0])):
            ranked = self._rung_values(bracket, level)
            n_top = top_count(len(ranked), self.reduction_factor, at_least_one=self.arrivals_over)
            top = {tid for _, tid in ranked[:n_top]}
            nxt = self.plan.next_level(level)
            assert nxt is not None
            out += [(tid, nxt) for _, tid in ranked if tid in top and tid in waiting[(bracket, level)]]
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
        busy = {self.bracket_of(t.trial_id) for t in self._trials.values()
                if t.state is TrialState.RUNNING}
        busy |= {self.bracket_of(tid) for tid, _ in self.promotable()}
        out = []
        for (bracket, level), tids in sorted(self._waiting().items()):
            if bracket in busy:
                continue
            k = len(self._rung_values(bracket, level))
            n_top = top_count(k, self.reduction_factor, at_least_one=True)
            out += [(tid, f"not in the top {n_top} of {k} at rung {level} after the last "
                          "configuration") for tid in sorted(tids)]
        # Paused with nothing recorded at any rung (no report reached one): nothing to rank by.
        ranked = {tid for tid, _ in out}
        for info in self.paused():
            if info.trial_id not in ranked and self.paused_level(info) is None \
                    and self.bracket_of(info.trial_id) not in busy:
                out.append((info.trial_id, "paused without a value at any rung"))
        return out


class PromotionHyperbandScheduler(PromotionASHAScheduler):
    """Promotion ASHA over every Hyperband bracket (asynchronous Hyperband)."""

    name = "hyperband-promotion"
    Options = PromotionHyperbandOptions
