"""``TrialManager``: Python access to one study folder (seed 004).

Reads any study (one made by ``hpsweep run``, still running or not) and writes trials logged by
hand into a study folder, creating it if needed. Writing follows the single-writer rule: while a
live controller holds the study, :meth:`TrialManager.log_trial` raises
:class:`~hpsweep.errors.StudyLockedError`.

>>> tm = TrialManager("runs/manual", metric="val_loss", mode="min")  # doctest: +SKIP
>>> tm.log_trial({"lr": 0.1}, {"val_loss": 0.3}, trial_id="0")  # doctest: +SKIP
>>> tm.get_best_trials(1)[0].config  # doctest: +SKIP
{'lr': 0.1}
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsweep.errors import UsageError
from hpsweep.results import (
    StudyData,
    best_trials,
    load_study_data,
    trials_frame,
)
from hpsweep.store import ResultsCsv, Store, StudyDir
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState, objective_value

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["TrialManager"]


class TrialManager:
    """Track, rank and analyse the trials of the study in ``study_dir``.

    ``metric`` and ``mode`` name the objective of a study this manager creates; an existing
    study keeps its own.
    """

    def __init__(self, study_dir: str | Path, *, metric: str | None = None,
                 mode: str = "min") -> None:
        if mode not in ("min", "max"):
            raise UsageError(f"TrialManager(mode={mode!r}): use 'min' or 'max'.")
        if metric is not None and (not isinstance(metric, str) or not metric):
            raise UsageError(f"TrialManager(metric={metric!r}): give the metric's name.")
        self.study = StudyDir(study_dir)
        self._metric = metric
        self._mode = mode

    # -- writing -----------------------------------------------------------------------------
    def log_trial(self, params: Mapping[str, Any], metrics: Mapping[str, Any],
                  trial_id: str | int | None = None) -> None:
        """Record one finished trial (``trial_id``: a number, a numeric string, or None for the
        next free id). Logging an existing id replaces that trial's values."""
        if not isinstance(params, Mapping) or not isinstance(metrics, Mapping):
            raise UsageError("log_trial(params, metrics): both must be dicts, got "
                             f"{type(params).__name__} and {type(metrics).__name__}.")
        self.study.acquire()  # StudyLockedError while a live controller holds the study
        try:
            store = self._open_for_writing(metrics)
            try:
                self._write(store, dict(params), dict(metrics), trial_id)
                ResultsCsv(self.study.csv, param_names=list(params)).rewrite(store.trials())
            finally:
                store.close()
        finally:
            self.study.release()

    def _open_for_writing(self, metrics: Mapping[str, Any]) -> Store:
        if self.study.exists():
            return Store.open(self.study.db)
        metric = self._metric or next(iter(metrics), None)
        if metric is None:
            raise UsageError("log_trial: the first trial of a new study needs at least one metric "
                             "(or give TrialManager(metric=...)).")
        self.study.root.mkdir(parents=True, exist_ok=True)
        options = {"metrics": [metric], "modes": [self._mode], "name": self.study.root.name}
        return Store.create(self.study.db, name=self.study.root.name, spec={"options": options})

    def _write(self, store: Store, params: dict[str, Any], metrics: dict[str, Any],
               trial_id: str | int | None) -> None:
        objective = store.spec.get("options", {}).get("metrics", [self._metric])[0]
        tid = self._resolve_id(store, trial_id)
        now = time.time()
        value = objective_value(metrics, objective)
        trial = TrialRecord(trial_id=tid, config=params, state=TrialState.COMPLETED, created=now,
                            started=now, finished=now, last_metrics=metrics, runs=1,
                            trial_dir=str(self.study.trial_dir(tid)))
        if value is None or math.isnan(value):
            trial.state = TrialState.FAILED
            trial.error_kind = ErrorKind.NO_METRIC if value is None else ErrorKind.NAN
            trial.error = f"objective {objective!r} {'missing' if value is None else 'not finite'}"
        known = {t.trial_id for t in store.trials(with_reports=False)}
        if tid in known:
            store.update_trial(trial, event="end", time=now, data={"state": trial.state.value,
                                                                    "logged": True})
        else:
            store.add_trial(trial)
            store.add_event("end", time=now, trial_id=tid,
                            data={"state": trial.state.value, "logged": True})
        seq = len(store.reports(tid))
        store.add_report(Report(tid, None, metrics, now, seq))

    @staticmethod
    def _resolve_id(store: Store, trial_id: str | int | None) -> int:
        if trial_id is None:
            return store.next_trial_id()
        text = str(trial_id).strip()
        if isinstance(trial_id, bool) or not text.isdigit():
            raise UsageError(f"log_trial(trial_id={trial_id!r}): use a non-negative integer "
                             "(or a string of digits), or None for the next free id.")
        return int(text)

    # -- reading -----------------------------------------------------------------------------
    def data(self) -> StudyData:
        """A fresh read-only snapshot of the study."""
        return load_study_data(self.study.root, with_events=False)

    def get_trial(self, trial_id: str | int) -> TrialRecord:
        return self.data().trial(self._resolve_id_text(trial_id))

    @staticmethod
    def _resolve_id_text(trial_id: str | int) -> int:
        text = str(trial_id).strip()
        if isinstance(trial_id, bool) or not text.isdigit():
            raise UsageError(f"trial id {trial_id!r}: use a non-negative integer.")
        return int(text)

    def get_best_trials(self, n: int = 5) -> list[TrialRecord]:
        """The ``n`` best completed trials by the objective, best first."""
        return best_trials(self.data(), n)

    def get_importance(self, *, method: str = "auto", seed: int = 0) -> dict[str, float]:
        """Importance per parameter (normalised to sum 1), highest first."""
        from hpsweep.results import param_importance

        return param_importance(self.data(), method=method, seed=seed)

    def dataframe(self) -> pd.DataFrame:
        """Every trial as a pandas DataFrame (parameters, metrics, state, duration, folder)."""
        return trials_frame(self.data().trials)

    def export_csv(self, path: str | Path) -> None:
        """Write every trial (parameters and metrics) as CSV."""
        self.dataframe().to_csv(path, index=False)

    def plot_optimization_history(self) -> Figure:
        from hpsweep.results import mpl_figure

        return mpl_figure("history", self.data())

    def plot_param_importances(self) -> Figure:
        from hpsweep.results import mpl_figure

        return mpl_figure("importance", self.data())
