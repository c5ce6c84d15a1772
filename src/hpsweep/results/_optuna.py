"""A study as an Optuna study: in memory (importance, plots) or in an Optuna storage (export).

The export writes an Optuna journal file (a path such as ``study.log``: what ``optuna-dashboard
study.log`` and ``JournalStorage(JournalFileBackend(path))`` open) or into any storage URL
(``sqlite:///x.db``). A journal is written in one append: Optuna's own storage is run on the logs
held in memory (:class:`_BufferedJournal`), and the new logs go to the file at the end with one
lock and one ``fsync``, where adding trial by trial to the file costs a lock, a re-read and an
``fsync`` each (seconds against minutes at 10,000 trials). An RDB URL goes through Optuna's
``RDBStorage`` trial by trial, a transaction each.

Parameters get the distributions of the frozen space (``sweep.json``); a parameter the space does
not describe, or a value outside its distribution, gets one inferred from the values seen.
Categorical choices are kept as values when they are numbers, strings, booleans or None, and as
their JSON text otherwise. States: completed → COMPLETE, failed and interrupted → FAIL, stopped →
PRUNED, running and paused → RUNNING. Intermediate values come from the objective's reports.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, create_trial
from optuna.trial import TrialState as OptunaState

from hpsweep.errors import UsageError
from hpsweep.results._study import StudyData, trial_value
from hpsweep.space import Categorical, Float, Int, Param
from hpsweep.trial import TrialRecord, TrialState

__all__ = ["STATE_MAP", "export_to_storage", "frozen_trials", "infer_distributions",
           "to_optuna_study"]

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

STATE_MAP: dict[TrialState, OptunaState] = {
    TrialState.COMPLETED: OptunaState.COMPLETE,
    TrialState.FAILED: OptunaState.FAIL,
    TrialState.INTERRUPTED: OptunaState.FAIL,
    TrialState.STOPPED: OptunaState.PRUNED,
    TrialState.RUNNING: OptunaState.RUNNING,
    TrialState.PAUSED: OptunaState.RUNNING,
}
_PRIMITIVE = (str, int, float, bool, type(None))


def _choice(value: Any) -> Any:
    if isinstance(value, _PRIMITIVE):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def _from_param(param: Param) -> BaseDistribution | None:
    if isinstance(param, Categorical) and len(param.choices) > 1:
        choices = tuple(dict.fromkeys(_choice(c) for c in param.choices))
        return CategoricalDistribution(choices) if len(choices) > 1 else None
    if isinstance(param, Int) and param.low < param.high:
        return IntDistribution(param.low, param.high, log=param.log, step=param.step)
    if isinstance(param, Float) and param.low < param.high:
        step = param.step
        if step is not None and not _float_step_ok(param.low, param.high, step):
            step = None
        return FloatDistribution(param.low, param.high, log=param.log, step=step)
    return None  # fixed values and single-valued ranges are constants


def _float_step_ok(low: float, high: float, step: float) -> bool:
    ratio = (high - low) / step
    return abs(ratio - round(ratio)) < 1e-8


def _inferred(values: Sequence[Any]) -> BaseDistribution | None:
    distinct = list(dict.fromkeys(_choice(v) for v in values))
    if len(distinct) < 2:
        return None
    if all(_is_number(v) for v in values):
        if all(isinstance(v, int) for v in values):
            return IntDistribution(int(min(values)), int(max(values)))
        return FloatDistribution(float(min(values)), float(max(values)))
    return CategoricalDistribution(tuple(distinct))


def _contains(dist: BaseDistribution, value: Any) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return _choice(value) in dist.choices
    if not _is_number(value):
        return False
    if isinstance(dist, IntDistribution) and float(value) != int(value):
        return False
    return bool(dist._contains(dist.to_internal_repr(value)))


def infer_distributions(data: StudyData) -> dict[str, BaseDistribution]:
    """One distribution per searched parameter (constants are left out)."""
    space = data.space()
    params: dict[str, Param] = dict(space.params) if space is not None else {}
    seen: dict[str, list[Any]] = {}
    for trial in data.trials:
        for key, value in trial.config.items():
            seen.setdefault(key, []).append(value)
    out: dict[str, BaseDistribution] = {}
    for name, values in seen.items():
        dist = _from_param(params[name]) if name in params else None
        if dist is None or not all(_contains(dist, v) for v in values):
            if name in params and dist is None and len({_choice(v) for v in values}) < 2:
                continue
            dist = _inferred(values)
        if dist is not None:
            out[name] = dist
    return out


def _external(dist: BaseDistribution, value: Any) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return _choice(value)
    if isinstance(dist, IntDistribution):
        return int(value)
    return float(value)


def _intermediate(trial: TrialRecord, metric: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for index, report in enumerate(trial.reports):
        value = report.metrics.get(metric)
        if value is not None and _is_number(value):
            out[report.step if report.step is not None else index] = float(value)
    return out


def _when(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp)


def _frozen(trial: TrialRecord, data: StudyData, dists: dict[str, BaseDistribution],
            lean: bool = False) -> FrozenTrial:
    state = STATE_MAP[trial.state]
    values = [trial_value(trial, m) for m in data.metrics]
    if state is OptunaState.COMPLETE and any(v is None for v in values):
        state = OptunaState.FAIL  # completed without a finite objective: not comparable
    params = {k: _external(dists[k], v) for k, v in trial.config.items() if k in dists}
    constants = {k: v for k, v in trial.config.items() if k not in dists}
    attrs: dict[str, Any] = {
        "hpsweep_trial_id": trial.trial_id, "hpsweep_state": trial.state.value,
        "trial_dir": trial.trial_dir, "metrics": trial.last_metrics,
    }
    if lean:
        attrs = {"metrics": trial.last_metrics}
    elif constants:
        attrs["constants"] = constants
    if trial.seed is not None and not lean:
        attrs["seed"] = trial.seed
    if trial.error_kind is not None and not lean:
        attrs["error"] = f"{trial.error_kind.value}: {trial.error or ''}".strip()
    frozen = create_trial(
        state=state,
        values=[float(v or 0.0) for v in values] if state is OptunaState.COMPLETE else None,
        params=params, distributions={k: dists[k] for k in params}, user_attrs=attrs,
        intermediate_values=None if lean else _intermediate(trial, data.metric),
    )
    start = _when(trial.started or trial.created or None)
    if start is not None:
        frozen.datetime_start = start
        if frozen.datetime_complete is not None:
            frozen.datetime_complete = max(_when(trial.finished) or start, start)
    return frozen


def frozen_trials(data: StudyData, *, lean: bool = False) -> list[FrozenTrial]:
    """Every trial of the study as an Optuna FrozenTrial, in trial-id order. ``lean``: without
    the intermediate values and with the ``metrics`` user attribute only (what importance and
    the parameter plots read; Optuna's in-memory storage copies every trial it is given)."""
    dists = infer_distributions(data)
    return [_frozen(t, data, dists, lean)
            for t in sorted(data.trials, key=lambda t: t.trial_id)]


def _directions(data: StudyData) -> list[StudyDirection]:
    return [StudyDirection.MINIMIZE if m == "min" else StudyDirection.MAXIMIZE
            for m in data.modes]


def to_optuna_study(data: StudyData, *, storage: str | BaseStorage | None = None,
                    study_name: str | None = None, lean: bool = False) -> optuna.Study:
    """An Optuna study holding every trial of ``data`` (in memory unless ``storage``; ``lean``:
    see :func:`frozen_trials`)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = study_name or data.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            study = optuna.create_study(storage=storage, study_name=name,
                                        directions=_directions(data))
        except optuna.exceptions.DuplicatedStudyError:
            where = f"the Optuna storage {storage}" if isinstance(storage, str) else "the journal"
            raise UsageError(f"{where} already holds a study named {name!r}; "
                             "choose another --study-name.") from None
        study.set_metric_names(list(data.metrics))
        study.set_user_attr("hpsweep_study", str(data.root))
        study.add_trials(frozen_trials(data, lean=lean))
    return study


class _BufferedJournal(BaseJournalBackend):
    """A journal file's logs held in memory: Optuna's ``JournalStorage`` reads and appends here,
    and :meth:`flush` appends what was added to the file at once (Optuna's own file backend, its
    lock and its line format). Meant for one writer: a process writing the same file between the
    read and the flush would have its logs interleaved with a stale view."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._logs: list[dict[str, Any]] = (
            list(JournalFileBackend(str(path)).read_logs(0)) if path.exists() else [])
        if path.exists() and path.stat().st_size and (
                not self._logs or not all(isinstance(log, dict) and "op_code" in log
                                          for log in self._logs)):
            raise ValueError("its lines are not Optuna journal operations")
        self._written = len(self._logs)

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        return self._logs[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self._logs.extend(logs)

    def flush(self) -> None:
        new = self._logs[self._written:]
        if new:
            JournalFileBackend(str(self.path)).append_logs(new)
        self._written = len(self._logs)


def _export_journal(data: StudyData, target: str, study_name: str | None) -> optuna.Study:
    path = Path(target).expanduser()
    if path.suffix.lower() in _SQLITE_SUFFIXES:
        raise UsageError(f"--optuna {target!r} looks like an SQLite file: give a storage URL "
                         f"(sqlite:///{target}) or a journal file such as "
                         f"{path.with_suffix('.log')}.")
    if path.is_dir():
        raise UsageError(f"--optuna {target!r} is a folder: give a journal file such as "
                         f"{path / 'optuna.log'}.")
    if not path.parent.is_dir():
        raise UsageError(f"--optuna {target!r}: folder {path.parent} does not exist.")
    try:
        backend = _BufferedJournal(path)
    except (OSError, ValueError) as exc:  # unreadable, or not a journal (bad JSON lines)
        raise UsageError(f"--optuna {target!r}: not an Optuna journal file that can be read "
                         f"({exc}).") from exc
    try:
        study = to_optuna_study(data, storage=JournalStorage(backend), study_name=study_name)
    except UsageError:  # a taken name: say which file, and that it can be removed
        raise UsageError(f"the Optuna journal {path} already holds a study named "
                         f"{study_name or data.name!r}; choose another --study-name, or remove "
                         f"{path} to write it afresh.") from None
    try:
        backend.flush()
    except OSError as exc:
        raise UsageError(f"--optuna {target!r}: cannot write the journal ({exc}).") from exc
    return study


def export_to_storage(data: StudyData, storage: str, *, study_name: str | None = None
                      ) -> optuna.Study:
    """Write the study into an Optuna storage: the path of a journal file (``study.log``,
    appended to when it exists) or a storage URL such as ``sqlite:///x.db``."""
    if "://" not in storage:
        return _export_journal(data, storage, study_name)
    try:
        return to_optuna_study(data, storage=storage, study_name=study_name)
    except UsageError:
        raise
    except (ValueError, ImportError) as exc:
        raise UsageError(f"--optuna {storage!r}: the storage cannot be opened ({exc}).") from exc
