"""Model-based searchers: Optuna's samplers (TPE, GP, CMA-ES, QMC, NSGA-II) through ask/tell.

The searcher keeps an in-memory Optuna study. ``suggest`` asks it for a trial and builds the
configuration define-by-run (conditional parameters are suggested only when active); the
results are told back when a trial ends. Each ask uses a fresh sampler seeded from
``(seed, trial id)``, so a suggestion is a function of the seed, the id it is asked for and the
history, never of how many times the controller started. :meth:`OptunaSearcher.restore`
walks the history once in the order it happened (each trial asked at its creation time, told at
its end time), so a rebuilt study is the study an uninterrupted controller had, and continues
exactly where it was; the walk is linear in the number of trials (10,000 trials in well under a
second, ``benchmarks/restore_bench.py``).

Departures from Optuna's own use of its samplers: the GP sampler is built afresh for every ask
(Optuna keeps one and warm-starts each kernel fit from the previous fit, which makes the fit a
function of the whole path of fits rather than of the history, so a resumed study could not
repeat it); every sampler is seeded per trial instead of once per study. CMA-ES and QMC keep
their state in the searcher instead of in the study (``search/_cmaes.py``'s
:class:`~hpsweep.search._cmaes.CmaEsHistory`, :class:`~hpsweep.search._samplers.CountedQMCSampler`),
with Optuna's rule and the same suggestions, so that neither an ask nor a restore scans the
study.

Example:
    >>> from hpsweep.space import SearchSpace
    >>> space = SearchSpace().add_float("lr", 1e-5, 1e-1, log=True)  # doctest: +SKIP
    >>> searcher = OptunaSearcher(space, metric="loss", mode="min", seed=0)  # doctest: +SKIP
    >>> config = searcher.suggest(0)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState as OptunaState

from hpsweep.errors import UsageError
from hpsweep.search._cmaes import CmaEsHistory, HistoryCmaEsSampler
from hpsweep.search._optuna_space import SpaceMapping
from hpsweep.search._replay import Replay as _Replay
from hpsweep.search._replay import suggested as _suggested
from hpsweep.search._samplers import (
    SAMPLERS,
    CachedSpaceSampler,
    CountedQMCSampler,
    auto_switch_trial,
    choose_auto,
    make_optuna_sampler,
)
from hpsweep.search.base import Mode, Searcher
from hpsweep.trial import ErrorKind, TrialRecord, TrialState, objective_value

if TYPE_CHECKING:
    from hpsweep.space import SearchSpace

__all__ = ["OptunaSearcher"]

_WARM_START_MIN = 10  # CMA-ES's warm start needs a top tenth of at least one trial


@contextlib.contextmanager
def _quiet_optuna(name: str = "optuna.study.study") -> Iterator[None]:
    """Silence Optuna's INFO lines from logger ``name`` (the study's per-trial line by default)
    for one call, then put the logger back.

    ``Logger.disabled`` is a plain attribute (setting a level would clear every logger's cache);
    the library configures no logging of its own.
    """
    logger = logging.getLogger(name)
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


def _check_mode(mode: str, what: str) -> Mode:
    if mode not in ("min", "max"):
        raise UsageError(f"{what} must be 'min' or 'max', got {mode!r}.")
    return "min" if mode == "min" else "max"


class OptunaSearcher(Searcher):
    """An Optuna sampler as a :class:`~hpsweep.search.base.Searcher`.

    ``sampler``: ``tpe`` (constant liar for parallel trials), ``gp``, ``cmaes``, ``qmc``,
    ``random``, ``nsga2`` (several objectives) or ``auto`` (see
    :func:`hpsweep.search._samplers.choose_auto`). ``metrics``/``modes`` make it multi-objective
    (every metric is read from the finished trial). ``points_to_evaluate`` are tried first
    (warm start; missing parameters are sampled). ``budget``: the study's number of trials when
    known (only ``auto`` uses it). NaN results are told as the worst value seen
    so far, crashes as failed trials, trials stopped early as pruned (with their reports).
    """

    _unwritten: _Replay | None  # a restored history not yet written to the study

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: Mode,
        seed: int | None,
        sampler: str = "tpe",
        metrics: Sequence[str] | None = None,
        modes: Sequence[Mode] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        n_startup_trials: int | None = None,
        budget: int | None = None,
    ) -> None:
        if sampler not in SAMPLERS:
            raise UsageError(
                f"sampler {sampler!r} is unknown; choose one of {', '.join(SAMPLERS)}."
            )
        names = list(metrics) if metrics else [metric]
        dirs = list(modes) if modes else [mode] * len(names)
        if len(dirs) != len(names):
            raise UsageError(
                f"got {len(names)} metrics {names} but {len(dirs)} modes {dirs}; "
                "give one mode per metric."
            )
        if len(set(names)) != len(names):
            raise UsageError(f"metrics must be distinct, got {names}.")
        if sampler == "cmaes" and len(names) > 1:
            raise UsageError(
                f"sampler 'cmaes' optimises one objective, but got metrics {names}; "
                "use sampler 'tpe' or 'nsga2' for several."
            )
        if n_startup_trials is not None and n_startup_trials < 0:
            raise UsageError(f"n_startup_trials must be >= 0, got {n_startup_trials}.")
        if budget is not None and (
            isinstance(budget, bool) or not isinstance(budget, int) or budget < 1
        ):
            raise UsageError(
                f"budget must be a number of trials >= 1 or None (unknown), got {budget!r}."
            )
        dirs = [_check_mode(m, f"mode of metric {n!r}") for n, m in zip(names, dirs)]
        super().__init__(space, metric=names[0], mode=dirs[0], seed=seed)
        self.sampler_name = sampler
        self.metrics: list[str] = names
        self.modes: list[Mode] = dirs
        self.n_startup_trials = n_startup_trials
        self.budget = budget
        self._base_seed = int(seed) if seed is not None else int(
            np.random.SeedSequence().generate_state(1)[0]
        )
        self._mapping = SpaceMapping(space)
        self._points = [self._check_point(i, p) for i, p in enumerate(points_to_evaluate or [])]
        self.last_choice: str = sampler
        self._reset()
        self._enqueue_points(0)

    # -- public ------------------------------------------------------------------------------

    @property
    def study(self) -> optuna.Study:
        """The in-memory Optuna study (read it, do not tell it)."""
        self._write_restored()
        return self._study

    @property
    def is_multi_objective(self) -> bool:
        return len(self.metrics) > 1

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        self._write_restored()
        self._study.sampler = self._sampler_for(int(trial_id))
        trial = self._study.ask()
        config = self._mapping.build(self._suggester(trial))
        self._count += 1
        self._live[trial_id] = trial
        return config

    def on_report(
        self, trial_id: int, config: dict[str, Any], step: int | None, value: float
    ) -> None:
        self._write_restored()
        trial = self._live.get(trial_id)
        if trial is None or self.is_multi_objective or step is None or not math.isfinite(value):
            return
        steps = self._reported.setdefault(trial_id, set())
        if step in steps or step < 0:
            return
        steps.add(step)
        trial.report(float(value), int(step))

    def on_trial_complete(self, trial: TrialRecord) -> None:
        self._write_restored()
        live = self._live.pop(trial.trial_id, None)
        state, values = self._outcome(trial)
        if live is not None:
            if state == OptunaState.PRUNED:  # reports the scheduler did not pass on
                self._report_all(live, trial, skip=self._reported.get(trial.trial_id, set()))
            with _quiet_optuna():
                self._study.tell(live, values, state=state)
            self._reported.pop(trial.trial_id, None)
            self._note(state, values, live.number, live.params, live.distributions)
            return
        self._add_finished(trial, state, values)

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        """Rebuild the Optuna study from the store's trials, in the order things happened.

        The history is walked once in event order: each suggested trial is asked at its
        creation time and, when it has ended, told (values, intermediate reports) at its end
        time; trials the searcher did not suggest (repetition laps, reruns) are added when they
        ended, as :meth:`on_trial_complete` adds them. Records without times (``created`` 0)
        fall back to trial-id order, each told right after it was asked. The walk numbers the
        trials as the live study did and replays what the samplers with state kept by the
        searcher (CMA-ES's generations, QMC's position) or in the study (NSGA-II's generation
        of each trial and parents of each generation, ``_nsga2.py``) did at each ask, without
        sampling; the
        study is then written in trial-number order: ended trials are added whole, unfinished
        ones are asked (they stay running, so the constant liar and the GP's pending points see
        them). Linear in the number of trials: nothing scans the study per trial. The study is
        written when it is first used (a suggestion, a report, an end, :attr:`study`), from what
        the walk read: later changes to ``trials`` do not reach it.
        """
        self._reset()
        events: list[tuple[float, int, int, TrialRecord]] = []
        for order, record in enumerate(sorted(trials, key=lambda t: t.trial_id)):
            asked = float(record.created or 0.0)
            if _suggested(record):
                events.append((asked, 2 * order, 0, record))
            if record.state.is_final:
                end = record.finished if record.finished is not None and asked > 0 else asked
                events.append((max(float(end), asked), 2 * order + 1, 1, record))
        # Ties (and records without times) keep trial-id order, each ask before its own tell.
        events.sort(key=lambda e: (e[0], e[1]) if e[0] > 0 else (0.0, e[1]))
        replay = _Replay(self, n_points=len(self._points))
        for _, _, kind, record in events:
            if kind == 0:
                replay.ask(record)
            else:
                replay.end(record)
        self._unwritten = replay

    def _write_restored(self) -> None:
        """Write the study a :meth:`restore` walked (on the first use of the study after it,
        so that resuming a finished study does not build one it never asks)."""
        if self._unwritten is not None:
            replay, self._unwritten = self._unwritten, None
            replay.write()

    # -- internals ---------------------------------------------------------------------------

    def _reset(self) -> None:
        directions = [
            optuna.study.StudyDirection.MINIMIZE if m == "min"
            else optuna.study.StudyDirection.MAXIMIZE
            for m in self.modes
        ]
        with _quiet_optuna("optuna.storages._in_memory"):
            self._study = optuna.create_study(
                directions=directions, sampler=optuna.samplers.RandomSampler(seed=self._base_seed)
            )
        self._live: dict[int, optuna.trial.Trial] = {}
        self._unwritten = None
        self._reported: dict[int, set[int]] = {}
        self._count = 0
        self._values: list[float] = []
        self._space_cache: dict[str, Any] = {}
        # Sampler state kept by the searcher rather than in the study (see restore).
        self._cma = CmaEsHistory(minimize=self.modes[0] == "min")
        self._qmc_counts: dict[str, int] = {}

    def _check_point(self, index: int, point: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(point, Mapping):
            raise UsageError(
                f"points_to_evaluate[{index}] must be a mapping of parameter names to values, "
                f"got {point!r}."
            )
        params: dict[str, Any] = {}
        for name, value in point.items():
            if name not in self._mapping.names:
                raise UsageError(
                    f"points_to_evaluate[{index}]: {name!r} is not a parameter of the space "
                    f"(parameters: {', '.join(self._mapping.names)}); remove it or fix its name."
                )
            if self._mapping.distribution(name) is None:
                continue
            raw = self._mapping.to_optuna_value(name, value)
            if raw is None:
                raise UsageError(
                    f"points_to_evaluate[{index}]: value {value!r} of {name!r} lies outside the "
                    "space; give a value the parameter can take."
                )
            params[name] = raw
        return params

    def _enqueue_points(self, already_run: int) -> None:
        for params in self._points[already_run:]:
            self._study.enqueue_trial(params, skip_if_exists=False)

    def _seed_for(self, trial_id: int) -> int:
        return int(np.random.SeedSequence([self._base_seed, trial_id]).generate_state(1)[0])

    def _choice_for(self, k: int) -> str:
        if self.sampler_name != "auto":
            return self.sampler_name
        return choose_auto(
            continuous=self._mapping.is_continuous,
            n_dims=len(self._mapping.numeric_names),
            n_objectives=len(self.metrics),
            trial_number=k,
            budget=self.budget,
        ).sampler

    def _sampler_for(self, trial_id: int) -> optuna.samplers.BaseSampler:
        """A sampler for ``trial_id``, seeded from ``(seed, trial_id)``."""
        choice = self._choice_for(trial_id)
        self.last_choice = choice
        if choice == "cmaes":
            if len(self.metrics) > 1:  # only ``auto`` gets here; it never picks CMA-ES then
                raise UsageError("sampler 'cmaes' optimises one objective.")
            return HistoryCmaEsSampler(self._cma, seed=self._seed_for(trial_id),
                                       n_startup_trials=self.n_startup_trials or 1,
                                       source=self._warm_start_source())
        if choice == "qmc":
            # QMC keeps one scrambled sequence for the whole study: its seed must not change.
            sampler: optuna.samplers.BaseSampler = CountedQMCSampler(
                self._qmc_counts, seed=self._base_seed)
        else:
            sampler = make_optuna_sampler(
                choice,
                seed=self._seed_for(trial_id),
                n_objectives=len(self.metrics),
                n_startup_trials=self.n_startup_trials,
                conditional=not self._mapping.is_unconditional,
            )
        if self._mapping.is_unconditional:
            return CachedSpaceSampler(sampler, self._space_cache, choice)
        return sampler

    def _warm_start_source(self) -> Callable[[], list[Any] | None] | None:
        """For ``auto``'s CMA-ES: the completed trials numbered below the hand-over with every
        numeric parameter (CMA-ES estimates its start from their best tenth), or None when
        there are too few; asked only when CMA-ES starts a fresh optimizer."""
        if self.sampler_name != "auto":
            return None
        before = auto_switch_trial(self.budget)
        numeric = set(self._mapping.numeric_names)

        def source() -> list[Any] | None:
            done = [t for t in self._cma.source_solutions(before) if numeric <= t[0].keys()]
            return done if len(done) >= _WARM_START_MIN else None

        return source

    @staticmethod
    def _suggester(trial: optuna.trial.Trial) -> Any:
        def suggest(name: str, dist: BaseDistribution) -> Any:
            if isinstance(dist, FloatDistribution):
                return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
            if isinstance(dist, IntDistribution):
                return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
            assert isinstance(dist, CategoricalDistribution)
            return trial.suggest_categorical(name, dist.choices)

        return suggest

    def _ask_fixed(self, params: dict[str, Any]) -> optuna.trial.Trial:
        """Ask a trial whose parameters are ``params`` (a stored trial still running); no
        sampler is consulted."""
        self._study.sampler = optuna.samplers.RandomSampler(seed=0)
        with _quiet_optuna():
            self._study.enqueue_trial(params, skip_if_exists=False)
            trial = self._study.ask()
            self._mapping.build(self._suggester(trial))
        return trial

    def _report_all(self, live: optuna.trial.Trial, record: TrialRecord,
                    skip: set[int] | None = None) -> None:
        for step, value in self._intermediate(record).items():
            if skip is None or step not in skip:
                live.report(value, step)

    def _intermediate(self, record: TrialRecord) -> dict[int, float]:
        if self.is_multi_objective:
            return {}
        values: dict[int, float] = {}
        for report in record.reports:
            value = objective_value(report.metrics, self.metric)
            if report.step is not None and report.step >= 0 and value is not None \
                    and math.isfinite(value):
                values.setdefault(int(report.step), value)
        return values

    def _outcome(self, record: TrialRecord) -> tuple[OptunaState, list[float] | None]:
        """How Optuna should see a finished trial: state and values."""
        if record.state == TrialState.COMPLETED:
            values = [record.value(m) for m in self.metrics]
            if all(v is not None and math.isfinite(v) for v in values):
                return OptunaState.COMPLETE, [float(v) for v in values if v is not None]
        if record.state == TrialState.STOPPED and not self.is_multi_objective:
            return OptunaState.PRUNED, None
        nan = record.error_kind == ErrorKind.NAN or any(
            (v := record.value(m)) is not None and math.isnan(v) for m in self.metrics
        )
        if nan and not self.is_multi_objective and self._values:
            worst = max(self._values) if self.mode == "min" else min(self._values)
            return OptunaState.COMPLETE, [worst]
        return OptunaState.FAIL, None

    def _note(self, state: OptunaState, values: list[float] | None, number: int,
              params: dict[str, Any], dists: dict[str, BaseDistribution]) -> None:
        """A trial became final in the study as trial ``number``."""
        if state == OptunaState.COMPLETE and values and not self.is_multi_objective:
            self._values.append(values[0])
            self._cma.on_complete(number, params, dists, values[0])

    def _frozen(self, params: dict[str, Any], dists: dict[str, BaseDistribution],
                intermediate: dict[int, float], state: OptunaState, values: list[float] | None,
                *, told: bool, system_attrs: dict[str, Any] | None = None,
                ) -> optuna.trial.FrozenTrial:
        """A trial that ended, as the study holds it: ``told`` as a trial the searcher asked
        (a pruned one then carries its last report as its value, as ``Study.tell`` gives it)
        or added as :meth:`_add_finished` adds it (a failed one then without its reports)."""
        if state == OptunaState.FAIL and not told:
            intermediate = {}
        if told and state == OptunaState.PRUNED and intermediate:
            values = [intermediate[max(intermediate)]]
        # What ``optuna.trial.create_trial`` makes, without its validation: ``Study.add_trial``
        # validates the trial again.
        now = datetime.datetime.now()
        return _StoredTrial(
            number=-1, trial_id=-1, state=state, value=None, values=values, datetime_start=now,
            datetime_complete=now if state.is_finished() else None, params=dict(params),
            distributions=dict(dists), user_attrs={}, system_attrs=dict(system_attrs or {}),
            intermediate_values=dict(intermediate),
        )

    def _add_finished(
        self, record: TrialRecord, state: OptunaState, values: list[float] | None
    ) -> None:
        params, dists = self._mapping.to_optuna(record.config)
        frozen = self._frozen(params, dists, self._intermediate(record), state, values,
                              told=False)
        self._study.add_trial(frozen)
        self._count += 1
        number = len(self._study.get_trials(deepcopy=False)) - 1
        self._note(state, values, number, frozen.params, frozen.distributions)


class _StoredTrial(optuna.trial.FrozenTrial):
    """A finished trial written into the study by the searcher, which Optuna's in-memory
    storage copies cheaply: ``InMemoryStorage`` deep-copies every trial added to it and every
    list of trials it hands out, and a deep copy of a frozen trial copies each distribution
    object through ``copy``'s generic protocol (about 100 us a trial, a second for 10,000
    trials). Here the containers are copied, the attributes deeply, and the distributions,
    parameter values and dates, which nothing changes in place, are shared.

    Private use of Optuna: the copy names ``FrozenTrial``'s private fields (``_params``,
    ``_distributions``, ``_values``, ``_user_attrs``, ``_system_attrs``); if Optuna renames
    them, ``tests/search/test_optuna_searcher.py::test_a_restored_trial_copies_as_optuna_copies_it``
    fails."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _StoredTrial:
        import copy

        new = object.__new__(type(self))
        state = dict(self.__dict__)
        for name in ("_params", "_distributions", "intermediate_values"):
            state[name] = dict(state[name])
        if state.get("_values") is not None:
            state["_values"] = list(state["_values"])
        for name in ("_user_attrs", "_system_attrs"):
            state[name] = copy.deepcopy(state[name], memo) if state[name] else {}
        new.__dict__.update(state)
        return new
