"""What Optuna's NSGA-II sampler writes into a study while it samples, rebuilt from a history.

``NSGAIISampler`` keeps its state in the study, not in the sampler: each trial it samples gets
its generation as a trial system attribute (computed from the completed trials at that moment),
and the first trial of each generation fixes that generation's parents (an elite selection over
the previous generation and its parents) as a study system attribute. A study rebuilt from the
store without them would number the generations from the resumed trials only and select parents
from whatever has completed by then, so a resumed NSGA-II study would differ from an
uninterrupted one after its first generation.

:class:`Nsga2Replay` takes the asks and ends of a stored history in the order they happened
(see ``OptunaSearcher.restore``) and computes both as the sampler did, without sampling:
linear in the trials, plus one elite selection per generation. :meth:`Nsga2Replay.write`
puts the parents into the rebuilt study; the generations go onto the trials as they are
written (:meth:`Nsga2Replay.attrs`).

Private use of Optuna (5.x): the generation key and parent-cache prefix of
``NSGAIISampler`` (``_get_generation_key``, ``_get_parent_cache_key_prefix``), its population
size and elite selection strategy (``_population_size``, ``_elite_population_selection_strategy``),
and the rule of ``BaseGASampler.get_trial_generation``. If Optuna changes them, the test
``tests/search/test_resume_exact.py::test_nsga2_restores_its_generations_and_parents`` fails.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState as OptunaState


class Nsga2Replay:
    """The generations and parent populations of an NSGA-II study, replayed ask by ask."""

    def __init__(self, sampler: optuna.samplers.NSGAIISampler, study: optuna.Study) -> None:
        self._key = type(sampler)._get_generation_key()
        self._prefix = type(sampler)._get_parent_cache_key_prefix()
        self._size = int(sampler._population_size or 0)
        self._select = sampler._elite_population_selection_strategy
        self._study = study  # read for its directions only
        self.generation: dict[int, int] = {}  # trial number -> generation
        self._complete: dict[int, optuna.trial.FrozenTrial] = {}  # number -> as the study has it
        self._members: dict[int, list[int]] = {}  # generation -> its completed trials' numbers
        self.parents: dict[int, list[int]] = {}  # generation -> parent trial numbers

    def ask(self, number: int) -> None:
        """Trial ``number`` is asked and samples a parameter (Optuna then calls the sampler's
        ``sample_relative``, whatever the relative search space): it gets its generation, and
        the first trial of a generation fixes the generation's parents."""
        top = max(self._members, default=0)
        count = len(self._members.get(top, ()))
        generation = top if count < self._size else top + 1
        self.generation[number] = generation
        self._parents(generation)

    def _parents(self, generation: int) -> list[int]:
        if generation == 0:
            return []
        known = self.parents.get(generation)
        if known is None:
            population = [self._complete[n] for n in sorted(self._members.get(generation - 1, ()))]
            population += [self._complete[n] for n in sorted(self._parents(generation - 1))]
            known = self.parents[generation] = [t.number for t in self._select(self._study, population)]
        return known

    def end(self, number: int, state: OptunaState, values: list[float] | None,
            params: dict[str, Any], dists: dict[str, BaseDistribution]) -> None:
        """Trial ``number`` ended in the study as ``state`` with ``values``."""
        if state != OptunaState.COMPLETE or values is None:
            return
        attrs = self.attrs(number)
        self._complete[number] = optuna.trial.FrozenTrial(
            number=number, trial_id=number, state=state, value=None, values=values,
            datetime_start=None, datetime_complete=None, params=params, distributions=dists,
            user_attrs={}, system_attrs=attrs, intermediate_values={})
        if number in self.generation:
            self._members.setdefault(self.generation[number], []).append(number)

    def attrs(self, number: int) -> dict[str, Any]:
        """The system attributes the sampler gave trial ``number``."""
        return {self._key: self.generation[number]} if number in self.generation else {}

    def write(self, study: optuna.Study) -> None:
        """Put the parent populations into ``study`` (trial ids are trial numbers there: a
        fresh in-memory study written in number order)."""
        for generation, numbers in sorted(self.parents.items()):
            study._storage.set_study_system_attr(study._study_id, self._prefix + str(generation),
                                                 list(numbers))
