"""Asynchronous successive halving: stopping (ASHA) and promotion (pause and resume) variants.

With ``brackets > 1`` both become asynchronous Hyperband: each new trial draws its bracket (its
first rung level) with a probability proportional to the bracket's Hyperband size, from a
generator seeded by (seed, trial id), so a restore draws the same brackets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hpsweep.schedulers._brackets import BracketPlan
from hpsweep.schedulers._common import TrackingScheduler, TrialInfo
from hpsweep.trial import Decision, ResumeTrial, StartTrial, Suggestion, TrialState, Verdict

__all__ = ["ASHAScheduler", "PromotionASHAScheduler"]


class _BracketScheduler(TrackingScheduler):
    def __init__(self, *, brackets: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = BracketPlan(min_resource=self.min_resource, max_resource=self.max_resource,
                                eta=self.reduction_factor, brackets=brackets)
        self._bracket: dict[int, int] = {}

    def _reset(self) -> None:
        self._bracket = {}

    def _on_new_trial(self, info: TrialInfo) -> None:
        if self.plan.brackets == 1:
            self._bracket[info.trial_id] = 0
            return
        rng = np.random.default_rng([self.seed if self.seed is not None else 0, info.trial_id, 11])
        self._bracket[info.trial_id] = int(rng.choice(self.plan.brackets, p=self.plan.weights()))

    def bracket_of(self, trial_id: int) -> int:
        return self._bracket.get(trial_id, 0)

    def _rung_values(self, bracket: int, level: int) -> list[tuple[float, int]]:
        """(value, trial id) of the trials of ``bracket`` that reported at ``level``, best first."""
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
        config = self.searcher.suggest(trial_id)
        if config is None:
            return None
        if resource_of == "max":
            return StartTrial(config=config, resource=self.max_resource, reason="new configuration")
        # Bracket drawn the same way _on_new_trial will draw it.
        info = TrialInfo(trial_id=trial_id, config=config)
        self._on_new_trial(info)
        bracket = self._bracket.pop(trial_id)
        level = self.plan.rungs(bracket)[0]
        return StartTrial(config=config, resource=level,
                          reason=f"new configuration in bracket {bracket} up to rung {level}")


class ASHAScheduler(_BracketScheduler):
    """Stops a trial at a rung unless its value is in the top ``1/eta`` of that rung so far."""

    name = "asha"

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        return self._new_trial(trial_id, allow_new, "max")

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        bracket = self.bracket_of(info.trial_id)
        rungs = self.plan.rungs(bracket)
        if step not in rungs or step >= self.max_resource:
            return Verdict(Decision.CONTINUE, f"step {step} is not a rung")
        ranked = self._rung_values(bracket, step)
        keep = max(1, -(-len(ranked) // self.reduction_factor))  # ceil(k / eta)
        cutoff = ranked[keep - 1][0]
        if value <= cutoff:
            return Verdict(Decision.CONTINUE, f"top {keep} of {len(ranked)} at rung {step}")
        return Verdict(Decision.STOP, f"not in top {keep} of {len(ranked)} at rung {step}")


class PromotionASHAScheduler(_BracketScheduler):
    """Pauses every trial at its next rung; a free slot resumes the best paused trial that is in
    the top ``floor(k/eta)`` of its rung (highest rung first), else starts a new configuration.
    """

    name = "promotion"

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        return self._pause_or_continue(info, step, f"value at step {step}")

    def paused_level(self, info: TrialInfo) -> int | None:
        """The rung a paused trial waits at (None: nothing recorded there)."""
        if info.state is not TrialState.PAUSED:
            return None
        rungs = self.plan.rungs(self.bracket_of(info.trial_id))
        reached = [r for r in rungs if r <= info.last_step and info.value_at(r) is not None]
        return reached[-1] if reached else None

    def promotable(self) -> list[tuple[int, int]]:
        """(trial id, next level) of the trials that may be promoted, in promotion order."""
        waiting: dict[tuple[int, int], list[int]] = {}
        for info in self.paused():
            level = self.paused_level(info)
            if level is not None and level < self.max_resource:
                waiting.setdefault((self.bracket_of(info.trial_id), level), []).append(info.trial_id)
        out: list[tuple[int, int]] = []
        for (bracket, level) in sorted(waiting, key=lambda k: (-k[1], k[0])):
            ranked = self._rung_values(bracket, level)
            top = {tid for _, tid in ranked[: len(ranked) // self.reduction_factor]}
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
