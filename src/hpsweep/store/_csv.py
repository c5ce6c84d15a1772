"""``results.csv``: every trial that has ended, kept complete on disk at every moment.

Rows are appended as trials end (written before the store records the end, see
``Store.before_final``, so the file never lags behind the store); when a new parameter or metric
column appears the whole file is rewritten (atomically, through a temporary file and a rename).
A sweep killed at any point leaves a CSV that lists every trial that had ended.
``duration_s`` is how long the trial's processes ran (the sum of its runs; the time it sat paused
between them is not counted). ``steps`` is the largest step a trial reported (how far it
trained: a trial that ASHA stopped at step 3 shows 3 there, while ``resource`` stays its target
budget). When the objective is known
and a configuration has run more than once (``--repetitions``), four columns give each row its
configuration's standing: ``<metric>_mean`` and ``<metric>_sd`` over the configuration's
completed runs, ``config_n`` (how many) and ``config_rank`` (1 = best mean), the value that ranks
a configuration everywhere (see ``hpsweep._groups``).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hpsweep.trial import TrialRecord

__all__ = ["ResultsCsv", "active_seconds", "trial_row"]

_LEAD = ["trial_id", "state", "repetition", "seed"]
_TAIL = ["resource", "steps", "duration_s", "started", "finished", "worker_id", "gpu", "exit_code",
         "error", "trial_dir"]


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        import json

        return json.dumps(value)
    return "" if value is None else value


def active_seconds(trial: TrialRecord) -> float | None:
    """How long the trial's processes ran: the sum of its runs' spans (a paused trial's waiting
    time is not counted), as the tuner kept it, or from ``manifest.json`` for a study written
    before it did; without either, finished - started."""
    kept = trial.run_info.get("active_s")
    if isinstance(kept, (int, float)):
        return round(float(kept), 3)
    if trial.trial_dir:
        import json

        try:
            runs = json.loads((Path(trial.trial_dir) / "manifest.json").read_text()).get("runs")
        except (OSError, ValueError, AttributeError):
            runs = None
        spans = [float(r["finished"]) - float(r["started"]) for r in runs or []
                 if isinstance(r, dict) and isinstance(r.get("started"), (int, float))
                 and isinstance(r.get("finished"), (int, float))]
        if spans and len(spans) == len(runs or []):
            return round(sum(spans), 3)
    if trial.started is None or trial.finished is None:
        return None
    return round(trial.finished - trial.started, 3)


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
    duration = active_seconds(trial)
    steps = [r.step for r in trial.reports if isinstance(r.step, (int, float))]
    row.update({
        "resource": trial.resource, "steps": max(steps) if steps else None,
        "duration_s": duration,
        "started": trial.started, "finished": trial.finished, "worker_id": trial.worker_id,
        "gpu": trial.gpu, "exit_code": trial.exit_code,
        "error": (f"{trial.error_kind.value}: {trial.error or ''}".strip() if trial.error_kind
                  else trial.error),
        "trial_dir": trial.trial_dir,
    })
    return {k: ("" if v is None else v) for k, v in row.items()}


class ResultsCsv:
    """Keeps ``path`` equal to the table of ended trials."""

    def __init__(self, path: str | Path, *, param_names: Sequence[str] = (),
                 metric: str | None = None, mode: str = "min") -> None:
        self.path = Path(path)
        self._params = list(param_names)
        self._metrics: list[str] = []
        self._rows: dict[int, dict[str, Any]] = {}
        self._metric, self._mode = metric, mode
        self._trials: dict[int, TrialRecord] = {}
        self._grouped = False
        self._runs_of: dict[str, int] = {}  # configuration -> rows that have it
        self._repeated = 0  # configurations with more than one row

    @property
    def columns(self) -> list[str]:
        group = ([f"{self._metric}_mean", f"{self._metric}_sd", "config_n", "config_rank"]
                 if self._grouped else [])
        return _LEAD + self._params + self._metrics + group + _TAIL

    def rewrite(self, trials: Iterable[TrialRecord]) -> None:
        """Replace the file with exactly these trials (used at start and on resume)."""
        listed = list(trials)
        self._trials, self._runs_of, self._repeated = {}, {}, 0
        for t in listed:
            self._keep(t)
        self._rows = {t.trial_id: trial_row(t) for t in listed}
        for row in self._rows.values():
            self._learn(row)
        self._standings()
        self._write_all()

    def record(self, trial: TrialRecord) -> None:
        """Add or replace one ended trial (nothing to do when its row is already there)."""
        row = trial_row(trial)
        if self._rows.get(trial.trial_id) == row and self.path.exists():
            return
        replaced = trial.trial_id in self._rows
        self._rows[trial.trial_id] = row
        self._keep(trial)
        new_columns = self._learn(row)
        if self._standings() or replaced or new_columns or not self.path.exists():
            self._write_all()
        else:
            with self.path.open("a", newline="") as fh:
                csv.DictWriter(fh, fieldnames=self.columns, extrasaction="ignore").writerow(row)

    def _keep(self, trial: TrialRecord) -> None:
        from hpsweep._groups import config_key

        if trial.trial_id not in self._trials:
            key = config_key(trial.config)
            self._runs_of[key] = self._runs_of.get(key, 0) + 1
            self._repeated += self._runs_of[key] == 2
        self._trials[trial.trial_id] = trial

    def _standings(self) -> bool:
        """Fill each row's configuration standing; True when rows written before changed. Only
        a study where some configuration ran twice has standings (the check costs nothing
        otherwise, whatever the study's size)."""
        if self._metric is None or not self._repeated:
            return False
        from hpsweep._groups import config_groups

        groups = config_groups(self._trials.values(), self._metric, self._mode)
        if not any(g.n > 1 for g in groups):
            return False
        self._grouped = True
        rank = 0
        for group in groups:
            rank += 1 if group.mean is not None else 0
            cells = {f"{self._metric}_mean": group.mean, f"{self._metric}_sd": group.sd,
                     "config_n": group.n, "config_rank": rank if group.mean is not None else None}
            for t in group.runs:
                self._rows[t.trial_id].update({k: "" if v is None else v for k, v in cells.items()})
        return True

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
