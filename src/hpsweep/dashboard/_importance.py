"""Parameter importance for the dashboard: the results package's computation when it offers one,
Optuna's fANOVA evaluator over the completed trials otherwise."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from hpsweep.trial import TrialRecord, TrialState

__all__ = ["importance"]


def importance(trials: Sequence[TrialRecord], metric: str, mode: str) -> dict[str, Any]:
    """``{"params": {name: share}, "n": trials used, "note": why empty}`` for ``metric``."""
    done = [t for t in trials if t.state is TrialState.COMPLETED
            and (v := t.value(metric)) is not None and not math.isnan(v)]
    varying = _varying(done)
    if len(done) < 3 or not varying:
        return {"params": {}, "n": len(done),
                "note": "needs at least 3 completed trials and a parameter that varies"}
    external = _results_function()
    try:
        if external is not None:
            shares = dict(external(done, metric, mode))
        else:
            shares = _optuna_importance(done, metric, varying)
    except Exception as exc:  # an evaluator that cannot fit this history leaves the chart empty
        return {"params": {}, "n": len(done), "note": f"importance unavailable: {exc}"}
    clean = {str(k): float(v) for k, v in shares.items() if math.isfinite(float(v))}
    return {"params": dict(sorted(clean.items(), key=lambda kv: -kv[1])), "n": len(done), "note": ""}


def _results_function() -> Callable[..., Any] | None:
    try:
        from hpsweep.results import importance_of_trials  # type: ignore[attr-defined]
    except ImportError:
        return None
    return importance_of_trials  # type: ignore[no-any-return]


def _varying(trials: Sequence[TrialRecord]) -> list[str]:
    names: dict[str, set[str]] = {}
    for t in trials:
        for name, value in t.config.items():
            names.setdefault(name, set()).add(repr(value))
    return sorted(name for name, seen in names.items() if len(seen) > 1)


def _distribution(values: list[Any]) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric and all(isinstance(v, int) for v in values):
        return IntDistribution(min(values), max(values))
    if numeric:
        return FloatDistribution(float(min(values)), float(max(values)))
    choices = sorted({_choice(v) for v in values}, key=repr)
    return CategoricalDistribution(choices)


def _choice(value: Any) -> Any:
    return value if isinstance(value, (bool, int, float, str)) or value is None else repr(value)


def _optuna_importance(trials: Sequence[TrialRecord], metric: str, names: list[str]
                       ) -> dict[str, float]:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    present = [n for n in names if all(n in t.config for t in trials)]
    dists = {n: _distribution([t.config[n] for t in trials]) for n in present}
    study = optuna.create_study(direction="minimize")
    for t in trials:
        params = {}
        for n in present:
            raw = t.config[n]
            if isinstance(dists[n], CategoricalDistribution):
                params[n] = _choice(raw)
            elif isinstance(dists[n], FloatDistribution):
                params[n] = float(raw)
            else:
                params[n] = raw
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists,
                                                  value=t.value(metric)))
    found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    return {str(k): float(v) for k, v in found.items()}
