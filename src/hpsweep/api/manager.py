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

from hpsweep._modes import infer_mode
from hpsweep.errors import UsageError
from hpsweep.results import (
    ConfigGroup,
    StudyData,
    best_trials,
    load_study_data,
    study_groups,
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

    ``metric`` and ``mode`` name the objective of a study this manager creates (default: the
    first metric logged); an existing study keeps its own. Without ``mode`` the direction is
    inferred from well-known names (``val_accuracy`` is maximised, ``val_loss`` minimised) and
    refused for other names. Trial ids are numbers or any text (``"t0"``): a text id is a label
    the study maps to its number.
    """

    def __init__(self, study_dir: str | Path, *, metric: str | None = None,
                 mode: str | None = None) -> None:
        if mode is not None and mode not in ("min", "max"):
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
        mode = self._mode or infer_mode(metric)
        if mode is None:
            raise UsageError(f"TrialManager: is {metric!r} minimised or maximised? Give "
                             "TrialManager(..., mode='min') or mode='max' (the mode is inferred "
                             "only for well-known names such as loss, error, accuracy or f1).")
        self.study.root.mkdir(parents=True, exist_ok=True)
        options = {"metrics": [metric], "modes": [mode], "name": self.study.root.name}
        return Store.create(self.study.db, name=self.study.root.name, spec={"options": options})

    def _write(self, store: Store, params: dict[str, Any], metrics: dict[str, Any],
               trial_id: str | int | None) -> None:
        objective = store.spec.get("options", {}).get("metrics", [self._metric])[0]
        tid = self._resolve_id(store, trial_id, create=True)
        now = time.time()
        value = objective_value(metrics, objective)
        trial = TrialRecord(trial_id=tid, config=params, state=TrialState.COMPLETED, created=now,
                            started=now, finished=now, last_metrics=metrics, runs=1,
                            trial_dir=str(self.study.trial_dir(tid)),
                            run_info={} if trial_id is None else {"label": str(trial_id)})
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
    def _resolve_id(store: Store, trial_id: str | int | None, *, create: bool = False) -> int:
        """The number of ``trial_id``: itself for a number or a string of digits, the number a
        text label maps to (a new one when ``create``)."""
        if trial_id is None:
            return store.next_trial_id()
        if isinstance(trial_id, bool) or not isinstance(trial_id, (str, int)):
            raise UsageError(f"trial id {trial_id!r}: use a number or a text label such as 't0'.")
        text = str(trial_id).strip()
        if not text:
            raise UsageError("trial id '': use a number or a non-empty text label such as 't0'.")
        if text.isdigit():
            return int(text)
        labels = dict(store.get_meta("trial_labels", {}) or {})
        if text in labels:
            return int(labels[text])
        if not create:
            known = ", ".join(sorted(labels)) or "none"
            raise UsageError(f"trial {trial_id!r}: no trial has this label (labels: {known}).")
        labels[text] = store.next_trial_id()
        store.set_meta("trial_labels", labels)
        return int(labels[text])

    # -- reading -----------------------------------------------------------------------------
    def data(self) -> StudyData:
        """A fresh read-only snapshot of the study."""
        return load_study_data(self.study.root, with_events=False)

    def get_trial(self, trial_id: str | int) -> TrialRecord:
        self.study.require()
        store = Store.open(self.study.db, readonly=True)
        try:
            number = self._resolve_id(store, trial_id)
        finally:
            store.close()
        return self.data().trial(number)

    def get_best_trials(self, n: int = 5) -> list[TrialRecord]:
        """The ``n`` best completed trials by the objective, best first. A configuration logged
        more than once (repetitions, seeds) is ranked by its mean and stands there once, as its
        first run; :meth:`get_best_configs` gives the mean, SD and every run."""
        data = self.data()
        if not any(g.n > 1 for g in study_groups(data)):
            return best_trials(data, n)
        return [g.representative for g in self.get_best_configs(n)]

    def get_best_configs(self, n: int = 5) -> list[ConfigGroup]:
        """The ``n`` best configurations by the mean of the objective over their completed runs
        (mean, SD, SEM, n and the runs themselves), best first."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"get_best_configs(n={n!r}): n must be an integer >= 1.")
        return [g for g in study_groups(self.data()) if g.mean is not None][:n]

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
