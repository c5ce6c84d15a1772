"""Parameter importance: Optuna's evaluators, and MDI computed here on the completed trials.

``fanova`` (a random forest from scikit-learn with functional ANOVA) and ``ped-anova``
(PED-ANOVA; quick, no model) are Optuna's, run on the study converted to an in-memory Optuna
study. ``mdi`` is the mean decrease in impurity of a random forest with the settings of Optuna's
``MeanDecreaseImpurityImportanceEvaluator`` (64 trees, 64 deep at most, every parameter tried at
every split), grown by :mod:`hpsweep.results._forest` in NumPy on a matrix of the completed trials
encoded as Optuna's evaluator encodes them (numbers as they are, choices one-hot; the scores of a
parameter's columns summed): no Optuna study, Optuna or scikit-learn is needed for it, and the
scores equal Optuna's up to the forest's random draws. ``auto`` (the default) takes fanova up to
:data:`FANOVA_MAX_TRIALS` completed trials and mdi above, because fanova's cost grows quickly
with the number of trials (about 50 s for 1000 trials on a small machine, against well under a
second for mdi; see benchmarks/RESULTS.md). Importance needs at least two completed trials that
share two or more searched parameters; parameters absent from some completed trials (conditional
ones) are left out.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hpsweep.errors import UsageError
from hpsweep.results._study import StudyData, trial_value
from hpsweep.space import Categorical, Float, Int, Param
from hpsweep.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    import numpy as np
    import optuna
    from optuna.importance import BaseImportanceEvaluator
    from optuna.trial import FrozenTrial

__all__ = ["FANOVA_MAX_TRIALS", "FEW_TRIALS", "METHODS", "encoded_trials", "importance_note",
           "make_evaluator", "param_columns", "param_importance", "param_kinds", "resolve_method"]

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
    import optuna
    from optuna.importance import (
        FanovaImportanceEvaluator,
        MeanDecreaseImpurityImportanceEvaluator,
        PedAnovaImportanceEvaluator,
    )

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

    The scores are non-negative and sum to 1 (Optuna normalises them; equal shares when the
    model finds nothing). An empty dict when the study has too few completed trials or
    parameters to compare, and for a seed gathering (one configuration: the seed would take all
    the importance) and a PBT study (its trials' final configurations are mutations, not what
    produced most of their training). ``study``: the study already converted to an Optuna study
    (fanova and ped-anova read it; mdi reads ``data``).
    """
    resolve_method(method, 0)  # an unknown method is an error even before any trial ends
    if data.seeds_info() is not None:
        return {}  # a seed gathering runs one configuration: only its seed varies
    if (data.sweep.get("options") or {}).get("scheduler") == "pbt":
        return {}  # PBT changes a trial's configuration while it runs: no one config per result
    metric = metric or data.metric
    if method == "mdi" or (method == "auto" and _n_comparable(data, metric) > FANOVA_MAX_TRIALS):
        return _mdi(data, metric, seed)
    return _optuna_importance(data, metric, method, seed, study)


def _n_comparable(data: StudyData, metric: str) -> int:
    """How many trials ``auto`` counts, as it did on the Optuna study: the COMPLETE ones
    (completed, every objective finite), for a metric that is not an objective those that
    report it as a number."""
    if metric in data.metrics:
        return len(_complete(data))
    return sum(1 for t in _complete(data) if _reported(t.last_metrics.get(metric)) is not None)


def _reported(value: Any) -> float | None:
    """A metric's value as the Optuna conversion's user attribute carries it: a number (not a
    boolean), non-finite values included."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _target(trial: TrialRecord, metric: str, objective: bool) -> float | None:
    """The value importance explains for ``trial``: the objective's value as the conversion
    stores it, or another metric's last number; None unless finite."""
    value = trial_value(trial, metric) if objective else _reported(trial.last_metrics.get(metric))
    return value if value is not None and math.isfinite(value) else None


def _complete(data: StudyData) -> list[TrialRecord]:
    """The trials that are COMPLETE in the Optuna conversion: completed with every objective."""
    return [t for t in data.trials if t.state is TrialState.COMPLETED
            and all(trial_value(t, m) is not None for m in data.metrics)]


def _optuna_importance(data: StudyData, metric: str, method: str, seed: int,
                       study: optuna.Study | None) -> dict[str, float]:
    import optuna
    from optuna.importance import get_param_importances

    from hpsweep.results._optuna import to_optuna_study

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


