"""Optuna sampler construction by name, and the rule behind ``auto``."""

from __future__ import annotations

import importlib.util
import json
import warnings
from dataclasses import dataclass
from typing import Any

import optuna

from hpsweep.errors import UsageError

__all__ = [
    "AUTO_GP_BUDGET",
    "AUTO_GP_MAX_DIMS",
    "AUTO_SWITCH_TRIAL",
    "SAMPLERS",
    "AutoChoice",
    "CachedSpaceSampler",
    "CountedQMCSampler",
    "auto_switch_trial",
    "choose_auto",
    "make_optuna_sampler",
    "qmc_space_key",
    "torch_available",
]

SAMPLERS = ("tpe", "gp", "cmaes", "qmc", "random", "nsga2", "auto")
"""Sampler names :class:`~hpsweep.search.optuna.OptunaSearcher` accepts."""

AUTO_SWITCH_TRIAL = 100
"""``auto`` on a continuous space with no known budget: GP for trials
``0..AUTO_SWITCH_TRIAL-1``, CMA-ES afterwards."""

AUTO_GP_MAX_DIMS = 20
"""``auto`` uses the GP/CMA-ES path only up to this many searched numeric parameters."""

AUTO_GP_BUDGET = 150
"""``auto`` on a continuous space with a known budget: up to this many trials GP for the whole
budget, above it CMA-ES from the first trial."""


def torch_available() -> bool:
    """Whether Optuna's GP sampler can run (it needs PyTorch)."""
    return importlib.util.find_spec("torch") is not None


@dataclass(frozen=True)
class AutoChoice:
    """What ``auto`` picked for one trial and why."""

    sampler: str
    reason: str


def auto_switch_trial(budget: int | None) -> int:
    """The trial number at which ``auto`` hands a small continuous space from GP to CMA-ES
    (0: CMA-ES from the first trial); see :func:`choose_auto`."""
    if budget is None:
        return AUTO_SWITCH_TRIAL
    if budget <= AUTO_GP_BUDGET:
        return budget
    return 0


def choose_auto(
    *, continuous: bool, n_dims: int, n_objectives: int, trial_number: int,
    budget: int | None = None,
) -> AutoChoice:
    """The ``auto`` rule; ``budget`` is the study's number of trials when the caller knows it.

    - several objectives, categorical choices, conditional parameters or more than
      :data:`AUTO_GP_MAX_DIMS` numeric parameters → TPE (handles all of them, cheap per trial);
    - otherwise (a small, all-numeric space), by budget:

      - known and above :data:`AUTO_GP_BUDGET` → CMA-ES from the first trial;
      - known and at most :data:`AUTO_GP_BUDGET` → Gaussian-process BO for the whole budget
        (trials past it, should the study be extended without a new budget, go to CMA-ES
        warm-started from the GP trials);
      - unknown → GP for the first :data:`AUTO_SWITCH_TRIAL` trials, then CMA-ES started at a
        distribution estimated from the GP phase's best trials (warm-started CMA-ES);

    - without PyTorch the GP phase falls back to TPE.

    The figures behind it (``benchmarks/RESULTS.md``, issue 5; median simple regret over 10
    seeds on Branin, Hartmann6, Rosenbrock-10D, Ackley-10D): after 100 evaluations GP is best
    or tied-best on all four (Hartmann6 0.0003 against 0.19 for CMA-ES, Ackley-10D 7.6 against
    10.4); after 300 evaluations CMA-ES run from the first trial is best or tied-best on three
    (Branin 2e-9, Rosenbrock-10D 199, Ackley-10D 4.0), while GP for 100 trials followed by
    warm-started CMA-ES is on none (Branin 2e-6, Rosenbrock-10D 203, Ackley-10D 5.4; it does
    better only on Hartmann6, 0.0003 against 0.003): the handover costs more than the GP phase
    gains once the budget is large. GP is also slow past a few hundred trials (its cost grows
    with the cube of the trial count). The switch at :data:`AUTO_GP_BUDGET` lies between the two
    measured budgets.
    """
    if n_objectives > 1:
        return AutoChoice("tpe", "several objectives")
    if not continuous:
        return AutoChoice("tpe", "categorical or conditional parameters")
    if n_dims > AUTO_GP_MAX_DIMS:
        return AutoChoice("tpe", f"{n_dims} numeric parameters > {AUTO_GP_MAX_DIMS}")
    switch = auto_switch_trial(budget)
    if switch == 0:
        return AutoChoice("cmaes", f"continuous space, budget {budget} > {AUTO_GP_BUDGET}")
    if trial_number >= switch:
        return AutoChoice("cmaes", f"continuous space, trial {trial_number} >= {switch}")
    if not torch_available():
        return AutoChoice("tpe", "continuous space, small budget, but PyTorch is missing for GP")
    return AutoChoice("gp", f"continuous space, trial {trial_number} < {switch}")


