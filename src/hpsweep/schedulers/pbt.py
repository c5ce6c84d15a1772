"""Population based training: exploit a better trial's checkpoint, explore around its configuration.

Trials run in intervals of ``perturbation_interval``. Until the population is full, a free slot
starts a new configuration. Afterwards the paused trial furthest behind is resumed for one more
interval; if its value at that level is in the bottom ``quantile_fraction`` of the trials that
reached the level, it first copies the checkpoint of a paused or finished trial from the top
quantile (``checkpoint_from``) and continues with that trial's configuration, perturbed (each
parameter is resampled with ``resample_probability``, else moved by a factor 0.8 / 1.2 or to a
neighbouring choice; a move that would leave the range takes the other factor, or a fresh draw,
instead of being clipped to the bound).

Departures from the paper (Jaderberg et al., "Population Based Training of Neural Networks",
2017): the population trains asynchronously in slots rather than all at once; a donor is never a
running trial (its checkpoint may be half written) nor one already at the full budget (copying
it would only end the copy at once with the donor's value). The population is ``--num-trials``
configurations, or ``population_size`` when that is smaller (8 when neither is given).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsweep.schedulers._common import TrackingScheduler, TrialInfo, linear_rungs
from hpsweep.schedulers._encode import space_params
from hpsweep.schedulers._options import FidelityOptions, option
from hpsweep.space import Categorical, Float, Int
from hpsweep.trial import ResumeTrial, StartTrial, Suggestion, TrialState, Verdict

__all__ = ["PBTOptions", "PBTScheduler", "perturb_config"]

DEFAULT_POPULATION = 8


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
            out[p.name] = _move(p, float(config[p.name]), rng)
    return out


def _move(p: Float | Int, value: float, rng: np.random.Generator) -> float | int:
    """``value`` times 0.8 or 1.2; the other factor when that one leaves the range, and a fresh
    draw when both do. Nothing is clipped to a bound, so perturbed configurations do not pile up
    on the edges of the box."""
    factors = (1.2, 0.8) if rng.random() < 0.5 else (0.8, 1.2)
    for factor in factors:
        moved = value * factor
        if isinstance(p, Int):
            moved = round(moved)
        if p.low <= moved <= p.high and moved != value:
            return int(moved) if isinstance(p, Int) else float(moved)
    drawn = p.sample(rng)
    return int(drawn) if isinstance(p, Int) else float(drawn)


@dataclass(frozen=True)
class PBTOptions(FidelityOptions):
    perturbation_interval: int | None = option(None, "budget between exploit/explore steps",
                                               minimum=1, derived="min_resource")
    population_size: int | None = option(None, "configurations in the population", minimum=2,
                                         derived="--num-trials, else 8")
    quantile_fraction: float = option(0.25, "bottom share that exploits the top share", kind=float,
                                      minimum=0.01, maximum=0.5)
    resample_probability: float = option(0.25, "chance that explore resamples a parameter", kind=float,
                                         minimum=0.0, maximum=1.0)


class PBTScheduler(TrackingScheduler):
    """Population based training over intervals of ``perturbation_interval`` resource units."""

    name = "pbt"
    Options = PBTOptions
    pauses = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        opts: PBTOptions = self.options  # type: ignore[assignment]
        interval = opts.perturbation_interval
        self.perturbation_interval = interval if interval is not None else self.min_resource
        self.quantile_fraction = opts.quantile_fraction
        self.resample_probability = opts.resample_probability
        self.population_size = opts.population_size or DEFAULT_POPULATION
        self.levels = linear_rungs(self.perturbation_interval, self.max_resource,
                                   self.perturbation_interval)

    def on_study_start(self, num_trials: int | None) -> None:
        super().on_study_start(num_trials)
        given = self.options.population_size  # type: ignore[attr-defined]
        sizes = [n for n in (given, num_trials) if n is not None]
        self.population_size = min(sizes) if sizes else DEFAULT_POPULATION

    def rung_levels(self, trial_id: int) -> Sequence[int]:
        return self.levels

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
        donors = [tid for _, tid in ranked[:n_q] if self._can_donate(tid)]
        if info.trial_id not in bottom or not donors:
            target = self._next_level(level)
            return ResumeTrial(trial_id=info.trial_id, resource=target,
                               reason=f"continue to {target} (not in the bottom {n_q} at {level})"
                               if info.trial_id not in bottom else
                               f"continue to {target} (no top trial at {level} is free to copy)")
        rng = self._rng(salt=5)
        donor = self._trials[donors[int(rng.integers(len(donors)))]]
        config = perturb_config(donor.config, space_params(self.searcher.space), rng,
                                resample_probability=self.resample_probability)
        target = self._next_level(donor.last_step)
        return ResumeTrial(trial_id=info.trial_id, resource=target, config=config,
                           checkpoint_from=donor.trial_id,
                           reason=f"exploit trial {donor.trial_id} (top {n_q} at {level}), "
                                  f"explore its configuration, continue to {target}")

    def _can_donate(self, trial_id: int) -> bool:
        donor = self._trials[trial_id]
        return donor.state is not TrialState.RUNNING and donor.last_step < self.max_resource
