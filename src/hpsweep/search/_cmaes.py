"""CMA-ES by Optuna's rule, its state kept by the searcher instead of in the study's trials.

Optuna's ``CmaEsSampler`` keeps its state in the study: each trial it samples carries the
generation it was sampled in, and the trial whose ask completed a generation carries the
optimizer, pickled after the update. Every ask scans the whole study for them, so a study of
``n`` trials costs ``O(n)`` per ask, and rebuilding a resumed study (asking every stored trial
again) costs ``O(n^2)``: 10 s of CPU at 4,000 trials. :class:`CmaEsHistory` keeps the same facts
indexed as trials are asked and end (the generation of each sampled trial, the optimizer stored
on a trial, the completed trials of each generation, the intersection of the completed trials'
distributions), so an ask costs the same at trial 10,000 as at trial 10, and a resumed study is
rebuilt by :meth:`CmaEsHistory.ask` with ``sample=False`` in the order things happened: the
generations are told once each, nothing is sampled.

The rule is Optuna's (5.x, ``CmaEsSampler`` with hpsweep's settings: ``n_startup_trials``,
warm start from ``source_trials``, no margin, no separable CMA, no restarts) over the public
``cmaes.CMA``, step for step, so the suggestions are those Optuna's sampler makes for the same
seeds; ``tests/search/test_cmaes_history.py`` compares the two and fails when either moves:

- an ask with fewer completed trials than ``n_startup_trials``, or an empty relative space,
  samples every parameter independently (``RandomSampler`` with the trial's seed);
- otherwise the optimizer is the one stored on the highest-numbered *completed* trial that
  holds one (a fresh one, warm-started from the source trials when given, if none does); when
  the completed trials sampled in its generation number at least its population, the first
  ``population`` of them (by trial number) are told, and the updated optimizer is stored on the
  asking trial (visible once that trial completes);
- the optimizer's generator is reseeded with ``randint(1, 2**16) + trial number`` from a
  generator seeded by the trial's seed (after one draw for a fresh optimizer's seed), then asked.

Private use of Optuna: ``optuna._transform._SearchSpaceTransform`` maps the relative search
space to the unit cube and back (log scales, integer and step rounding), exactly as Optuna's
sampler does; reimplementing it would risk suggestions that drift from Optuna's. The comparison
test above fails when it moves or changes.
"""

from __future__ import annotations

import bisect
import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna._transform import _SearchSpaceTransform  # private: see the module docstring
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

__all__ = ["CmaEsHistory", "HistoryCmaEsSampler", "population_size"]

_EPS = 1e-10  # Optuna's floor on the initial step size

Solutions = list[tuple[dict[str, Any], dict[str, BaseDistribution], float]]
"""Completed trials as (params, distributions, value)."""
Source = Callable[[], Solutions | None]
"""A warm start's source trials, asked when CMA-ES starts a fresh optimizer (None: none)."""