def make_optuna_sampler(
    name: str,
    *,
    seed: int,
    n_objectives: int,
    n_startup_trials: int | None = None,
    source_trials: list[optuna.trial.FrozenTrial] | None = None,
    conditional: bool = False,
) -> optuna.samplers.BaseSampler:
    """A fresh Optuna sampler; the searcher makes one per trial with a per-trial seed."""
    startup: dict[str, Any] = (
        {} if n_startup_trials is None else {"n_startup_trials": n_startup_trials}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            # ``group`` lets multivariate TPE model conditional (define-by-run) spaces.
            return optuna.samplers.TPESampler(
                seed=seed, constant_liar=True, group=conditional and n_objectives == 1, **startup
            )
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False, **startup)
        if name == "cmaes":
            if n_objectives > 1:
                raise UsageError(
                    "sampler 'cmaes' optimises one objective, but got "
                    f"{n_objectives} metrics; use sampler 'tpe' or 'nsga2' for several."
                )
            return optuna.samplers.CmaEsSampler(
                seed=seed, source_trials=source_trials or None, warn_independent_sampling=False,
                n_startup_trials=n_startup_trials or 1,
            )
        if name == "qmc":
            # Scrambled, so the seed matters and no point sits exactly on the centre or a corner
            # of the space (plain Sobol starts there, which flatters centred test functions).
            return optuna.samplers.QMCSampler(seed=seed, scramble=True,
                                              warn_independent_sampling=False)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed)
    raise UsageError(f"sampler {name!r} is unknown; choose one of {', '.join(SAMPLERS)}.")


class CachedSpaceSampler(optuna.samplers.BaseSampler):
    """Delegates to ``inner`` but remembers its relative search space in ``cache``.

    For a space without conditions every trial suggests the same parameters, so the relative
    search space never changes once it is known; keeping it in a cache owned by the searcher
    spares each fresh per-trial sampler Optuna's scan over every past trial.
    """

    def __init__(self, inner: optuna.samplers.BaseSampler, cache: dict[str, Any], key: str) -> None:
        self.inner = inner
        self._cache = cache
        self._key = key

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        known = self._cache.get(self._key)
        if known is not None:
            return dict(known)
        space = self.inner.infer_relative_search_space(study, trial)
        if space:
            self._cache[self._key] = dict(space)
        return space

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        return self.inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: Any) -> Any:
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Any, trial: Any) -> None:
        self.inner.before_trial(study, trial)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()


def qmc_space_key(search_space: dict[str, Any]) -> str:
    """The key of one QMC sequence: its search space, by name (as Optuna keys it)."""
    return json.dumps({name: str(dist) for name, dist in sorted(search_space.items())})


class CountedQMCSampler(optuna.samplers.QMCSampler):
    """Optuna's scrambled Sobol sampler whose position in the sequence is kept in ``counts``
    (owned by the searcher, one entry per search space) instead of in the study's system
    attributes, so that a resumed study sets the position from the count of its QMC trials
    instead of sampling each of them again.

    Private use of Optuna: it overrides ``QMCSampler._find_sample_id`` (Optuna 5), the one
    method that reads and advances the position. If Optuna renames it, the override is no
    longer called and a resumed QMC study restarts its sequence:
    ``tests/search/test_resume_exact.py`` (qmc) then fails.
    """

    def __init__(self, counts: dict[str, int], *, seed: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            super().__init__(seed=seed, scramble=True, warn_independent_sampling=False)
        self._counts = counts

    def _find_sample_id(self, study: Any, search_space: dict[str, Any]) -> int:
        key = qmc_space_key(search_space)
        sample_id = self._counts.get(key, 0)
        self._counts[key] = sample_id + 1
        return sample_id
