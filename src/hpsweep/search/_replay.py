"""The walk of a stored history that ``OptunaSearcher.restore`` makes (see its docstring).

Kept apart from ``optuna.py`` because it is the one part that knows, per sampler, what the
sampler would have done at each ask: CMA-ES's generations and QMC's position (kept by the
searcher), NSGA-II's generations and parents (kept in the study, ``_nsga2.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState as OptunaState

from hpsweep.search._nsga2 import Nsga2Replay
from hpsweep.search._samplers import make_optuna_sampler, qmc_space_key
from hpsweep.trial import TrialRecord

if TYPE_CHECKING:
    from hpsweep.search.optuna import OptunaSearcher


def suggested(record: TrialRecord) -> bool:
    """Whether the searcher suggested ``record`` (repetition laps and reruns it did not)."""
    return record.repetition == 0 and "rerun_of" not in (record.run_info or {})


class Replay:
    """One walk of a stored history for :meth:`OptunaSearcher.restore`.

    :meth:`ask` and :meth:`end` take the events in the order they happened: they number the
    trials as the live study numbered them (the waiting points first), compute how each ended
    (the worst value so far stands in for NaN) and replay the samplers whose state the searcher
    keeps (CMA-ES through its history, QMC's position); :meth:`write` then writes the study in
    trial-number order.
    """

    def __init__(self, searcher: OptunaSearcher, *, n_points: int) -> None:
        self.s = searcher
        self.n_points = n_points
        self.next_number = n_points
        self.asked = 0
        self.number: dict[int, int] = {}  # trial id -> number, while it runs
        self.converted: dict[int, tuple[dict[str, Any], dict[str, BaseDistribution]]] = {}
        # number -> (trial id, params, distributions, reports, state (None: running), values,
        # told): what the walk read, so that a later change to a record does not reach the study
        self.slots: dict[int, tuple[int, dict[str, Any], dict[str, BaseDistribution],
                                    dict[int, float], OptunaState | None, list[float] | None,
                                    bool]] = {}
        self.running: dict[int, dict[str, BaseDistribution]] = {}
        self.first_finished: tuple[int, dict[str, BaseDistribution]] | None = None
        self.qmc_space: dict[str, BaseDistribution] | None = None
        # NSGA-II's generations and parents, which it keeps in the study
        self.nsga2 = None
        if searcher.sampler_name == "nsga2":
            sampler = make_optuna_sampler("nsga2", seed=0, n_objectives=len(searcher.metrics))
            assert isinstance(sampler, optuna.samplers.NSGAIISampler)
            self.nsga2 = Nsga2Replay(sampler, searcher._study)

    def ask(self, record: TrialRecord) -> None:
        s = self.s
        fixed: Mapping[str, Any] = {}
        if self.asked < self.n_points:
            number, fixed = self.asked, s._points[self.asked]
        else:
            number = self.next_number
            self.next_number += 1
        self.asked += 1
        s._count += 1
        self.number[record.trial_id] = number
        params, dists = self._convert(record)
        self.slots[number] = (record.trial_id, params, dists, self.s._intermediate(record), None,
                              None, True)
        # The sampler is consulted when a parameter is neither fixed nor single-valued.
        if any(name not in fixed and not d.single() for name, d in dists.items()):
            choice = s._choice_for(record.trial_id)
            if choice == "cmaes":
                s._cma.ask(number, s._cma.search_space(), seed=0,
                           n_startup_trials=s.n_startup_trials or 1,
                           source=s._warm_start_source(), sample=False)
            elif choice == "qmc":
                space = self._qmc_relative_space()
                if space:
                    key = qmc_space_key(space)
                    s._qmc_counts[key] = s._qmc_counts.get(key, 0) + 1
            elif choice == "nsga2" and self.nsga2 is not None:
                self.nsga2.ask(number)
        self.running[number] = dists

    def _convert(self, record: TrialRecord) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
        converted = self.converted.get(record.trial_id)
        if converted is None:
            converted = self.converted[record.trial_id] = self.s._mapping.to_optuna(record.config)
        return converted

    def _qmc_relative_space(self) -> dict[str, BaseDistribution]:
        """What ``QMCSampler.infer_relative_search_space`` saw: the lowest-numbered finished
        (complete or pruned) trial's distributions, or, before any, the union of the running
        trials'; kept once known in a space without conditions (``CachedSpaceSampler``)."""
        if self.qmc_space:
            return self.qmc_space
        if self.first_finished is not None:
            space = dict(self.first_finished[1])
        else:
            space = {}
            for dists in self.running.values():
                space.update(dists)
        if self.s._mapping.is_unconditional and space:
            self.qmc_space = space
        return space

    def end(self, record: TrialRecord) -> None:
        s = self.s
        state, values = s._outcome(record)
        number = self.number.pop(record.trial_id, None)
        told = number is not None and suggested(record)
        if number is None:
            number = self.next_number
            self.next_number += 1
            s._count += 1
        self.running.pop(number, None)
        params, dists = self._convert(record)
        self.slots[number] = (record.trial_id, params, dists, s._intermediate(record), state,
                              values, told)
        if state in (OptunaState.COMPLETE, OptunaState.PRUNED) and (
                self.first_finished is None or number < self.first_finished[0]):
            self.first_finished = (number, dists)
        if self.nsga2 is not None:
            self.nsga2.end(number, state, values, params, dists)
        s._note(state, values, number, params, dists)

    def write(self) -> None:
        s = self.s
        for number in range(self.next_number):
            slot = self.slots.get(number)
            if slot is None:  # a point still waiting for its trial holds this number
                s._study.enqueue_trial(s._points[number], skip_if_exists=False)
                continue
            trial_id, params, dists, intermediate, state, values, told = slot
            attrs = self.nsga2.attrs(number) if self.nsga2 is not None else {}
            if state is None:
                live = s._live[trial_id] = s._ask_fixed(params)
                for key, value in attrs.items():
                    s._study._storage.set_trial_system_attr(live._trial_id, key, value)
                for step, value in intermediate.items():
                    live.report(value, step)
            else:
                s._study.add_trial(s._frozen(params, dists, intermediate, state, values,
                                             told=told, system_attrs=attrs))
        if self.nsga2 is not None:
            self.nsga2.write(s._study)
