"""The Tuner: the one loop. Ask, launch, collect, decide, persist.

The same loop drives real processes (local, Ray, Slurm) and simulated trials: time comes from the
executor's clock. Every state change goes to the store before anything else happens, so a
controller killed at any moment resumes from the store alone.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from hpsweep.executors.base import Executor, ExecutorEvent, ExitEvent, LaunchSpec, ReportEvent, Slot
from hpsweep.schedulers.base import Scheduler
from hpsweep.store import ResultsCsv, Store
from hpsweep.trial import (
    Decision,
    ErrorKind,
    Report,
    ResumeTrial,
    StartTrial,
    Suggestion,
    TrialRecord,
    TrialState,
    Verdict,
)

__all__ = ["Launcher", "TuneResult", "Tuner", "TunerCallback", "derive_seed"]


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


class Tuner:
    """Runs a study to its end (or until stopped).

    ``num_trials`` counts configurations (new trials of the first lap); with ``repetitions`` > 1
    every configuration runs again in later laps, each lap after the previous one was launched.
    ``time_budget`` is in the executor clock's seconds, from the loop's start.
    ``on_interrupted`` says what happens to trials that were running when an earlier controller
    died: ``"rerun"`` runs their configuration again as a new trial, ``"mark"`` only records them.
    """

    def __init__(
        self,
        *,
        store: Store,
        scheduler: Scheduler,
        executor: Executor,
        launcher: Launcher | None = None,
        metrics: Sequence[str] = (),
        num_trials: int | None = None,
        repetitions: int = 1,
        time_budget: float | None = None,
        max_failures: int | None = None,
        timeout_per_trial: float | None = None,
        seed: int = 0,
        csv: ResultsCsv | None = None,
        callbacks: Sequence[TunerCallback] = (),
        on_interrupted: Literal["rerun", "mark"] = "rerun",
        poll_interval: float = 0.2,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.executor = executor
        self.launcher = launcher
        self.metrics = list(metrics) or [scheduler.metric]
        self.num_trials = num_trials
        self.repetitions = max(1, repetitions)
        self.time_budget = time_budget
        self.max_failures = max_failures
        self.timeout_per_trial = timeout_per_trial
        self.seed = seed
        self.csv = csv
        self.callbacks = list(callbacks)
        self.on_interrupted = on_interrupted
        self.poll_interval = poll_interval
        self.trials: dict[int, TrialRecord] = {}
        self.failures = 0
        self._pending: dict[int, TrialState] = {}  # trial -> state once its stop lands
        self._reruns: deque[int] = deque()
        self._laps: deque[int] = deque()
        self._laps_built = False
        self._searcher_done = False
        self._draining = False  # no new launches; running trials finish
        self._killing = False
        self._stop_reason = ""
        self._t0 = 0.0

    # -- public controls -------------------------------------------------------------------------
    def request_stop(self, *, kill: bool, reason: str = "stopped by the user") -> None:
        """Stop launching; with ``kill`` also stop running trials (they become INTERRUPTED)."""
        self._draining = True
        self._stop_reason = self._stop_reason or reason
        if kill and not self._killing:
            self._killing = True
            for tid in self.executor.running():
                self._pending.setdefault(tid, TrialState.INTERRUPTED)
                self.executor.stop(tid)

    @property
    def now(self) -> float:
        return self.executor.clock.now()

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> TuneResult:
        self._t0 = self.now
        self._restore()
        try:
            while True:
                self._check_budget()
                launched = self._fill()
                if not self.executor.running() and not launched:
                    break
                for event in self.executor.poll(self.poll_interval):
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
                          self._stop_reason, self.failures)

    def _check_budget(self) -> None:
        if self.time_budget is not None and self.now - self._t0 >= self.time_budget:
            self.request_stop(kill=True, reason="time budget spent")
        if self.max_failures is not None and self.failures > self.max_failures and not self._draining:
            self.request_stop(kill=False, reason=f"more than {self.max_failures} failed trials")

    # -- restoring from the store ----------------------------------------------------------------
    def _restore(self) -> None:
        trials = self.store.trials()
        self.trials = {t.trial_id: t for t in trials}
        running = {t.trial_id: t.trial_dir for t in trials
                   if t.state is TrialState.RUNNING and t.trial_dir}
        # Executors whose jobs outlive the controller (Slurm, LSF) follow them again.
        reattach = getattr(self.executor, "reattach", None)
        attached = set(reattach(running)) if reattach is not None and running else set()
        for trial in trials:
            if trial.trial_id in attached:
                self.store.add_event("reattached", time=self.now, trial_id=trial.trial_id)
            elif trial.state is TrialState.RUNNING:  # its controller died
                trial.state = TrialState.INTERRUPTED
                trial.error_kind = trial.error_kind or ErrorKind.LOST
                trial.error = "the controller stopped while this trial ran"
                trial.finished = trial.finished or self.now
                self.store.update_trial(trial, event="interrupted", time=self.now)
                if self.on_interrupted == "rerun":
                    self._reruns.append(trial.trial_id)
            elif trial.state is TrialState.INTERRUPTED and self.on_interrupted == "rerun" and \
                    not self._was_rerun(trial.trial_id, trials):
                self._reruns.append(trial.trial_id)
        self.failures = sum(1 for t in trials if t.state is TrialState.FAILED)
        self.scheduler.restore(trials)
        if self.csv is not None:
            self.csv.rewrite(t for t in trials if t.state is not TrialState.RUNNING)

    @staticmethod
    def _was_rerun(trial_id: int, trials: Sequence[TrialRecord]) -> bool:
        return any(t.run_info.get("rerun_of") == trial_id for t in trials)

    # -- launching -------------------------------------------------------------------------------
    def _first_lap(self) -> list[TrialRecord]:
        return [t for t in self.trials.values()
                if t.repetition == 0 and "rerun_of" not in t.run_info]

    def _allow_new(self) -> bool:
        if self._draining or self._searcher_done:
            return False
        return self.num_trials is None or len(self._first_lap()) < self.num_trials

    def _next(self, next_id: int) -> tuple[Suggestion, dict[str, Any]] | None:
        while self._reruns:
            old = self.trials[self._reruns.popleft()]
            if self._was_rerun(old.trial_id, list(self.trials.values())):
                continue
            return (StartTrial(old.config, old.resource, f"re-run of interrupted trial {old.trial_id}"),
                    {"rerun_of": old.trial_id, "repetition": old.repetition, "seed": old.seed})
        allow_new = self._allow_new()
        suggestion = self.scheduler.suggest(next_id, allow_new=allow_new)
        if suggestion is not None:
            return suggestion, {}
        if allow_new:
            total = self.scheduler.searcher.total
            if (total is not None and len(self._first_lap()) >= total) or not self.executor.running():
                self._searcher_done = True
        if self.repetitions > 1 and not self._draining and (self._searcher_done or not allow_new):
            return self._next_lap()
        return None

    def _next_lap(self) -> tuple[Suggestion, dict[str, Any]] | None:
        if not self._laps_built:
            self._laps_built = True
            firsts = sorted(self._first_lap(), key=lambda t: t.trial_id)
            done = {(t.run_info.get("lap_of"), t.repetition) for t in self.trials.values()
                    if t.repetition > 0}
            for rep in range(1, self.repetitions):
                for t in firsts:
                    if (t.trial_id, rep) not in done:
                        self._laps.append(t.trial_id * self.repetitions + rep)
        if not self._laps:
            return None
        code = self._laps.popleft()
        origin = self.trials[code // self.repetitions]
        rep = code % self.repetitions
        return (StartTrial(origin.config, origin.resource, f"repetition {rep} of trial {origin.trial_id}"),
                {"lap_of": origin.trial_id, "repetition": rep})

    def _fill(self) -> bool:
        launched = False
        while not self._draining:
            slot = self.executor.reserve()
            if slot is None:
                break
            next_id = self.store.next_trial_id()
            picked = self._next(next_id)
            if picked is None:
                self.executor.release(slot)
                break
            self._launch(slot, picked[0], picked[1], next_id)
            launched = True
        return launched

    def _launch(self, slot: Slot, suggestion: Suggestion, extra: dict[str, Any], next_id: int) -> None:
        now = self.now
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
        else:
            seed = extra.get("seed")
            trial = TrialRecord(
                trial_id=next_id, config=dict(suggestion.config), state=TrialState.RUNNING,
                seed=seed if seed is not None else derive_seed(self.seed, next_id),
                repetition=int(extra.get("repetition", 0)), resource=suggestion.resource,
                created=now,
                run_info={k: v for k, v in extra.items() if k in ("rerun_of", "lap_of")},
            )
            self.store.add_trial(trial)
            self.trials[trial.trial_id] = trial
            kind, resume = "start", False
        trial.state = TrialState.RUNNING
        trial.worker_id, trial.gpu = slot.worker_id, slot.gpu
        trial.started = trial.started if resume and trial.started else now
        trial.finished = None
        trial.exit_code = None
        trial.runs += 1
        spec = (self.launcher.build(trial, slot, resume=resume, checkpoint_from=source)
                if self.launcher else LaunchSpec(trial.trial_id, (), "", resource=trial.resource,
                                                 config=dict(trial.config)))
        if self.timeout_per_trial and spec.timeout is None:
            spec = _with_timeout(spec, self.timeout_per_trial)
        trial.trial_dir = spec.trial_dir
        self.store.update_trial(trial, event=kind, time=now, data={
            "decision": kind, "resource": trial.resource, "worker_id": slot.worker_id,
            "gpu": slot.gpu, "reason": suggestion.reason,
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
        trial.reports.append(report)
        trial.last_metrics.update(event.metrics)
        self.store.add_report(report)
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
            self.executor.stop(trial.trial_id)
        elif verdict.decision is Decision.PAUSE:
            self._pending[trial.trial_id] = TrialState.PAUSED
            at_target = (trial.resource is not None and report.step is not None
                         and report.step >= trial.resource)
            if not at_target:  # at its target the script ends by itself, checkpoint written
                self.executor.stop(trial.trial_id)
        self._emit("report", trial)

    def _log_decision(self, trial: TrialRecord, report: Report, verdict: Verdict) -> None:
        self.store.add_event("decision", time=report.time, trial_id=trial.trial_id, data={
            "decision": verdict.decision.value, "resource": report.step, "reason": verdict.reason})

    def _judge(self, trial: TrialRecord, event: ExitEvent) -> tuple[TrialState, ErrorKind | None, str]:
        pending = self._pending.pop(trial.trial_id, None)
        if pending is not None:
            return pending, None, ""
        if event.error_kind is ErrorKind.LOST:
            return TrialState.INTERRUPTED, ErrorKind.LOST, event.message or "its worker was lost"
        if event.error_kind is not None:
            return TrialState.FAILED, event.error_kind, event.message
        if event.exit_code not in (0, None):
            return TrialState.FAILED, ErrorKind.CRASH, _exit_message(event.exit_code, trial)
        for metric in self.metrics:
            value = trial.value(metric)
            if value is None:
                seen = ", ".join(sorted(trial.last_metrics)) or "nothing"
                return (TrialState.FAILED, ErrorKind.NO_METRIC,
                        f"the run ended without reporting {metric!r} (it reported: {seen})")
            if math.isnan(value):
                return TrialState.FAILED, ErrorKind.NAN, f"{metric} = {trial.last_metrics[metric]!r}"
        max_r = self.scheduler.max_resource
        if trial.resource is not None and max_r is not None and trial.resource < max_r:
            return TrialState.PAUSED, None, ""
        return TrialState.COMPLETED, None, ""

    def _end(self, trial: TrialRecord, event: ExitEvent) -> None:
        state, kind, message = self._judge(trial, event)
        if state is TrialState.PAUSED and trial.reports:
            steps = [r.step for r in trial.reports if r.step is not None]
            if steps:
                trial.resource = max(steps)
        trial.state, trial.error_kind, trial.error = state, kind, message or None
        trial.exit_code = event.exit_code
        trial.finished = event.time
        if state is TrialState.FAILED:
            self.failures += 1
        if state is TrialState.INTERRUPTED and event.error_kind is ErrorKind.LOST and not self._killing:
            self._reruns.append(trial.trial_id)
        self.store.update_trial(trial, event="end", time=event.time, data={
            "state": state.value, "exit_code": event.exit_code,
            "error_kind": kind.value if kind else None, "resource": trial.resource})
        self.scheduler.on_trial_end(trial)
        if self.launcher is not None:
            self.launcher.finished(trial)
        if self.csv is not None:
            self.csv.record(trial)
        self._emit("end", trial)

    def _emit(self, kind: str, trial: TrialRecord | None) -> None:
        for cb in self.callbacks:
            cb.on_event(kind, trial, self)


def _with_timeout(spec: LaunchSpec, timeout: float) -> LaunchSpec:
    from dataclasses import replace

    return replace(spec, timeout=timeout)


def _exit_message(code: int, trial: TrialRecord) -> str:
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        text = f"killed by {name}"
    else:
        text = f"exit code {code}"
    if trial.trial_dir:
        from pathlib import Path

        try:
            tail = (Path(trial.trial_dir) / "stderr.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            tail = []
        if tail:
            text += f": {tail[-1][-300:]}"
    return text
