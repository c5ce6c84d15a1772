"""Run trials in simulated time against a benchmark, with N simulated workers.

Each launch computes the run's reports from the benchmark at once (epochs after the ones the
trial already trained, up to its target) at the simulated times they would arrive;
:meth:`SimulatedExecutor.poll` hands out every event of the next time stamp and moves the clock
there. A resumed trial continues its curve and is charged only for the epochs it adds.

Only the next event of each run waits in the time-ordered queue (the rest wait in the run's own
list), so the queue holds one entry per running trial however many reports the runs have left
and however many runs were stopped: a poll costs the same at the 100,000th trial as at the first.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from typing import TYPE_CHECKING

from hpsweep.errors import UsageError
from hpsweep.executors.base import (
    Executor,
    ExecutorEvent,
    ExitEvent,
    LaunchSpec,
    ReportEvent,
    SimClock,
    Slot,
)

if TYPE_CHECKING:
    from hpsweep.bench.base import Benchmark
    from hpsweep.trial import TrialRecord

__all__ = ["SimClock", "SimulatedExecutor", "SimulatedLauncher"]


class SimulatedExecutor(Executor):
    """``n_workers`` simulated workers running ``benchmark`` trials in simulated time.

    >>> from hpsweep.bench import CrossingCurves
    >>> ex = SimulatedExecutor(CrossingCurves(), n_workers=2, seed=0)
    >>> slot = ex.reserve()
    >>> ex.launch(slot, LaunchSpec(trial_id=0, argv=(), trial_dir="", resource=2,
    ...                            config={"x0": 0.0, "x1": 0.0}))
    >>> [type(e).__name__ for e in ex.poll(0)], ex.clock.now()
    (['ReportEvent'], 1.0)
    """

    def __init__(self, benchmark: Benchmark, *, n_workers: int, seed: int | None = None,
                 report_every: int = 1) -> None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise UsageError(f"n_workers must be an integer >= 1, got {n_workers!r}.")
        if isinstance(report_every, bool) or not isinstance(report_every, int) or report_every < 1:
            raise UsageError(f"report_every must be an integer >= 1, got {report_every!r}.")
        self.report_every = report_every  # a trial reports every k-th epoch and at its last
        self.benchmark = benchmark
        self.n_workers = n_workers
        self.seed = seed
        self.clock: SimClock = SimClock()
        self._free = list(range(n_workers))  # a heap: the lowest free worker first
        self._is_free = set(self._free)
        self._slot_of: dict[int, Slot] = {}  # running trial -> slot
        self._trained: dict[int, int] = {}  # trial -> epochs trained (reports delivered)
        # The next event of each run: (time, seq, run, trial); the run's later events wait in
        # _ahead, in (time, seq) order, so popping the queue merges the runs in time order.
        self._queue: list[tuple[float, int, int, int]] = []
        self._ahead: dict[int, deque[tuple[float, int, ExecutorEvent]]] = {}  # running trial ->
        self._run_of: dict[int, int] = {}  # running trial -> its run number (stale entries skipped)
        self._now_events: list[ExecutorEvent] = []
        self._seq = itertools.count()
        self._launches = itertools.count()

    def reserve(self) -> Slot | None:
        if not self._free:
            return None
        worker = heapq.heappop(self._free)
        self._is_free.discard(worker)
        return Slot(worker_id=worker)

    def release(self, slot: Slot) -> None:
        self._free_worker(slot.worker_id)

    def _free_worker(self, worker: int) -> None:
        if worker not in self._is_free:
            self._is_free.add(worker)
            heapq.heappush(self._free, worker)

    def trained(self, trial_id: int) -> int:
        """Epochs ``trial_id`` has trained (and reported) so far."""
        return self._trained.get(trial_id, 0)

    def copy_checkpoint(self, source: int, target: int) -> None:
        """Give ``target`` the training progress of ``source`` (PBT's exploit step)."""
        self._trained[target] = self._trained.get(source, 0)

    def launch(self, slot: Slot, spec: LaunchSpec) -> None:
        if spec.trial_id in self._slot_of:
            raise UsageError(f"trial {spec.trial_id} is already running in the simulation.")
        now = self.clock.now()
        self._slot_of[spec.trial_id] = slot
        launch = next(self._launches)
        self._run_of[spec.trial_id] = launch
        bench = self.benchmark
        done = self._trained.get(spec.trial_id, 0)
        target = min(spec.resource or bench.max_resource, bench.max_resource)
        epochs = list(range(done + 1, target + 1))
        ahead: deque[tuple[float, int, ExecutorEvent]] = deque()
        if not epochs:
            ahead.append((now, next(self._seq), ExitEvent(trial_id=spec.trial_id, exit_code=0, time=now)))
            self._start(spec.trial_id, launch, ahead)
            return
        seed = None if self.seed is None else hash((self.seed, spec.trial_id, launch))
        wanted = ([done] if done else []) + epochs
        rows = bench.evaluate(spec.config, wanted, seed=seed)
        base = rows[0][bench.time_attr] if done else 0.0
        if done:
            rows = rows[1:]
        t = now
        for epoch, metrics in zip(epochs, rows):
            t = now + max(metrics[bench.time_attr] - base, 0.0)
            if epoch % self.report_every == 0 or epoch == target:
                ahead.append((t, next(self._seq),
                              ReportEvent(trial_id=spec.trial_id, step=epoch, metrics=metrics, time=t)))
        ahead.append((t, next(self._seq), ExitEvent(trial_id=spec.trial_id, exit_code=0, time=t)))
        self._start(spec.trial_id, launch, ahead)

    def _start(self, trial_id: int, run: int, ahead: deque[tuple[float, int, ExecutorEvent]]) -> None:
        self._ahead[trial_id] = ahead
        t, seq, _ = ahead[0]
        heapq.heappush(self._queue, (t, seq, run, trial_id))

    def _stale(self, item: tuple[float, int, int, int]) -> bool:
        return self._run_of.get(item[3]) != item[2]

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        if self._now_events:
            now, self._now_events = self._now_events, []
            return now
        while self._queue and self._stale(self._queue[0]):  # events of stopped runs
            heapq.heappop(self._queue)
        if not self._queue:
            return []
        t = self._queue[0][0]
        self.clock.advance_to(t)
        events: list[ExecutorEvent] = []
        queue = self._queue
        while queue and queue[0][0] == t:
            item = heapq.heappop(queue)
            if self._stale(item):
                continue
            ahead = self._ahead[item[3]]
            events.append(ahead.popleft()[2])
            if ahead:  # the run's next event takes its place in the queue
                nt, seq, _ = ahead[0]
                heapq.heappush(queue, (nt, seq, item[2], item[3]))
        for event in events:
            self._deliver(event)
        return events

    def _deliver(self, event: ExecutorEvent) -> None:
        if isinstance(event, ReportEvent) and event.step is not None:
            self._trained[event.trial_id] = max(self._trained.get(event.trial_id, 0), event.step)
        elif isinstance(event, ExitEvent):
            slot = self._slot_of.pop(event.trial_id)
            self._run_of.pop(event.trial_id, None)
            self._ahead.pop(event.trial_id, None)  # a stopped run's events are dropped
            self._free_worker(slot.worker_id)

    def stop(self, trial_id: int) -> None:
        if trial_id not in self._slot_of:
            return  # already ended (its exit was delivered)
        event = ExitEvent(trial_id=trial_id, exit_code=None, time=self.clock.now(), stopped=True)
        self._deliver(event)
        self._now_events.append(event)

    def running(self) -> set[int]:
        return set(self._slot_of)

    def busy(self) -> bool:
        return bool(self._slot_of) or bool(self._now_events)

    def pending(self) -> int:
        """Events queued for the future."""
        return sum(len(ahead) for ahead in self._ahead.values()) + len(self._now_events)

    def shutdown(self, *, kill: bool) -> None:
        for trial_id in list(self._slot_of):
            self.stop(trial_id)


class SimulatedLauncher:
    """The tuner's launcher for simulated trials: PBT's checkpoint copy moves training progress.

    ``Tuner(..., executor=ex, launcher=SimulatedLauncher(ex))``; without it a trial resumed from
    another trial's checkpoint continues from its own progress instead.
    """

    def __init__(self, executor: SimulatedExecutor) -> None:
        self.executor = executor

    def build(self, trial: TrialRecord, slot: Slot, *, resume: bool,
              checkpoint_from: TrialRecord | None) -> LaunchSpec:
        if checkpoint_from is not None:
            self.executor.copy_checkpoint(checkpoint_from.trial_id, trial.trial_id)
        return LaunchSpec(trial_id=trial.trial_id, argv=(), trial_dir="", resource=trial.resource,
                          config=dict(trial.config))

    def finished(self, trial: TrialRecord) -> None:
        """Nothing to clean up in a simulation."""