def _mdi(data: StudyData, metric: str, seed: int) -> dict[str, float]:
    """MDI of the forest of :mod:`hpsweep.results._forest` on :func:`encoded_trials`."""
    from hpsweep.results._forest import mdi_importances

    encoded = encoded_trials(data, metric)
    if encoded is None:
        return {}
    names, columns, x, y = encoded
    if len(y) < 2:
        return {}
    import numpy as np

    per_column = mdi_importances(x, y, seed=seed)
    scores = np.zeros(len(names))
    np.add.at(scores, columns, per_column)
    total = float(scores.sum())
    shares = {name: (float(v) / total if total > 0 else 1.0 / len(names))
              for name, v in zip(names, scores)}
    return dict(reversed(sorted(shares.items(), key=lambda kv: kv[1])))  # Optuna's order


def _choice(value: Any) -> Any:
    """A choice as the Optuna conversion keeps it: the value, or its JSON text."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def _declared(param: Param, values: Sequence[Any]) -> tuple[Any, ...] | None:
    """A parameter of the space as a column: its choices (categorical), ``()`` (a number), or
    None when the space makes it a constant or a value falls outside it (then it is inferred
    from the values)."""
    if isinstance(param, Categorical):
        choices = tuple(dict.fromkeys(_choice(c) for c in param.choices))
        if len(choices) > 1 and all(_choice(v) in choices for v in values):
            return choices
    elif isinstance(param, (Int, Float)) and param.low < param.high and all(
            _is_number(v) and param.low <= float(v) <= param.high
            and (isinstance(param, Float) or float(v) == int(v)) for v in values):
        return ()
    return None


def param_columns(data: StudyData, trials: Sequence[TrialRecord] | None = None
                  ) -> dict[str, tuple[Any, ...]]:
    """Each searched parameter of ``trials`` (default: the study's) with its kind, as the
    Optuna conversion (:func:`hpsweep.results._optuna.infer_distributions`) decides it: ``()``
    for a number, the choices for a categorical; constants are left out."""
    return {name: kind for name, (kind, _) in param_kinds(data, trials).items()}


def param_kinds(data: StudyData, trials: Sequence[TrialRecord] | None = None
                ) -> dict[str, tuple[tuple[Any, ...], bool]]:
    """:func:`param_columns` with, for each parameter, whether its axis is logarithmic (a
    number the space declares on a log scale, with every value inside its range)."""
    space = data.space()
    params: dict[str, Param] = dict(space.params) if space is not None else {}
    seen: dict[str, list[Any]] = {}
    for trial in data.trials if trials is None else trials:
        for key, value in trial.config.items():
            seen.setdefault(key, []).append(value)
    out: dict[str, tuple[tuple[Any, ...], bool]] = {}
    for name, values in seen.items():
        kind = _declared(params[name], values) if name in params else None
        log = kind == () and bool(getattr(params.get(name), "log", False))
        if kind is None:
            distinct = tuple(dict.fromkeys(_choice(v) for v in values))
            if len(distinct) < 2:
                continue  # one value: a constant here, whatever the space says
            kind = () if all(_is_number(v) for v in values) else distinct
        out[name] = (kind, log)
    return out


def encoded_trials(data: StudyData, metric: str | None = None
                   ) -> tuple[list[str], list[int], np.ndarray, np.ndarray] | None:
    """The completed trials as Optuna's MDI evaluator sees them: the parameters every
    comparable trial has (sorted by name), each matrix column's parameter, the matrix (a row per
    trial with a finite ``metric``: numbers as they are, choices one-hot) and the metric."""
    import numpy as np

    metric = metric or data.metric
    kinds = param_columns(data, [t for t in data.trials if t.state is TrialState.COMPLETED])
    complete = _complete(data)
    names = sorted(n for n in kinds if all(n in t.config for t in complete))
    objective = metric in data.metrics
    rows = [t for t in complete if _target(t, metric, objective) is not None]
    if not names or not rows:
        return None
    columns: list[int] = []
    blocks = []
    for i, name in enumerate(names):
        kind = kinds[name]
        raw = [t.config[name] for t in rows]
        if kind:
            index = {c: j for j, c in enumerate(kind)}
            block = np.zeros((len(rows), len(kind)))
            block[np.arange(len(rows)), [index[_choice(v)] for v in raw]] = 1.0
            columns.extend([i] * len(kind))
        else:
            block = np.asarray(raw, dtype=float)[:, None]
            columns.append(i)
        blocks.append(block)
    y = np.asarray([_target(t, metric, objective) for t in rows], dtype=float)
    return names, columns, np.hstack(blocks), y


def _user_metric(trial: FrozenTrial, metric: str) -> float | None:
    metrics: dict[str, Any] = trial.user_attrs.get("metrics", {})
    return _reported(metrics.get(metric))


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