class CmaEsHistory:
    """The facts Optuna's CMA-ES reads from a study, indexed; one per searcher.

    ``minimize``: the study's direction. Feed it with :meth:`on_complete` for every trial that
    becomes COMPLETE in the study (sampled by CMA-ES or not, in the order they complete) and
    ask through :meth:`ask` (or :class:`HistoryCmaEsSampler`) for every trial CMA-ES samples.
    """

    def __init__(self, *, minimize: bool) -> None:
        self._sign = 1.0 if minimize else -1.0
        self.completed = 0
        self._space: dict[str, BaseDistribution] | None = None
        self._done: list[tuple[int, dict[str, Any], dict[str, BaseDistribution], float]] = []
        self._generation: dict[int, int] = {}  # trial number -> generation it was sampled in
        # trial number -> optimizer pickled after a tell (or the tell, recorded by a replay)
        self._stored: dict[int, bytes | _Tell] = {}
        self._latest = -1  # the highest-numbered completed trial holding an optimizer
        self._latest_optimizer: Any = None  # unpickled from it (asked from, never told)
        self._members: dict[int, list[int]] = {}  # generation -> its completed trials' numbers
        self._solution: dict[int, tuple[dict[str, Any], float]] = {}  # number -> (params, value)
        # number -> (generation, population, dimension) of the optimizer stored on it
        self._shape: dict[int, tuple[int, int, int]] = {}
        # (optimizer told from, the trials told) -> the result: Optuna tells a generation again
        # at each ask until the trial holding its result completes; the result is the same.
        self._told: dict[tuple[int, tuple[int, ...]], _Tell] = {}

    # -- what the study tells ------------------------------------------------------------------

    def on_complete(self, number: int, params: dict[str, Any],
                    distributions: dict[str, BaseDistribution], value: float) -> None:
        """Trial ``number`` became COMPLETE with ``value`` (the value the study holds)."""
        self.completed += 1
        self._done.append((number, params, distributions, value))
        if self._space is None:
            self._space = dict(distributions)
        else:
            self._space = {name: dist for name, dist in self._space.items()
                           if distributions.get(name) == dist}
        generation = self._generation.get(number)
        if generation is not None:
            bisect.insort(self._members.setdefault(generation, []), number)
            self._solution[number] = (params, value)
        if number in self._stored and number > self._latest:
            self._latest = number
            self._latest_optimizer = None

    def search_space(self) -> dict[str, BaseDistribution]:
        """The relative search space: the completed trials' common numeric distributions with
        more than one value, by name (Optuna's ``IntersectionSearchSpace`` less categoricals)."""
        return {name: dist for name, dist in sorted((self._space or {}).items())
                if isinstance(dist, (FloatDistribution, IntDistribution)) and not dist.single()}

    def source_solutions(self, before: int) -> Solutions:
        """Completed trials numbered below ``before``, by number (a warm start's source)."""
        return [(p, d, v) for n, p, d, v in sorted(self._done, key=lambda t: t[0]) if n < before]

    # -- asks ------------------------------------------------------------------------------------

    def ask(self, number: int, search_space: dict[str, BaseDistribution], *, seed: int,
            n_startup_trials: int, source: Source | None = None,
            sample: bool = True) -> dict[str, Any]:
        """The relative parameters of trial ``number`` (``{}``: sample them independently).

        ``sample=False`` records the ask (its generation, and the tell it made) without drawing
        and without telling: a resumed study's replay, whose parameters are already known. The
        tells it records are made when an optimizer they lead to is first needed, so resuming
        a finished study tells nothing.
        """
        if not search_space or self.completed < n_startup_trials:
            return {}
        fresh = self._latest < 0
        dim = len(search_space)  # a numeric parameter is one column of the transform
        if fresh:
            generation, population, shape_dim = 0, population_size(dim), dim
        else:
            generation, population, shape_dim = self._shape[self._latest]
        if shape_dim != dim:
            return {}
        members = self._members.get(generation, [])
        trans: _SearchSpaceTransform | None = None
        optimizer: Any = None
        if len(members) >= population:
            told = tuple(members[:population])
            warm = source() if fresh and source is not None else None
            if sample:
                trans = _transform(search_space)
                optimizer = (self._initial(trans, search_space, warm) if fresh
                             # a pristine copy, as Optuna unpickles one for every ask
                             else pickle.loads(self._pickled(self._latest)))
                optimizer.tell(self._solutions(trans, told))
                self._stored[number] = pickle.dumps(optimizer)
            else:
                # Optuna tells a generation again at each ask until the trial that holds its
                # result completes; the same tell from the same optimizer is recorded once.
                key = (self._latest, told)
                pending = None if fresh else self._told.get(key)
                if pending is None:
                    pending = _Tell(self._latest, told, dict(search_space), warm)
                    if not fresh:
                        self._told[key] = pending
                self._stored[number] = pending
            generation += 1
            self._shape[number] = (generation, population, dim)
        self._generation[number] = generation
        if not sample:
            return {}
        if trans is None:
            trans = _transform(search_space)
        if optimizer is None:
            optimizer = (self._initial(trans, search_space, source() if source else None)
                         if fresh else self._restored())
        rng = np.random.RandomState(seed)
        if fresh:
            rng.randint(1, 2**31 - 2)  # the draw a fresh optimizer's seed takes in Optuna
        optimizer.reseed_rng(int(rng.randint(1, 2**16)) + number)
        return dict(trans.untransform(optimizer.ask()))

    def _solutions(self, trans: _SearchSpaceTransform,
                   told: tuple[int, ...]) -> list[tuple[np.ndarray, float]]:
        return [(trans.transform(self._solution[n][0]), self._sign * self._solution[n][1])
                for n in told]

    def _pickled(self, number: int) -> bytes:
        """The optimizer stored on trial ``number``, pickled; a recorded tell is made now,
        after the ones it depends on (in order, without recursion)."""
        entry = self._stored[number]
        if isinstance(entry, bytes):
            return entry
        chain: list[_Tell] = []
        step: _Tell = entry
        while step.result is None:
            chain.append(step)
            before = self._stored.get(step.source)
            if step.source < 0 or not isinstance(before, _Tell):
                break
            step = before
        for tell in reversed(chain):
            trans = _transform(tell.space)
            if tell.source < 0:
                optimizer = self._initial(trans, tell.space, tell.warm)
            else:
                before = self._stored[tell.source]
                pickled = before if isinstance(before, bytes) else before.result
                assert pickled is not None  # made earlier in this loop
                optimizer = pickle.loads(pickled)
            optimizer.tell(self._solutions(trans, tell.told))
            tell.result = pickle.dumps(optimizer)
        assert entry.result is not None
        self._stored[number] = entry.result
        return entry.result

    def _restored(self) -> Any:
        # Asking mutates only the optimizer's generator (reseeded before each ask) and its
        # cached eigen decomposition (a function of the covariance), so one unpickled copy
        # serves every ask until the next optimizer becomes visible.
        if self._latest_optimizer is None:
            self._latest_optimizer = pickle.loads(self._pickled(self._latest))
        return self._latest_optimizer

    def _initial(self, trans: _SearchSpaceTransform, search_space: dict[str, BaseDistribution],
                 warm: Solutions | None) -> Any:
        import cmaes

        lower, upper = trans.bounds[:, 0], trans.bounds[:, 1]
        cov = None
        if warm is None:
            mean = lower + (upper - lower) / 2
            sigma0 = float(np.min((upper - lower) / 6))
        else:
            space = set(search_space)
            solutions = [(trans.transform(p), self._sign * v) for p, d, v in warm
                         if len(space & d.keys()) == len(space) == len(d)]
            if not solutions:
                raise ValueError("No compatible source_trials")
            mean, sigma0, cov = cmaes.get_warm_start_mgd(solutions)
        return cmaes.CMA(mean=mean, sigma=max(sigma0, _EPS), cov=cov, bounds=trans.bounds,
                         seed=0, n_max_resampling=10 * len(trans.bounds))


