"""Value objects that cross the boundaries between searcher, scheduler, tuner, executor and store.

Everything here is a frozen dataclass or an enum: no tuple whose meaning shifts.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONTINUE",
    "Decision",
    "ErrorKind",
    "Report",
    "ResumeTrial",
    "StartTrial",
    "Suggestion",
    "TrialRecord",
    "TrialState",
    "Verdict",
    "objective_value",
]


class TrialState(str, enum.Enum):
    """Life cycle of a trial. ``RUNNING`` and ``PAUSED`` are the only non-final states."""

    RUNNING = "running"
    PAUSED = "paused"  # stopped at a rung, can be resumed with a larger budget
    COMPLETED = "completed"  # ran to its end (or its maximum budget) with a valid metric
    STOPPED = "stopped"  # stopped early by the scheduler; its reports stay valid
    FAILED = "failed"  # crashed, NaN, no metric or timed out (see ErrorKind)
    INTERRUPTED = "interrupted"  # the controller or its worker died while it ran

    @property
    def is_final(self) -> bool:
        return self not in (TrialState.RUNNING, TrialState.PAUSED)


class ErrorKind(str, enum.Enum):
    """Why a trial failed."""

    CRASH = "crash"  # non-zero exit status or killed by a signal
    NAN = "nan"  # the objective was NaN or infinite
    NO_METRIC = "no_metric"  # the script ended without reporting the objective
    TIMEOUT = "timeout"  # ran past --timeout-per-trial
    LAUNCH = "launch"  # could not be started at all
    LOST = "lost"  # the node it ran on disappeared


class Decision(str, enum.Enum):
    """A scheduler's answer to one report."""

    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"


@dataclass(frozen=True)
class Report:
    """One set of metrics a trial reported, at ``step`` (its resource, e.g. the epoch)."""

    trial_id: int
    step: int | None
    metrics: dict[str, Any]
    time: float  # the executor's clock: Unix time for real runs, simulated seconds otherwise
    seq: int = 0  # position in the trial's report sequence


@dataclass(frozen=True)
class StartTrial:
    """Start a new trial with ``config`` up to ``resource`` (``None``: no budget given)."""

    config: dict[str, Any]
    resource: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class ResumeTrial:
    """Resume paused trial ``trial_id`` up to ``resource``.

    PBT also passes a new ``config`` and the trial whose checkpoint is copied first
    (``checkpoint_from``).
    """

    trial_id: int
    resource: int
    config: dict[str, Any] | None = None
    checkpoint_from: int | None = None
    reason: str = ""


Suggestion = StartTrial | ResumeTrial


@dataclass
class TrialRecord:
    """A trial as the store knows it (mutable view owned by the tuner)."""

    trial_id: int
    config: dict[str, Any]
    state: TrialState
    seed: int | None = None
    repetition: int = 0
    resource: int | None = None  # target budget of the current or last run
    trial_dir: str = ""
    worker_id: int | None = None
    gpu: str | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None
    error_kind: ErrorKind | None = None
    error: str | None = None
    reports: list[Report] = field(default_factory=list)
    last_metrics: dict[str, Any] = field(default_factory=dict)
    runs: int = 0  # how many times a process was launched for it (starts + resumes)
    run_info: dict[str, Any] = field(default_factory=dict)  # pid/pgid/host/job id of the last run

    def value(self, metric: str) -> float | None:
        """The last reported finite value of ``metric``, or None."""
        return objective_value(self.last_metrics, metric)


def objective_value(metrics: dict[str, Any], metric: str) -> float | None:
    """``metrics[metric]`` as a finite float, None when missing, NaN when not finite or not a number."""
    if metric not in metrics:
        return None
    raw = metrics[metric]
    if isinstance(raw, bool):
        return float(raw)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


@dataclass(frozen=True)
class Verdict:
    """A scheduler's decision on one report, with the reason kept in the decision log."""

    decision: Decision
    reason: str = ""


CONTINUE = Verdict(Decision.CONTINUE)
