"""Runs that were cut short: a controller died while they ran, or their worker was lost.

:class:`Reruns` is the policy (``on_interrupted``: ``"rerun"`` runs them again in place, ``"mark"``
only records them) and the queue of runs to start again. The scheduler is consulted first
(:meth:`~hpsweep.schedulers.base.Scheduler.on_interrupted`): a run it no longer wants is stopped
instead. :func:`recover_run` settles a run from what it left when the executor can tell that it
ended by itself.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from hpsweep.executors.base import Executor, ExitEvent
from hpsweep.schedulers.base import Scheduler
from hpsweep.store import Store
from hpsweep.trial import Decision, Report, TrialRecord

__all__ = ["Rerun", "Reruns", "recover_run"]

OnInterrupted = Literal["rerun", "mark"]


@dataclass(frozen=True)
class Rerun:
    """What becomes of an interrupted run: ``"rerun"`` (again in place, to the same target),
    ``"mark"`` (recorded as INTERRUPTED; ``resume`` runs it again) or ``"stop"`` (the scheduler
    no longer wants it: STOPPED with ``reason``)."""

    action: Literal["rerun", "mark", "stop"]
    reason: str = ""


class Reruns:
    """The re-run policy and the runs waiting to start again, in the order they were cut."""

    def __init__(self, on_interrupted: OnInterrupted = "rerun") -> None:
        if on_interrupted not in ("rerun", "mark"):
            raise ValueError(f"on_interrupted={on_interrupted!r}: use 'rerun' or 'mark'")
        self.on_interrupted: OnInterrupted = on_interrupted
        self._queue: deque[int] = deque()

    def decide(self, trial: TrialRecord, scheduler: Scheduler) -> Rerun:
        if self.on_interrupted == "mark":
            return Rerun("mark")
        verdict = scheduler.on_interrupted(trial)
        if verdict.decision is Decision.STOP:
            return Rerun("stop", verdict.reason or f"the {scheduler.name} scheduler ended it")
        return Rerun("rerun")

    def requeue(self, trial: TrialRecord) -> None:
        """Queue ``trial``'s run to start again. The cut run does not count as one of its runs."""
        if not trial.run_info.get("requeued"):
            trial.runs = max(0, trial.runs - 1)
            trial.run_info = {**trial.run_info, "requeued": True}
        self._queue.append(trial.trial_id)

    def next(self) -> int | None:
        return self._queue.popleft() if self._queue else None

    def __bool__(self) -> bool:
        return bool(self._queue)


def recover_run(trial: TrialRecord, executor: Executor, store: Store, now: float) -> tuple[bool, ExitEvent | None]:
    """Read back what a run the dead controller left wrote (``Executor.recover``): its reports
    replace what the store has of the run (a prefix of them). Returns whether anything was read
    back, and the run's exit when it ended by itself."""
    recovered = executor.recover(trial)
    if recovered is None:
        return False, None
    reports, exit_event = recovered
    first = int(trial.run_info.get("first_seq", 0))
    if any(r.seq >= first for r in trial.reports):
        store.drop_reports(trial.trial_id, from_seq=first)
        trial.reports = [r for r in trial.reports if r.seq < first]
        trial.last_metrics = {}
        for r in trial.reports:
            trial.last_metrics.update(r.metrics)
    for event in reports:
        report = Report(trial.trial_id, event.step, dict(event.metrics), event.time, len(trial.reports))
        trial.reports.append(report)
        trial.last_metrics.update(report.metrics)
        store.add_report(report)
    store.add_event("recovered", time=now, trial_id=trial.trial_id,
                    data={"reports": len(reports), "ended": exit_event is not None})
    return True, exit_event
