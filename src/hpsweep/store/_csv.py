"""``results.csv``: every trial that has ended, kept complete on disk at every moment.

Rows are appended as trials end (written before the store records the end, see
``Store.before_final``, so the file never lags behind the store); when a new parameter or metric
column appears the whole file is rewritten (atomically, through a temporary file and a rename).
A sweep killed at any point leaves a CSV that lists every trial that had ended.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hpsweep.trial import TrialRecord

__all__ = ["ResultsCsv", "trial_row"]

_LEAD = ["trial_id", "state", "repetition", "seed"]
_TAIL = ["resource", "duration_s", "started", "finished", "worker_id", "gpu", "exit_code",
         "error", "trial_dir"]


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        import json

        return json.dumps(value)
    return "" if value is None else value


def trial_row(trial: TrialRecord) -> dict[str, Any]:
    """The CSV cells of one trial: parameters by name, metrics by name (``metric:`` when a metric
    has a parameter's name)."""
    row: dict[str, Any] = {
        "trial_id": trial.trial_id, "state": trial.state.value, "repetition": trial.repetition,
        "seed": trial.seed,
    }
    for key, value in trial.config.items():
        row[key] = _cell(value)
    for key, value in trial.last_metrics.items():
        name = f"metric:{key}" if key in trial.config or key in _LEAD or key in _TAIL else key
        row[name] = _cell(value)
    duration = (trial.finished - trial.started) if trial.started and trial.finished else None
    row.update({
        "resource": trial.resource, "duration_s": None if duration is None else round(duration, 3),
        "started": trial.started, "finished": trial.finished, "worker_id": trial.worker_id,
        "gpu": trial.gpu, "exit_code": trial.exit_code,
        "error": (f"{trial.error_kind.value}: {trial.error or ''}".strip() if trial.error_kind
                  else trial.error),
        "trial_dir": trial.trial_dir,
    })
    return {k: ("" if v is None else v) for k, v in row.items()}


class ResultsCsv:
    """Keeps ``path`` equal to the table of ended trials."""

    def __init__(self, path: str | Path, *, param_names: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self._params = list(param_names)
        self._metrics: list[str] = []
        self._rows: dict[int, dict[str, Any]] = {}

    @property
    def columns(self) -> list[str]:
        return _LEAD + self._params + self._metrics + _TAIL

    def rewrite(self, trials: Iterable[TrialRecord]) -> None:
        """Replace the file with exactly these trials (used at start and on resume)."""
        self._rows = {t.trial_id: trial_row(t) for t in trials}
        for row in self._rows.values():
            self._learn(row)
        self._write_all()

    def record(self, trial: TrialRecord) -> None:
        """Add or replace one ended trial (nothing to do when its row is already there)."""
        row = trial_row(trial)
        if self._rows.get(trial.trial_id) == row and self.path.exists():
            return
        replaced = trial.trial_id in self._rows
        self._rows[trial.trial_id] = row
        new_columns = self._learn(row)
        if replaced or new_columns or not self.path.exists():
            self._write_all()
        else:
            with self.path.open("a", newline="") as fh:
                csv.DictWriter(fh, fieldnames=self.columns, extrasaction="ignore").writerow(row)

    def _learn(self, row: dict[str, Any]) -> bool:
        known = set(self.columns)
        added = False
        for key in row:
            if key not in known:
                (self._metrics if key not in self._params else self._params).append(key)
                known.add(key)
                added = True
        return added

    def _write_all(self) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        for row in self._rows.values():  # the order trials ended in, as appended
            writer.writerow(row)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(buf.getvalue())
        os.replace(tmp, self.path)
