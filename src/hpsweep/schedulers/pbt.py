"""Population based training: exploit a better trial's checkpoint, explore around its configuration.

Trials run in intervals of ``perturbation_interval``. Until the population is full, a free slot
starts a new configuration. Afterwards the paused trial furthest behind is resumed for one more
interval; if its value at that level is in the bottom ``quantile_fraction`` of the trials that
reached the level, it first copies the checkpoint of a trial from the top quantile
(``checkpoint_from``) and continues with that trial's configuration, perturbed (each parameter
is resampled with ``resample_probability``, else moved by a factor 0.8 / 1.2 or to a neighbouring
choice).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hpsweep.errors import UsageError
from hpsweep.schedulers._common import TrackingScheduler, TrialInfo, check_positive_int, linear_rungs
from hpsweep.schedulers._encode import space_params
from hpsweep.space._params import Categorical, Float, Int
from hpsweep.trial import ResumeTrial, StartTrial, Suggestion, Verdict

__all__ = ["PBTScheduler", "perturb_config"]


def perturb_config(config: dict[str, Any], params: list[Any], rng: np.random.Generator, *,
                   resample_probability: float) -> dict[str, Any]:
    """A perturbed copy of ``config`` (parameters absent from it are left out)."""
    out = dict(config)
    for p in params:
        if p.name not in config or not isinstance(p, (Float, Int, Categorical)):
            continue
        if rng.random() < resample_probability:
            out[p.name] = p.sample(rng)
        elif isinstance(p, Categorical):
            idx = next((i for i, c in enumerate(p.choices) if c == config[p.name]), 0)
            idx = min(max(idx + (1 if rng.random() < 0.5 else -1), 0), len(p.choices) - 1)
            out[p.name] = p.choices[idx]
        else:
            value = float(config[p.name]) * (1.2 if rng.random() < 0.5 else 0.8)
            value = min(max(value, p.low), p.high)
            out[p.name] = round(value) if isinstance(p, Int) else float(value)
    return out


class PBTScheduler(TrackingScheduler):
    """Population based training over intervals of ``perturbation_interval`` resource units."""

    name = "pbt"

    def __init__(self, *, perturbation_interval: int | None = None, population_size: int = 8,
                 quantile_fraction: float = 0.25, resample_probability: float = 0.25,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        interval = perturbation_interval if perturbation_interval is not None else self.min_resource
        self.perturbation_interval = check_positive_int("perturbation_interval", interval)
        self.population_size = check_positive_int("population_size", population_size, minimum=2)
        if not 0.0 < quantile_fraction <= 0.5:
            raise UsageError(f"quantile_fraction must be in (0, 0.5], got {quantile_fraction!r}.")
        if not 0.0 <= resample_probability <= 1.0:
            raise UsageError(f"resample_probability must be in [0, 1], got {resample_probability!r}.")
        self.quantile_fraction = quantile_fraction
        self.resample_probability = resample_probability
        self.levels = linear_rungs(self.perturbation_interval, self.max_resource,
                                   self.perturbation_interval)

    def _decide(self, info: TrialInfo, step: int, value: float) -> Verdict:
        return self._pause_or_continue(info, step, f"value at step {step}")

    def _next_level(self, step: int) -> int:
        return next((lv for lv in self.levels if lv > step), self.max_resource)

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        if allow_new and len(self._trials) < self.population_size:
            config = self.searcher.suggest(trial_id)
            if config is not None:
                return StartTrial(config=config, resource=self.levels[0],
                                  reason=f"population member {len(self._trials) + 1}/"
                                         f"{self.population_size}")
        paused = sorted((t for t in self.paused() if t.values and t.last_step < self.max_resource),
                        key=lambda t: (t.last_step, t.trial_id))
        if not paused:
            return None
        info = paused[0]
        level = info.last_step
        ranked = sorted((v, t.trial_id) for t in self._trials.values()
                        if (v := t.value_at(level)) is not None and math.isfinite(v))
        n_q = max(1, int(len(ranked) * self.quantile_fraction))
        bottom = {tid for _, tid in ranked[-n_q:]} if len(ranked) >= 2 * n_q + 1 else set()
        if info.trial_id not in bottom:
            target = self._next_level(level)
            return ResumeTrial(trial_id=info.trial_id, resource=target,
                               reason=f"continue to {target} (not in the bottom {n_q} at {level})")
        rng = self._rng(salt=5)
        donor = self._trials[ranked[int(rng.integers(n_q))][1]]
        config = perturb_config(donor.config, space_params(self.searcher.space), rng,
                                resample_probability=self.resample_probability)
        target = self._next_level(max(level, donor.last_step))
        return ResumeTrial(trial_id=info.trial_id, resource=target, config=config,
                           checkpoint_from=donor.trial_id,
                           reason=f"exploit trial {donor.trial_id} (top {n_q} at {level}), "
                                  f"explore its configuration, continue to {target}")
