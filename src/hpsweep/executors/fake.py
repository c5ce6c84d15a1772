"""A fake executor: trials simulated in this process from a script of timed reports.

Made for tests of everything above the executor (the tuner, schedulers, the conformance suite):
no processes, no files except the ones a step asks to write, deterministic, and with a
:class:`SimClock` it runs in simulated time (``poll`` jumps the clock to the next event).

Example::

    def program(spec):
        return FakeScript(steps=tuple(FakeStep(at=i, step=i, metrics={"loss": 1 / i})
                                      for i in range(1, 4)), duration=3.5)

    executor = FakeExecutor(program=program, slots=2, clock=SimClock())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.executors.base import (
    Clock,
    Executor,
    ExecutorEvent,
    ExitEvent,
    LaunchSpec,
    ReportEvent,
    SimClock,
    Slot,
    WallClock,
)
from hpsweep.trial import ErrorKind

__all__ = ["FakeExecutor", "FakeScript", "FakeStep", "Program", "SimClock"]


@dataclass(frozen=True)
class FakeStep:
    """A report ``at`` seconds after the run started; ``files`` (relative to the trial folder)
    are written when it is emitted, e.g. a checkpoint."""

    at: float
    step: int | None
    metrics: Mapping[str, Any]
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeScript:
    """What one run does: its reports, then an exit with ``exit_code`` at ``duration`` seconds
    (``duration=None``: it never ends by itself)."""

    steps: tuple[FakeStep, ...] = ()
    exit_code: int = 0
    duration: float | None = 0.0
    launch_error: str | None = None  # the run cannot start at all


Program = Callable[[LaunchSpec], FakeScript]


@dataclass
class _Run:
    spec: LaunchSpec
    slot: Slot
    script: FakeScript
    started: float
    next_step: int = 0
    deadline: float | None = None


class FakeExecutor(Executor):
    """Runs :class:`FakeScript` s from ``program`` in ``slots`` parallel slots."""

    def __init__(self, *, program: Program, slots: int = 1, clock: Clock | None = None,
                 stop_exit_code: int = -15) -> None:
        if slots < 1:
            raise UsageError(f"slots must be >= 1, got {slots}.")
        self.program = program
        self.slots = slots
        self.clock = clock or WallClock()
        self.stop_exit_code = stop_exit_code
        self.launches: list[LaunchSpec] = []
        self._runs: dict[int, _Run] = {}
        self._reserved: set[int] = set()
        self._pending: list[ExecutorEvent] = []

    # -- slots -----------------------------------------------------------------------------------
    def reserve(self) -> Slot | None:
        busy = {r.slot.worker_id for r in self._runs.values()} | self._reserved
        if len(busy) >= self.slots:
            return None
        worker_id = min(set(range(self.slots)) - busy)
        self._reserved.add(worker_id)
        return Slot(worker_id=worker_id, node="fake")

    def release(self, slot: Slot) -> None:
        self._reserved.discard(slot.worker_id)

    def running(self) -> set[int]:
        return set(self._runs) | {e.trial_id for e in self._pending if isinstance(e, ExitEvent)}

    # -- runs ------------------------------------------------------------------------------------
    def launch(self, slot: Slot, spec: LaunchSpec) -> None:
        self._reserved.discard(slot.worker_id)
        self.launches.append(spec)
        script = self.program(spec)
        now = self.clock.now()
        if script.launch_error is not None:
            self._pending.append(ExitEvent(spec.trial_id, None, now, ErrorKind.LAUNCH,
                                           script.launch_error))
            return
        deadline = now + spec.timeout if spec.timeout else None
        self._runs[spec.trial_id] = _Run(spec=spec, slot=slot, script=script, started=now,
                                         deadline=deadline)

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        events, self._pending = self._pending, []
        events.extend(self._due(self.clock.now()))
        if events:
            return events
        now = self.clock.now()
        wake = min([now + max(0.0, timeout), *(self._next_time(r) for r in self._runs.values())])
        if isinstance(self.clock, SimClock):
            self.clock.advance(max(0.0, wake - now))
        elif wake > now:
            time.sleep(wake - now)
        return self._due(self.clock.now())

    @staticmethod
    def _next_time(run: _Run) -> float:
        times = [run.deadline] if run.deadline is not None else []
        if run.next_step < len(run.script.steps):
            times.append(run.started + run.script.steps[run.next_step].at)
        elif run.script.duration is not None:
            times.append(run.started + run.script.duration)
        return min(times) if times else float("inf")

    def _due(self, now: float) -> list[ExecutorEvent]:
        events: list[ExecutorEvent] = []
        for tid, run in list(self._runs.items()):
            steps = run.script.steps
            while run.next_step < len(steps) and run.started + steps[run.next_step].at <= now:
                at = run.started + steps[run.next_step].at
                if run.deadline is not None and at > run.deadline:
                    break
                step = steps[run.next_step]
                run.next_step += 1
                _write_files(run.spec.trial_dir, step.files)
                events.append(ReportEvent(tid, step.step, dict(step.metrics), now))
            if run.deadline is not None and now >= run.deadline:
                events.append(self._end(tid, self.stop_exit_code, ErrorKind.TIMEOUT,
                                        f"ran past its timeout of {run.spec.timeout:g} s"))
            elif run.next_step >= len(steps) and run.script.duration is not None and \
                    now >= run.started + run.script.duration:
                events.append(self._end(tid, run.script.exit_code, None, ""))
        return events

    def _end(self, trial_id: int, code: int | None, kind: ErrorKind | None, message: str,
             *, stopped: bool = False) -> ExitEvent:
        del self._runs[trial_id]
        return ExitEvent(trial_id, code, self.clock.now(), kind, message, stopped=stopped)

    def stop(self, trial_id: int) -> None:
        if trial_id in self._runs:
            self._pending.append(self._end(trial_id, self.stop_exit_code, None, "", stopped=True))

    def lose_worker(self, worker_id: int) -> list[int]:
        """Simulate losing the worker in slot ``worker_id``: its runs end with ``LOST``."""
        lost = [tid for tid, r in self._runs.items() if r.slot.worker_id == worker_id]
        for tid in lost:
            self._pending.append(self._end(tid, None, ErrorKind.LOST,
                                           f"worker {worker_id} was lost"))
        return lost

    def worker_of(self, trial_id: int) -> int | None:
        run = self._runs.get(trial_id)
        return run.slot.worker_id if run else None

    def shutdown(self, *, kill: bool) -> None:
        if kill:
            for tid in list(self._runs):
                self.stop(tid)
            self._pending.clear()  # nobody polls after a shutdown: nothing runs any more


def _write_files(trial_dir: str, files: Mapping[str, str]) -> None:
    if not files or not trial_dir:
        return
    root = Path(trial_dir)
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