def population_size(dim: int) -> int:
    """``cmaes.CMA``'s default population for ``dim`` dimensions (``4 + floor(3 ln dim)``)."""
    return 4 + math.floor(3 * math.log(dim))


def _transform(search_space: dict[str, BaseDistribution]) -> _SearchSpaceTransform:
    return _SearchSpaceTransform(search_space, transform_step=True, transform_0_1=True)


@dataclass
class _Tell:
    """A tell recorded by a replay: the optimizer stored on trial ``source`` (-1: a fresh one,
    from ``warm`` when given) told the trials ``told``; ``result`` once made."""

    source: int
    told: tuple[int, ...]
    space: dict[str, BaseDistribution]
    warm: Solutions | None
    result: bytes | None = None


class HistoryCmaEsSampler(optuna.samplers.BaseSampler):
    """One trial's CMA-ES sampler over a searcher's :class:`CmaEsHistory`.

    ``source``: a warm start's source trials when the optimizer is fresh (None: no warm start).
    """

    def __init__(self, history: CmaEsHistory, *, seed: int, n_startup_trials: int = 1,
                 source: Source | None = None) -> None:
        self._history = history
        self._seed = seed
        self._n_startup = n_startup_trials
        self._source = source
        self._independent = optuna.samplers.RandomSampler(seed=seed)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, BaseDistribution]:
        return self._history.search_space()

    def sample_relative(self, study: Any, trial: Any,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self._history.ask(trial.number, search_space, seed=self._seed,
                                 n_startup_trials=self._n_startup, source=self._source)

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Any, trial: Any) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self._independent.after_trial(study, trial, state, values)
