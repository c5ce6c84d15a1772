"""How a run's exit is classified: a pure function of the exit event, the reports and the state."""

from __future__ import annotations

import math
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hpsweep.executors.base import ExitEvent
from hpsweep.trial import ErrorKind, TrialRecord, TrialState

__all__ = ["Outcome", "judge_exit", "reached_step"]


@dataclass(frozen=True)
class Outcome:
    state: TrialState
    error_kind: ErrorKind | None = None
    message: str = ""


def reached_step(trial: TrialRecord, *, since_seq: int = 0) -> int | None:
    """The largest step the trial reported (in reports from ``since_seq`` on)."""
    steps = [r.step for r in trial.reports if r.step is not None and r.seq >= since_seq]
    return max(steps) if steps else None


def judge_exit(trial: TrialRecord, event: ExitEvent, *, pending: TrialState | None,
               metrics: Sequence[str], max_resource: int | None, pauses: bool,
               previous_step: int | None) -> Outcome:
    """The state a run ends in.

    ``pending`` is the tuner's own decision when it stopped or paused the run. For a scheduler
    that ``pauses``, a run that ends by itself below ``max_resource`` is PAUSED, judged by the step
    it reached (not by its target); a resumed run that reported nothing beyond
    ``previous_step`` is STOPPED, since running it again would not move it on.
    """
    if pending is not None:
        return Outcome(pending)
    if event.error_kind is ErrorKind.LOST:
        return Outcome(TrialState.INTERRUPTED, ErrorKind.LOST, event.message or "its worker was lost")
    if event.error_kind is not None:
        return Outcome(TrialState.FAILED, event.error_kind, event.message)
    if event.exit_code not in (0, None):
        return Outcome(TrialState.FAILED, ErrorKind.CRASH, exit_message(event.exit_code, trial))
    for metric in metrics:
        value = trial.value(metric)
        if value is None:
            seen = ", ".join(sorted(trial.last_metrics)) or "nothing"
            return Outcome(TrialState.FAILED, ErrorKind.NO_METRIC,
                           f"the run ended without reporting {metric!r} (it reported: {seen})")
        if math.isnan(value):
            return Outcome(TrialState.FAILED, ErrorKind.NAN, f"{metric} = {trial.last_metrics[metric]!r}")
    reached = reached_step(trial)
    if pauses and max_resource is not None and (reached is None or reached < max_resource):
        if previous_step is not None and (reached is None or reached <= previous_step):
            return Outcome(TrialState.STOPPED, None,
                           f"the resumed run reported nothing beyond step {previous_step}")
        return Outcome(TrialState.PAUSED)
    return Outcome(TrialState.COMPLETED)


def exit_message(code: int, trial: TrialRecord) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        text = f"killed by {name}"
    else:
        text = f"exit code {code}"
    if trial.trial_dir:
        try:
            tail = (Path(trial.trial_dir) / "stderr.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            tail = []
        if tail:
            text += f": {tail[-1][-300:]}"
    return text
