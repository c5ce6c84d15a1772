"""Parameter importance through Optuna's evaluators on the study converted to an Optuna study.

``fanova`` (a random forest from scikit-learn with functional ANOVA) and ``ped-anova``
(PED-ANOVA; quick, no model) are Optuna's; ``mdi`` is Optuna's mean decrease in impurity of a
scikit-learn random forest. ``auto`` (the default) takes fanova up to
:data:`FANOVA_MAX_TRIALS` completed trials and mdi above, because fanova's cost grows quickly
with the number of trials (about 50 s for 1000 trials on a small machine, against 0.4 s for mdi;
see benchmarks/RESULTS.md). Importance needs at least two completed trials that share two or more searched
parameters; parameters absent from some completed trials (conditional ones) are left out.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import optuna
from optuna.importance import (
    BaseImportanceEvaluator,
    FanovaImportanceEvaluator,
    MeanDecreaseImpurityImportanceEvaluator,
    PedAnovaImportanceEvaluator,
    get_param_importances,
)
from optuna.trial import FrozenTrial

from hpsweep.errors import UsageError
from hpsweep.results._optuna import to_optuna_study
from hpsweep.results._study import StudyData
from hpsweep.trial import TrialState

__all__ = ["FANOVA_MAX_TRIALS", "FEW_TRIALS", "METHODS", "importance_note", "make_evaluator",
           "param_importance", "resolve_method"]

METHODS = ("auto", "fanova", "ped-anova", "mdi")
FANOVA_MAX_TRIALS = 300


def resolve_method(method: str, n_completed: int) -> str:
    """``auto`` as the method it stands for with ``n_completed`` trials; others unchanged."""
    if method == "auto":
        return "fanova" if n_completed <= FANOVA_MAX_TRIALS else "mdi"
    if method not in METHODS:
        raise UsageError(f"importance method {method!r}: use one of {', '.join(METHODS)}.")
    return method


def make_evaluator(method: str, *, seed: int = 0) -> BaseImportanceEvaluator:
    """Optuna's evaluator for ``method`` (one of :data:`METHODS`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if method == "fanova":
            return FanovaImportanceEvaluator(seed=seed)
        if method == "ped-anova":
            return PedAnovaImportanceEvaluator()
        if method == "mdi":
            return MeanDecreaseImpurityImportanceEvaluator(seed=seed)
    raise UsageError(f"importance method {method!r}: use one of {', '.join(METHODS)}.")


def param_importance(data: StudyData, *, metric: str | None = None, method: str = "auto",
                     seed: int = 0, study: optuna.Study | None = None) -> dict[str, float]:
    """Importance per searched parameter for ``metric`` (default: the objective), highest first.

    The scores are non-negative and sum to 1 (Optuna normalises them). An empty dict when the
    study has too few completed trials or parameters to compare, and for a seed gathering (one
    configuration: the seed would take all the importance) and a PBT study (its trials' final
    configurations are mutations, not what produced most of their training).
    """
    resolve_method(method, 0)  # an unknown method is an error even before any trial ends
    if data.seeds_info() is not None:
        return {}  # a seed gathering runs one configuration: only its seed varies
    if (data.sweep.get("options") or {}).get("scheduler") == "pbt":
        return {}  # PBT changes a trial's configuration while it runs: no one config per result
    metric = metric or data.metric
    index = data.metrics.index(metric) if metric in data.metrics else None
    if study is None:  # the evaluators read completed trials only: convert only those
        done = tuple(t for t in data.trials if t.state is TrialState.COMPLETED)
        study = to_optuna_study(replace(data, trials=done), lean=True)
    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if index is None:
        completed = [t for t in completed if _user_metric(t, metric) is not None]
    if len(completed) < 2 or len({k for t in completed for k in t.params}) < 1:
        return {}

    def target(trial: FrozenTrial) -> float:
        if index is not None:
            return float(trial.values[index])
        value = _user_metric(trial, metric)
        return float("nan") if value is None else value

    evaluator = make_evaluator(resolve_method(method, len(completed)), seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scores = get_param_importances(study, evaluator=evaluator, target=target,
                                           normalize=True)
        except (RuntimeError, ValueError) as exc:
            if "search space" in str(exc) or "trials" in str(exc):
                return {}
            raise
    return {name: float(value) for name, value in scores.items()}


def _user_metric(trial: FrozenTrial, metric: str) -> float | None:
    metrics: dict[str, Any] = trial.user_attrs.get("metrics", {})
    value = metrics.get(metric)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


FEW_TRIALS = 20  # below this many completed trials importance carries a caveat


def importance_note(data: StudyData, scores: dict[str, float]) -> str:
    """Why a study has no importance, or the caveat that goes with one from few trials."""
    if data.seeds_info() is not None:
        return "a seed gathering runs one configuration with several seeds: importance does not apply"
    if (data.sweep.get("options") or {}).get("scheduler") == "pbt":
        return ("PBT changes each trial's configuration while it trains: no single configuration "
                "per result, so no importance")
    n = sum(1 for t in data.trials if t.state.value == "completed")
    if scores and n < FEW_TRIALS:
        return f"only {n} completed trials: a rough guide (trust it from about {FEW_TRIALS})"
    return ""
