"""The Tuner: the one loop. Ask, launch, collect, decide, persist.

The same loop drives real processes (local, Ray, Slurm) and simulated trials: time comes from the
executor's clock. Every state change goes to the store before anything else happens, so a
controller killed at any moment resumes from the store alone.

A study ends when its budget is met (:class:`~hpsweep.tuner.budget.Budget`) and every trial is
final: after the last configuration has started the scheduler brings its paused trials to an end
(see :mod:`hpsweep.schedulers.base`), and the tuner never ends a study with a trial left PAUSED.
A run that a dead controller (or a lost worker) left behind goes back to its place: the same
trial, from its last checkpointed step, to the target it had, before anything else starts.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from hpsweep.errors import HpsweepError, UsageError
from hpsweep.executors.base import Executor, ExecutorEvent, ExitEvent, LaunchSpec, ReportEvent, Slot
from hpsweep.schedulers.base import Scheduler
from hpsweep.store import ResultsCsv, Store
from hpsweep.trial import (
    Decision,
    ErrorKind,
    Report,
    ResumeTrial,
    Suggestion,
    TrialRecord,
    TrialState,
    Verdict,
)
from hpsweep.tuner._judge import Outcome, judge_exit, reached_step
from hpsweep.tuner._laps import Laps
from hpsweep.tuner._progress import Progress
from hpsweep.tuner._reruns import OnInterrupted, Reruns, recover_run
from hpsweep.tuner.budget import Budget

__all__ = ["Launcher", "TuneResult", "Tuner", "TunerCallback", "derive_seed"]

_FREEZE_EVERY = 1000  # trial ends between two gc.freeze() calls


def derive_seed(study_seed: int, trial_id: int) -> int:
    """The seed of trial ``trial_id``: stable for a study seed, distinct across trials."""
    return int(np.random.SeedSequence([study_seed, trial_id]).generate_state(1)[0] % (2**31 - 1))


class Launcher(Protocol):
    """Turns a trial and its slot into a :class:`LaunchSpec` (and writes the trial's files)."""

    def build(self, trial: TrialRecord, slot: Slot, *, resume: bool,
              checkpoint_from: TrialRecord | None) -> LaunchSpec: ...

    def finished(self, trial: TrialRecord) -> None: ...


class TunerCallback(Protocol):
    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None: ...


@dataclass
class TuneResult:
    trials: list[TrialRecord]
    stopped_reason: str
    failures: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    error: HpsweepError | None = None  # a mistake found while running (e.g. no resource in reports)


class Tuner:
    """Runs a study to its end (or until stopped).

    ``budget`` (or the shortcuts ``num_trials`` and ``time_budget``) says what the study may
    spend; ``num_trials`` counts configurations (new trials of the first lap); with
    ``repetitions`` > 1 every configuration runs again in later laps, each lap after the previous
    one was launched. ``on_interrupted`` says what happens to runs that were going on when an
    earlier controller died: ``"rerun"`` runs them again in place, ``"mark"`` only records them
    as INTERRUPTED.
    """

    def __init__(
        self,
        *,
        store: Store,
        scheduler: Scheduler,
        executor: Executor,
        launcher: Launcher | None = None,
        metrics: Sequence[str] = (),
        budget: Budget | None = None,
        num_trials: int | None = None,
        repetitions: int = 1,
        time_budget: float | None = None,
        max_failures: int | None = None,
        timeout_per_trial: float | None = None,
        seed: int = 0,
        csv: ResultsCsv | None = None,
        callbacks: Sequence[TunerCallback] = (),
        on_interrupted: OnInterrupted = "rerun",
        resource_attr: str = "epoch",
        poll_interval: float = 0.2,
    ) -> None:
        if budget is None:
            budget = Budget(num_trials=num_trials, time=time_budget)
        elif num_trials is not None or time_budget is not None:
            raise UsageError("give the Tuner a budget or num_trials/time_budget, not both.")
        self.store = store
        self.scheduler = scheduler
        self.executor = executor
        self.launcher = launcher
        self.metrics = list(metrics) or [scheduler.metric]
        self.budget = budget
        self.repetitions = max(1, repetitions)
        self.max_failures = max_failures
        self.timeout_per_trial = timeout_per_trial
        self.seed = seed
        self.csv = csv
        self.callbacks = list(callbacks)
        self.reruns = Reruns(on_interrupted)
        self.resource_attr = resource_attr
        self.poll_interval = poll_interval
        self.trials: dict[int, TrialRecord] = {}
        self.progress = Progress()
        self.error: HpsweepError | None = None
        self.warnings: list[str] = []  # what the user should know, as it happened
        self._pending: dict[int, TrialState] = {}  # trial -> state once its stop lands
        self._pending_reason: dict[int, str] = {}
        self._laps = Laps(self.repetitions)
        self._arrivals_over = False
        self._draining = False  # no new launches; running trials finish
        self._killing = False
        self._final_end = ""  # the budget that ended the study (trials left are stopped)
        self._stop_reason = ""
        self._t0 = 0.0
        self._ended = 0

    # -- public controls -------------------------------------------------------------------------
    def request_stop(self, *, kill: bool, reason: str = "stopped by the user") -> None:
        """Stop launching; with ``kill`` also stop running trials (they become INTERRUPTED, and a
        resume runs them again)."""
        self._draining = True
        self._stop_reason = self._stop_reason or reason
        if kill and not self._killing:
            self._killing = True
            for tid in list(self.executor.running()):
                self._pending.setdefault(tid, TrialState.INTERRUPTED)
                self.executor.stop(tid)

    def _end_by_budget(self, reason: str) -> None:
        """The study is over: running trials are stopped for good, paused ones too at the end."""
        if self._final_end:
            return
        self._final_end = reason
        self._draining = True
        self._stop_reason = self._stop_reason or reason
        # The tuner's own view: a run whose exit is being handled in this batch counts too.
        for tid in [t.trial_id for t in self.trials.values() if t.state is TrialState.RUNNING]:
            self._pending.setdefault(tid, TrialState.STOPPED)
            self._pending_reason.setdefault(tid, reason)
            self.executor.stop(tid)

    @property
    def now(self) -> float:
        return self.executor.clock.now()

    @property
    def num_trials(self) -> int | None:
        return self.budget.num_trials

    @property
    def resource_spent(self) -> float:
        """The study's resource so far: the sum over trials of the largest step each reported."""
        return self.progress.spent

    @property
    def failures(self) -> int:
        return self.progress.failures

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> TuneResult:
        self._t0 = self.now
        self.scheduler.on_study_start(self.budget.num_trials)
        self._restore()
        try:
            while True:
                self._check_budget()
                launched = self._fill()
                if not self.executor.busy() and not launched and not self._can_restart():
                    if self._wind_down():
                        continue
                    break
                events = self.executor.poll(self.poll_interval)
                with self.store.batch():  # one commit for the step's reports and ends
                    for event in events:
                        self._handle(event)
                self._emit("tick", None)
        finally:
            self.executor.shutdown(kill=True)
            for tid in list(self._pending):
                if tid in self.trials and self.trials[tid].state is TrialState.RUNNING:
                    self._end(self.trials[tid], ExitEvent(tid, None, self.now, stopped=True))
        if not self._stop_reason:
            self._stop_reason = "all trials done"
        return TuneResult(sorted(self.trials.values(), key=lambda t: t.trial_id),
                          self._stop_reason, self.failures, error=self.error)

    def _wind_down(self) -> bool:
        """Nothing runs and nothing was launched: end the arrivals, retire paused trials, and
        say whether the loop should look again."""
        if self._draining and not self._final_end:
            return False  # stopped by the user or an error: paused trials stay resumable
        if not self._arrivals_over and not self._final_end:
            self._arrive_end()
            return True
        if self._retire():
            return True
        reason = self._final_end or "the study ended with it paused"
        for trial in sorted(self.trials.values(), key=lambda t: t.trial_id):
            if trial.state is TrialState.PAUSED:
                self._finalize(trial, TrialState.STOPPED, reason)
        return False

    def _check_budget(self) -> None:
        why = self.budget.spent(started=self.progress.started, resource=self.progress.spent,
                                elapsed=self.now - self._t0)
        if why is not None:
            self._end_by_budget(why)
        if self.max_failures is not None and self.failures > self.max_failures and not self._draining:
            self.request_stop(kill=False, reason=f"more than {self.max_failures} failed trials")

    def _arrive_end(self) -> None:
        if not self._arrivals_over:
            self._arrivals_over = True
            self.scheduler.no_more_arrivals()

    def _retire(self) -> bool:
        retired = False
        for tid, reason in self.scheduler.retire():
            trial = self.trials.get(tid)
            if trial is not None and trial.state is TrialState.PAUSED:
                self._finalize(trial, TrialState.STOPPED, reason)
                retired = True
        return retired

    def _finalize(self, trial: TrialRecord, state: TrialState, reason: str) -> None:
        """A paused trial ends without running again."""
        trial.state, trial.error = state, reason
        if self.launcher is not None:
            self.launcher.finished(trial)
        self.store.update_trial(trial, event="retire", time=self.now, data={
            "state": state.value, "resource": trial.resource, "reason": reason})
        self.store.add_event("decision", time=self.now, trial_id=trial.trial_id, data={
            "decision": Decision.STOP.value, "resource": trial.resource, "reason": reason})
        self.scheduler.on_trial_end(trial)
        self._after_end(trial)

    # -- restoring from the store ----------------------------------------------------------------
    def _restore(self) -> None:
        trials = self.store.trials()
        self.trials = {t.trial_id: t for t in trials}
        running = {t.trial_id: t.trial_dir for t in trials
                   if t.state is TrialState.RUNNING and t.trial_dir}
        # Executors whose jobs outlive the controller (Slurm, LSF) follow them again.
        attached = set(self.executor.reattach(running)) if running else set()
        settle: dict[int, ExitEvent] = {}  # runs that ended while no controller watched
        for trial in trials:
            if trial.trial_id in attached:
                self.store.add_event("reattached", time=self.now, trial_id=trial.trial_id)
            elif trial.state is TrialState.RUNNING:  # its controller died
                _, exit_event = recover_run(trial, self.executor, self.store, self.now)
                if exit_event is not None:
                    settle[trial.trial_id] = exit_event
                else:
                    self._interrupted(trial, "the controller stopped while this trial ran")
        self.progress = Progress.of(trials)
        self.scheduler.restore(trials)
        n = self.budget.num_trials
        capacity = self.scheduler.capacity
        started = self.progress.started
        if (n is not None and started >= n) or (capacity is not None and started >= capacity):
            self._arrive_end()
        for tid, exit_event in sorted(settle.items()):
            self._end(self.trials[tid], exit_event)
        if self.csv is not None:
            self.csv.rewrite(t for t in trials if t.state is not TrialState.RUNNING)

    def _interrupted(self, trial: TrialRecord, why: str) -> None:
        """A run the dead controller left: run again in place, or recorded as it stands."""
        rerun = self.reruns.decide(trial, self.scheduler)
        if rerun.action == "rerun":
            self._requeue(trial, why)
            return
        if rerun.action == "stop":
            trial.state, trial.error = TrialState.STOPPED, rerun.reason
            self.store.add_event("decision", time=self.now, trial_id=trial.trial_id, data={
                "decision": Decision.STOP.value, "resource": trial.resource, "reason": rerun.reason})
        else:
            trial.state = TrialState.INTERRUPTED
            trial.error_kind = trial.error_kind or ErrorKind.LOST
            trial.error = why
        trial.finished = trial.finished or self.now
        self.store.update_trial(trial, event="interrupted", time=self.now,
                                data={"state": trial.state.value, "reason": trial.error})

    def _requeue(self, trial: TrialRecord, why: str) -> None:
        """Run the interrupted run of ``trial`` again in place, to the same target (the run does
        not count). Its reports stay: the new run continues from the trial's checkpoint and
        reports what it reaches again, at the same steps."""
        self.reruns.requeue(trial)
        trial.state = TrialState.RUNNING
        self.store.update_trial(trial, event="interrupted", time=self.now, data={
            "reason": why, "resource": trial.resource, "rerun": "in place"})

    # -- launching -------------------------------------------------------------------------------
    def _allow_new(self) -> bool:
        if self._draining or self._arrivals_over:
            return False
        n = self.budget.num_trials
        if n is not None and self.progress.started >= n:
            self._arrive_end()
            return False
        return True

    def _next(self, next_id: int) -> tuple[Suggestion, dict[str, Any]] | None:
        allow_new = self._allow_new()
        suggestion = self.scheduler.suggest(next_id, allow_new=allow_new)
        if suggestion is not None:
            return suggestion, {}
        if allow_new:
            capacity = self.scheduler.capacity
            if (capacity is not None and self.progress.started >= capacity) or not self.executor.busy():
                self._arrive_end()
        if self.repetitions > 1 and not self._draining and (self._arrivals_over or not allow_new):
            return self._laps.next(self.trials)
        return None

    def _can_restart(self) -> bool:
        """Runs to start again in place, and the sweep is not being stopped (then they stay
        RUNNING in the store, and the next resume starts them)."""
        return bool(self.reruns) and not self._draining

    def _fill(self) -> bool:
        launched = False
        while not self._draining:
            slot = self.executor.reserve()
            if slot is None:
                break
            rerun = self.reruns.next()
            if rerun is not None:
                self._relaunch(slot, self.trials[rerun])
                launched = True
                continue
            next_id = self.store.next_trial_id()
            picked = self._next(next_id)
            if picked is None:
                self.executor.release(slot)
                break
            self._launch(slot, picked[0], picked[1], next_id)
            launched = True
        return launched

    def _relaunch(self, slot: Slot, trial: TrialRecord) -> None:
        """Start again the run a dead controller (or a lost worker) left, same target."""
        from_step = trial.run_info.get("from_step")
        trial.run_info = {k: v for k, v in trial.run_info.items() if k != "requeued"}
        self._start_run(slot, trial, kind="resume" if from_step is not None else "start",
                        resume=from_step is not None, source=None, from_step=from_step,
                        reason="run again in place: the controller or worker stopped while it ran")

    def _launch(self, slot: Slot, suggestion: Suggestion, extra: dict[str, Any], next_id: int) -> None:
        source: TrialRecord | None = None
        if isinstance(suggestion, ResumeTrial):
            trial = self.trials[suggestion.trial_id]
            if trial.state is not TrialState.PAUSED:
                raise RuntimeError(f"scheduler resumed trial {trial.trial_id} in state {trial.state}")
            if suggestion.config is not None:
                trial.config = dict(suggestion.config)
            if suggestion.checkpoint_from is not None:
                source = self.trials[suggestion.checkpoint_from]
            trial.resource = suggestion.resource
            kind, resume = "resume", True
            from_step = reached_step(trial)
        else:
            seed = extra.get("seed")
            trial = TrialRecord(
                trial_id=next_id, config=dict(suggestion.config), state=TrialState.RUNNING,
                seed=seed if seed is not None else derive_seed(self.seed, next_id),
                repetition=int(extra.get("repetition", 0)), resource=suggestion.resource,
                created=self.now,
                run_info={k: v for k, v in extra.items() if k in ("rerun_of", "lap_of")},
            )
            self.store.add_trial(trial)
            self.trials[trial.trial_id] = trial
            self.progress.started_trial(trial)
            kind, resume, from_step = "start", False, None
        self._start_run(slot, trial, kind=kind, resume=resume, source=source, reason=suggestion.reason,
                        from_step=from_step)

    def _start_run(self, slot: Slot, trial: TrialRecord, *, kind: str, resume: bool,
                   source: TrialRecord | None, reason: str, from_step: int | None) -> None:
        now = self.now
        trial.state = TrialState.RUNNING
        trial.worker_id, trial.gpu = slot.worker_id, slot.gpu
        trial.started = trial.started if resume and trial.started else now
        trial.finished = None
        trial.exit_code = None
        trial.runs += 1
        trial.run_info = {**trial.run_info, "first_seq": len(trial.reports), "from_step": from_step,
                          "run_started": now}
        spec = (self.launcher.build(trial, slot, resume=resume, checkpoint_from=source)
                if self.launcher else LaunchSpec(trial.trial_id, (), "", resource=trial.resource,
                                                 config=dict(trial.config)))
        if self.timeout_per_trial and spec.timeout is None:
            spec = _with_timeout(spec, self.timeout_per_trial)
        trial.trial_dir = spec.trial_dir
        self.store.update_trial(trial, event=kind, time=now, data={
            "decision": kind, "resource": trial.resource, "worker_id": slot.worker_id,
            "gpu": slot.gpu, "reason": reason,
            **({"checkpoint_from": source.trial_id} if source else {})})
        self.scheduler.on_trial_start(trial)
        self.executor.launch(slot, spec)
        self._emit(kind, trial)

    # -- events ----------------------------------------------------------------------------------
    def _handle(self, event: ExecutorEvent) -> None:
        trial = self.trials.get(event.trial_id)
        if trial is None or trial.state is not TrialState.RUNNING:
            return
        if isinstance(event, ReportEvent):
            self._report(trial, event)
        else:
            self._end(trial, event)

    def _report(self, trial: TrialRecord, event: ReportEvent) -> None:
        report = Report(trial.trial_id, event.step, dict(event.metrics), event.time, len(trial.reports))
        if report.step is None and self.scheduler.needs_resource and self.error is None \
                and not self.progress.reported(trial.trial_id):  # its first report has no step
            self._resource_missing(trial, report)
        trial.reports.append(report)
        trial.last_metrics.update(event.metrics)
        self.store.add_report(report)
        if self.progress.reach(trial.trial_id, report.step) and self.budget.resource is not None \
                and self.progress.spent >= self.budget.resource:
            self._check_budget()  # at the report that spends it, not at the next loop turn
        self._check_restart(trial, report)
        if trial.trial_id in self._pending:
            target = trial.resource
            if (self._pending[trial.trial_id] is TrialState.PAUSED and target is not None
                    and report.step is not None and report.step > target):
                self.executor.stop(trial.trial_id)  # the script ignores its budget
            return
        verdict = self.scheduler.on_report(trial, report)
        if verdict.decision is not Decision.CONTINUE or verdict.reason:
            self._log_decision(trial, report, verdict)
        if verdict.decision is Decision.STOP:
            self._pending[trial.trial_id] = TrialState.STOPPED
            self._pending_reason[trial.trial_id] = verdict.reason
            self.executor.stop(trial.trial_id)
        elif verdict.decision is Decision.PAUSE:
            self._pending[trial.trial_id] = TrialState.PAUSED
            at_target = (trial.resource is not None and report.step is not None
                         and report.step >= trial.resource)
            if not at_target:  # at its target the script ends by itself, checkpoint written
                self.executor.stop(trial.trial_id)
        self._emit("report", trial)

    def _resource_missing(self, trial: TrialRecord, report: Report) -> None:
        keys = ", ".join(sorted(report.metrics)) or "nothing"
        self.error = UsageError(
            f"the {self.scheduler.name} scheduler decides by the resource, but trial "
            f"{trial.trial_id}'s report carries {keys} and no step; --resource-attr "
            f"{self.resource_attr} matches none of them. Pass --resource-attr with the key that "
            "holds the epoch, or report with hpsweep.report(step=epoch, ...).")
        self.request_stop(kill=True, reason="the reports carry no resource")

    def _check_restart(self, trial: TrialRecord, report: Report) -> None:
        """A resumed run whose first report lies at or below the step already reached retrains
        from scratch: say so once per trial (the script did not load its checkpoint)."""
        before = trial.run_info.get("from_step")
        first = trial.run_info.get("first_seq")
        if before is None or first is None or report.seq != first or report.step is None:
            return
        if report.step <= before:
            text = (f"resumed at step {report.step} though it had reached {before}: the script did "
                    "not restore its checkpoint from $HPSWEEP_CHECKPOINT_DIR and trains again from "
                    "the start")
            self.warnings.append(text)
            self.store.add_event("warning", time=report.time, trial_id=trial.trial_id,
                                 data={"reason": text})
            self._emit("warning", trial)

    def _log_decision(self, trial: TrialRecord, report: Report, verdict: Verdict) -> None:
        self.store.add_event("decision", time=report.time, trial_id=trial.trial_id, data={
            "decision": verdict.decision.value, "resource": report.step, "reason": verdict.reason})

    def _end(self, trial: TrialRecord, event: ExitEvent) -> None:
        pending = self._pending.pop(trial.trial_id, None)
        reason = self._pending_reason.pop(trial.trial_id, "")
        previous = trial.run_info.get("from_step")
        outcome = judge_exit(trial, event, pending=pending, metrics=self.metrics,
                             max_resource=self.scheduler.max_resource, pauses=self.scheduler.pauses,
                             previous_step=previous)
        if outcome.state is TrialState.INTERRUPTED and event.error_kind is ErrorKind.LOST \
                and not self._killing:  # its worker was lost
            rerun = self.reruns.decide(trial, self.scheduler)
            if rerun.action == "rerun":
                self._requeue(trial, outcome.message)
                return
            if rerun.action == "stop":
                outcome = Outcome(TrialState.STOPPED, None, rerun.reason)
        state = outcome.state
        if state is TrialState.PAUSED:
            reached = reached_step(trial)
            if reached is not None:
                trial.resource = reached
        trial.state, trial.error_kind = state, outcome.error_kind
        trial.error = outcome.message or reason or None
        trial.exit_code = event.exit_code
        trial.finished = event.time
        began = trial.run_info.get("run_started")
        if isinstance(began, (int, float)):  # the time its runs took, pauses left out
            active = float(trial.run_info.get("active_s", 0.0)) + max(0.0, event.time - began)
            trial.run_info = {**trial.run_info, "active_s": round(active, 3)}
        if state is TrialState.FAILED:
            self.progress.failures += 1
        if self.launcher is not None:  # the run's span in its manifest first: results.csv reads it
            self.launcher.finished(trial)
        self.store.update_trial(trial, event="end", time=event.time, data={
            "state": state.value, "exit_code": event.exit_code,
            "error_kind": outcome.error_kind.value if outcome.error_kind else None,
            "resource": trial.resource, **({"reason": trial.error} if trial.error else {})})
        self.scheduler.on_trial_end(trial)
        self._after_end(trial)
        if not self._draining:
            self._retire()

    def _after_end(self, trial: TrialRecord) -> None:
        self._ended += 1
        if self._ended % _FREEZE_EVERY == 0:
            # The records of ended trials live as long as the study: moved out of the cyclic
            # collector's view, a full collection no longer walks every report ever stored.
            gc.freeze()
        if self.csv is not None and not (trial.state.is_final
                                         and self.store.before_final == self.csv.record):
            self.csv.record(trial)  # a final state was recorded on its way to the store
        self._emit("end", trial)

    def _emit(self, kind: str, trial: TrialRecord | None) -> None:
        for cb in self.callbacks:
            cb.on_event(kind, trial, self)


def _with_timeout(spec: LaunchSpec, timeout: float) -> LaunchSpec:
    from dataclasses import replace

    return replace(spec, timeout=timeout)
