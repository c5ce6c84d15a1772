"""A read-only snapshot of one study: its options, its space and every trial with its reports.

Opening never takes the controller lock and opens the store read-only, so it works on a study
that is still running, one that finished and one whose controller was killed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsweep.errors import StudyError, UsageError
from hpsweep.store import Event, Store, StudyDir
from hpsweep.trial import TrialRecord, TrialState

__all__ = ["SEEDS_FILE", "StudyData", "load_study_data", "parse_states", "trial_value"]

SEEDS_FILE = "seeds.json"  # marks a seed-gathering study and records where it came from


@dataclass(frozen=True)
class StudyData:
    """Everything a report, a plot or an export needs, read once."""

    root: Path
    name: str
    metrics: tuple[str, ...]
    modes: tuple[str, ...]
    trials: tuple[TrialRecord, ...]
    events: tuple[Event, ...]
    sweep: dict[str, Any]
    live: bool

    @property
    def metric(self) -> str:
        return self.metrics[0]

    @property
    def mode(self) -> str:
        return self.modes[0]

    @property
    def csv(self) -> Path:
        return StudyDir(self.root).csv

    @property
    def is_multi_objective(self) -> bool:
        return len(self.metrics) > 1

    def mode_of(self, metric: str) -> str:
        """The direction of ``metric``: its study mode when it is an objective, else ``min``."""
        return self.modes[self.metrics.index(metric)] if metric in self.metrics else "min"

    def space(self) -> Any:
        """The frozen :class:`~hpsweep.space.SearchSpace`, or None when the study has none."""
        data = self.sweep.get("sweep")
        if not data:
            return None
        from hpsweep.space import Sweep

        return Sweep.from_dict(data).space

    def seeds_info(self) -> dict[str, Any] | None:
        """The record of a seed-gathering study (``seeds.json``), or None for other studies."""
        path = self.root / SEEDS_FILE
        if not path.is_file():
            return None
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError, TypeError, ValueError):
            return None

    def trial(self, trial_id: int) -> TrialRecord:
        for trial in self.trials:
            if trial.trial_id == trial_id:
                return trial
        raise UsageError(f"trial {trial_id}: no such trial in {self.root}; "
                         f"ids run from 0 to {len(self.trials) - 1}.")


def load_study_data(path: str | Path, *, with_events: bool = True, with_reports: bool = True
                    ) -> StudyData:
    """Read the study in ``path`` without touching it (read-only store, no lock).

    ``with_reports=False`` leaves every trial's ``reports`` empty (their last metrics are still
    there): what the report's ranking needs, at a fraction of the time for a large study."""
    study = StudyDir(path).require()
    sweep: dict[str, Any] = study.read_sweep() if study.sweep_file.is_file() else {}
    store = Store.open(study.db, readonly=True)
    try:
        trials = store.trials(with_reports=with_reports)
        events = store.events() if with_events else []
        options = dict(sweep.get("options") or store.spec.get("options") or {})
        name = store.name or study.root.name
    finally:
        store.close()
    metrics = tuple(str(m) for m in (options.get("metrics") or ["loss"]))
    modes = tuple(str(m) for m in (options.get("modes") or ["min"]))
    if len(modes) == 1 and len(metrics) > 1:
        modes = modes * len(metrics)
    if len(modes) != len(metrics):
        raise StudyError(f"{study.root}: {len(metrics)} metrics but {len(modes)} modes in the "
                         "stored options; the study is damaged.")
    return StudyData(root=study.root, name=name, metrics=metrics, modes=modes,
                     trials=tuple(trials), events=tuple(events), sweep=sweep,
                     live=study.is_locked())


def trial_value(trial: TrialRecord, metric: str) -> float | None:
    """The trial's last finite value of ``metric``; None when missing or not finite."""
    value = trial.value(metric)
    if value is None or math.isnan(value):
        return None
    return value


def parse_states(text: str | None) -> set[TrialState] | None:
    """``"completed,stopped"`` as a set of states; None for no filter."""
    if not text:
        return None
    out: set[TrialState] = set()
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        try:
            out.add(TrialState(name))
        except ValueError:
            allowed = ", ".join(s.value for s in TrialState)
            raise UsageError(f"--state {name!r}: not a trial state; use one or more of "
                             f"{allowed}, separated by commas.") from None
    return out or None
