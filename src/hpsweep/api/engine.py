"""The Python API's search: ``SearchEngine(config).search(objective, space) -> SearchResult``.

The objective is a function, ``f(params) -> float | dict`` or ``f(params, trial) -> float | dict``
(``trial.report(value_or_metrics, step)``, ``trial.should_prune()``, ``trial.resource``,
``trial.trial_dir``). It runs in child processes (``n_jobs`` at a time, each killed after
``timeout_per_trial`` seconds) through the same Tuner and study folder as the command line, so
``hpsweep report <study_dir>/<study_name>`` works on an API study and a killed search resumes.

Example:
    >>> from hpsweep.api import SearchConfig, SearchEngine
    >>> from hpsweep.space import SearchSpace
    >>> space = SearchSpace().add_float("x", -5.0, 5.0)
    >>> engine = SearchEngine(SearchConfig(strategy="random", n_trials=5, metric="loss",
    ...                                    direction="minimize", study_dir=tmp))  # doctest: +SKIP
    >>> result = engine.search(lambda p: (p["x"] - 1) ** 2, space)  # doctest: +SKIP
    >>> engine.best_params()  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hpsweep.errors import StudyError, UsageError
from hpsweep.executors.function import FunctionExecutor, accepts_trial
from hpsweep.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hpsweep.space import SearchSpace

__all__ = ["SearchConfig", "SearchEngine", "SearchResult"]

Objective = Callable[..., Any]

_STRATEGIES = ("grid", "random", "bayesian", "hyperband")
_SAMPLERS = ("tpe", "cmaes", "random", "gp", "qmc", "auto")
_PRUNERS = ("asha", "hyperband", "median")
_NEEDS_MAX = ("asha", "hyperband", "median")


@dataclass
class SearchConfig:
    """How to search (seed 004's configuration surface).

    ``strategy``: ``grid`` | ``random`` | ``bayesian`` (model-based, ``sampler`` picks the model:
    ``tpe`` | ``cmaes`` | ``random`` | ``gp``, plus ``qmc`` and ``auto``) | ``hyperband``
    (random configurations under synchronous Hyperband). ``enable_pruning`` with ``pruner``
    ``asha`` | ``hyperband`` | ``median`` stops poor trials early from what they report through
    ``trial.report``; every pruner (and the ``hyperband`` strategy) needs ``max_resource`` (the
    step the objective reports up to, e.g. its number of epochs). Pruning applies only to objectives that take the
    ``trial`` argument. A paused Hyperband trial is run again up to the larger ``trial.resource``
    (keep a checkpoint in ``trial.trial_dir`` to continue instead of starting over).

    Budgets besides ``n_trials``, the first met ends the search: ``timeout`` (seconds for the
    whole search, as Optuna's ``optimize(timeout=...)``) and ``resource_budget`` (the sum over
    trials of the largest step each reported). ``scheduler_options`` are the pruner's own options
    by their names in its spec (``hpsweep.schedulers.scheduler_options(name)``), e.g.
    ``{"brackets": 1}``; one it does not take is refused.
    """

    strategy: str = "bayesian"
    n_trials: int = 100
    metric: str = "val_accuracy"
    direction: str = "maximize"
    sampler: str = "tpe"
    enable_pruning: bool = True
    pruner: str = "asha"
    min_resource: int = 1
    reduction_factor: int = 3
    study_dir: str = "studies/"
    study_name: str = "brain_ai_search"
    n_jobs: int = 1
    timeout_per_trial: float | None = 3600
    seed: int | None = None
    max_resource: int | None = None
    timeout: float | None = None
    resource_budget: float | None = None
    scheduler_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise :class:`UsageError` naming the field, its value and the fix."""
        _choice("strategy", self.strategy, _STRATEGIES)
        _choice("direction", self.direction, ("maximize", "minimize"))
        _choice("sampler", self.sampler, _SAMPLERS)
        _choice("pruner", self.pruner, _PRUNERS)
        for name, low in (("n_trials", 1), ("n_jobs", 1), ("min_resource", 1),
                          ("reduction_factor", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"SearchConfig.{name} must be an integer >= {low}, got {value!r}.")
        if self.max_resource is not None and (
            isinstance(self.max_resource, bool) or not isinstance(self.max_resource, int)
            or self.max_resource < self.min_resource
        ):
            raise UsageError(
                f"SearchConfig.max_resource must be an integer >= min_resource "
                f"({self.min_resource}), got {self.max_resource!r}."
            )
        if self.timeout_per_trial is not None and not (
            isinstance(self.timeout_per_trial, (int, float)) and self.timeout_per_trial > 0
        ):
            raise UsageError(
                "SearchConfig.timeout_per_trial must be a number of seconds > 0 (or None for "
                f"no limit), got {self.timeout_per_trial!r}."
            )
        if not isinstance(self.metric, str) or not self.metric:
            raise UsageError(f"SearchConfig.metric must be a non-empty name, got {self.metric!r}.")
        if not isinstance(self.study_name, str) or not self.study_name or "/" in self.study_name:
            raise UsageError(
                f"SearchConfig.study_name must be a folder name without '/', got "
                f"{self.study_name!r}."
            )

    @property
    def mode(self) -> Literal["min", "max"]:
        return "min" if self.direction == "minimize" else "max"

    @property
    def study_path(self) -> Path:
        return Path(self.study_dir) / self.study_name

    def searcher_name(self) -> str:
        """The hpsweep strategy (``make_searcher`` name) this configuration means."""
        if self.strategy == "bayesian":
            return self.sampler
        if self.strategy == "hyperband":
            return "random"
        return self.strategy

    def scheduler_name(self, *, reports: bool) -> str:
        """The scheduler: Hyperband for that strategy, the pruner when pruning applies."""
        if self.strategy == "hyperband":
            return "hyperband"
        if self.enable_pruning and reports:
            return self.pruner
        return "fifo"


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(
            f"SearchConfig.{name} = {value!r} is not one of {', '.join(allowed)}; pick one of them."
        )


@dataclass(frozen=True)
class SearchResult:
    """What a search left in its study: every trial, and the best one."""

    study_path: str
    metric: str
    direction: str
    trials: list[TrialRecord] = field(default_factory=list)
    best_trial: TrialRecord | None = None
    stopped_reason: str = ""

    @property
    def best_params(self) -> dict[str, Any]:
        if self.best_trial is None:
            raise StudyError(
                f"no trial of {self.study_path} completed with a finite {self.metric!r}; look at "
                "the failed trials' errors (hpsweep report) and fix the objective."
            )
        return dict(self.best_trial.config)

    @property
    def best_value(self) -> float:
        if self.best_trial is None:
            self.best_params  # noqa: B018 - raises the explanatory StudyError
        assert self.best_trial is not None
        value = self.best_trial.value(self.metric)
        assert value is not None
        return value

    @property
    def n_completed(self) -> int:
        return sum(1 for t in self.trials if t.state is TrialState.COMPLETED)

    @property
    def n_failed(self) -> int:
        return sum(1 for t in self.trials if t.state is TrialState.FAILED)

    def values(self) -> list[float]:
        """The objective of every trial in id order; NaN for a trial without a finite value
        (failed, NaN objective, stopped before reporting)."""
        out = []
        for t in self.trials:
            v = t.value(self.metric)
            out.append(v if v is not None else math.nan)
        return out


def best_trial(trials: list[TrialRecord], metric: str, direction: str) -> TrialRecord | None:
    """The completed trial with the best finite ``metric`` (NaN counts as the worst)."""
    sign = 1.0 if direction == "minimize" else -1.0
    best: TrialRecord | None = None
    best_key = math.inf
    for trial in trials:
        if trial.state is not TrialState.COMPLETED:
            continue
        value = trial.value(metric)
        if value is None or math.isnan(value):
            continue
        if sign * value < best_key:
            best, best_key = trial, sign * value
    return best


def _raise_budget(study: Any, n_trials: int) -> None:
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise UsageError(f"n_trials must be an integer >= 1, got {n_trials!r}.")
    from hpsweep.tuner.session import extend_budget

    current = study.read_sweep().get("options", {}).get("num_trials")
    if current is not None and n_trials < current:
        raise UsageError(
            f"n_trials={n_trials} is below the study's budget of {current}; give a larger number "
            "(a budget can only grow)."
        )
    if current is not None and n_trials > current:
        study.acquire()
        try:
            extend_budget(study, n_trials, by="api")
        finally:
            study.release()


def _objective_ref(fn: Objective) -> dict[str, str] | None:
    """Where a module-level objective can be imported from again (None for lambdas, closures
    and functions of ``__main__``)."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or not qualname or "<" in qualname:
        return None
    return {"module": module, "qualname": qualname}


def _load_objective(ref: Any) -> Objective | None:
    if not isinstance(ref, dict) or not ref.get("module") or not ref.get("qualname"):
        return None
    import importlib

    try:
        target: Any = importlib.import_module(str(ref["module"]))
        for part in str(ref["qualname"]).split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return None
    return target if callable(target) else None


class SearchEngine:
    """One search at a time over a :class:`SearchConfig`; remembers its last result."""

    def __init__(self, config: SearchConfig | None = None) -> None:
        self.config = config or SearchConfig()
        self.config.validate()
        self._objective: Objective | None = None
        self._result: SearchResult | None = None

    @property
    def result(self) -> SearchResult | None:
        return self._result

    def search(self, objective_fn: Objective, space: SearchSpace) -> SearchResult:
        """Run ``config.n_trials`` trials of ``objective_fn`` over ``space`` in a new study."""
        from hpsweep.space import SearchSpace, Sweep
        from hpsweep.store import StudyDir
        from hpsweep.tuner.session import SweepOptions, create_study

        if not callable(objective_fn):
            raise UsageError(f"objective_fn must be callable, got {objective_fn!r}.")
        if not isinstance(space, SearchSpace):
            raise UsageError(
                f"space must be an hpsweep.space.SearchSpace, got {type(space).__name__}."
            )
        cfg = self.config
        cfg.validate()
        reports = accepts_trial(objective_fn)
        scheduler = cfg.scheduler_name(reports=reports)
        if scheduler in _NEEDS_MAX and cfg.max_resource is None:
            raise UsageError(
                f"the {scheduler!r} {'strategy' if cfg.strategy == 'hyperband' else 'pruner'} "
                "needs SearchConfig.max_resource (the last step your objective reports, e.g. "
                "its number of epochs); set max_resource=N or enable_pruning=False."
            )
        study = StudyDir(cfg.study_path)
        if study.exists():  # as Optuna's load_if_exists: continue it, up to cfg.n_trials
            self._check_same_space(study, space)
            return self.resume(study.root, objective_fn=objective_fn)
        options = SweepOptions(
            command=[], strategy=cfg.searcher_name(), scheduler=scheduler,
            num_trials=cfg.n_trials, metrics=[cfg.metric], modes=[cfg.mode], seed=cfg.seed,
            min_resource=cfg.min_resource, max_resource=cfg.max_resource,
            reduction_factor=cfg.reduction_factor, executor="function", parallel=cfg.n_jobs,
            timeout_per_trial=cfg.timeout_per_trial, name=cfg.study_name,
            time_budget=cfg.timeout, resource_budget=cfg.resource_budget,
            scheduler_options=dict(cfg.scheduler_options),
        )
        create_study(study, options, Sweep(space=space, kind="api"))
        ref = _objective_ref(objective_fn)
        if ref is not None:
            frozen = study.read_sweep()
            frozen["objective"] = ref
            study.write_sweep(frozen)
        self._objective = objective_fn
        return self._run(study, objective_fn)

    def resume(self, study_path: str | Path, *, objective_fn: Objective | None = None,
               n_trials: int | None = None) -> SearchResult:
        """Continue the study in ``study_path`` (trials that were running when it stopped run
        again) up to ``n_trials``, else ``config.n_trials`` when that is larger than the study's
        budget (a budget only grows), with ``objective_fn``, else the one of the last search,
        else the module-level function the study was made with (imported again).

        The searcher and scheduler are rebuilt from the stored trials, so the search continues
        with everything it learned.
        """
        from hpsweep.store import StudyDir

        study = StudyDir(study_path)
        study.require()
        objective = objective_fn or self._objective or _load_objective(
            study.read_sweep().get("objective"))
        if objective is None:
            raise UsageError(
                "resume() needs the objective: pass objective_fn=... (the study was made with a "
                "lambda, a closure or a function of __main__, which cannot be imported again)."
            )
        if n_trials is None:
            frozen = study.read_sweep().get("options", {}).get("num_trials")
            if frozen is not None and self.config.n_trials > frozen:
                n_trials = self.config.n_trials
        if n_trials is not None:
            _raise_budget(study, n_trials)
        self._objective = objective
        return self._run(study, objective)

    @staticmethod
    def _check_same_space(study: Any, space: SearchSpace) -> None:
        frozen = study.read_sweep().get("sweep", {}).get("space")
        import json

        if frozen is not None and frozen != json.loads(json.dumps(space.to_dict(), default=str)):
            raise StudyError(
                f"{study.root} holds a search over another space; continue it with the same "
                "space (or resume(study_path)), or choose another study_name."
            )

    def best_params(self) -> dict[str, Any]:
        return self._require_result().best_params

    def best_value(self) -> float:
        return self._require_result().best_value

    def _require_result(self) -> SearchResult:
        if self._result is None:
            raise UsageError("no search has run yet; call search(objective_fn, space) first.")
        return self._result

    def _run(self, study: Any, objective: Objective) -> SearchResult:
        from hpsweep.tuner.session import load_study

        data = study.read_sweep().get("options", {})
        metric = (data.get("metrics") or [self.config.metric])[0]
        mode = (data.get("modes") or [self.config.mode])[0]
        executor = FunctionExecutor(objective, n_workers=int(data.get("parallel") or 1),
                                    metric=metric)
        study.acquire()
        try:
            tuner, store, _, _ = load_study(study, executor=executor)
            try:
                outcome = tuner.run()
            finally:
                store.close()
        finally:
            study.release()
        direction = "minimize" if mode == "min" else "maximize"
        self._result = SearchResult(
            study_path=str(study.root), metric=metric, direction=direction,
            trials=outcome.trials, best_trial=best_trial(outcome.trials, metric, direction),
            stopped_reason=outcome.stopped_reason,
        )
        return self._result
