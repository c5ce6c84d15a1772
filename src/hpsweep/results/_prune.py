"""Pruning the folders of poorer trials: ``--keep-best N`` and ``--performance-criteria``.

A criterion is ``METRIC OP NUMBER`` with ``OP`` one of ``< <= > >= == !=``; several are joined with
``,`` or ``and`` and must all hold (``"val_acc>=0.9, loss<0.5"``). It is parsed by a regular
expression, never evaluated as code. A trial without a finite value of the metric fails it.
"""

from __future__ import annotations

import math
import operator
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hpsweep.errors import UsageError
from hpsweep.results._study import StudyData, trial_value
from hpsweep.results._table import sort_trials
from hpsweep.trial import TrialRecord

__all__ = ["Criterion", "PrunePlan", "delete_folders", "parse_criteria", "plan_prune"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt,
}
_CRITERION = re.compile(
    r"\s*(?P<metric>[A-Za-z_][\w.:\-/]*)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf)\s*\Z"
)


@dataclass(frozen=True)
class Criterion:
    """``metric op value``: a rule a trial's last reported value must satisfy."""

    metric: str
    op: str
    value: float

    def holds(self, trial: TrialRecord) -> bool:
        found = trial_value(trial, self.metric)
        return found is not None and _OPS[self.op](found, self.value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"


def parse_criteria(text: str) -> list[Criterion]:
    """``"val_acc>=0.9, loss<0.5"`` as criteria that must all hold."""
    parts = [p for p in re.split(r",|\band\b", text) if p.strip()]
    if not parts:
        raise UsageError(f"--performance-criteria {text!r}: empty; write e.g. 'val_acc>=0.9'.")
    out: list[Criterion] = []
    for part in parts:
        match = _CRITERION.match(part)
        if match is None:
            raise UsageError(
                f"--performance-criteria: cannot read {part.strip()!r}; write METRIC OP NUMBER "
                "with OP one of < <= > >= == != (e.g. 'val_acc>=0.9'), joined by ',' or 'and'."
            )
        value = float(match["value"])
        if math.isnan(value):
            raise UsageError(f"--performance-criteria {part.strip()!r}: compare with a number.")
        out.append(Criterion(match["metric"], match["op"], value))
    return out


@dataclass(frozen=True)
class PrunePlan:
    """Which trial folders go and which stay (only ended trials with a folder are considered)."""

    delete: tuple[TrialRecord, ...]
    keep: tuple[TrialRecord, ...]


def plan_prune(data: StudyData, *, keep_best: int | None = None,
               criteria: Sequence[Criterion] = ()) -> PrunePlan:
    """Trials whose folder goes: not among the ``keep_best`` best by the objective, or failing
    a criterion. Running and paused trials, and folders outside the study, are never touched."""
    if keep_best is None and not criteria:
        raise UsageError("nothing to prune by: give --keep-best N and/or --performance-criteria.")
    if keep_best is not None and keep_best < 0:
        raise UsageError(f"--keep-best must be >= 0, got {keep_best}.")
    candidates = [t for t in data.trials if t.state.is_final and _inside(data.root, t.trial_dir)
                  and Path(t.trial_dir).is_dir()]
    best_ids: set[int] | None = None
    if keep_best is not None:
        ranked = [t for t in sort_trials(list(data.trials), data.metric, data.mode)
                  if trial_value(t, data.metric) is not None]
        best_ids = {t.trial_id for t in ranked[:keep_best]}
    delete: list[TrialRecord] = []
    keep: list[TrialRecord] = []
    for trial in candidates:
        poor = best_ids is not None and trial.trial_id not in best_ids
        poor = poor or not all(c.holds(trial) for c in criteria)
        (delete if poor else keep).append(trial)
    return PrunePlan(delete=tuple(delete), keep=tuple(keep))


def _inside(root: Path, folder: str) -> bool:
    if not folder:
        return False
    try:
        Path(folder).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return Path(folder).resolve() != root.resolve()


def delete_folders(plan: PrunePlan) -> list[str]:
    """Remove the folders of ``plan.delete``; returns the removed paths."""
    removed = []
    for trial in plan.delete:
        shutil.rmtree(trial.trial_dir, ignore_errors=True)
        removed.append(trial.trial_dir)
    return removed
