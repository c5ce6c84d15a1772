"""Plumbing shared by the executors whose slots are a count of runs (Ray, Slurm, LSF)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from hpsweep.executors.base import Executor, ExecutorEvent, ExitEvent, LaunchSpec, Slot, WallClock
from hpsweep.executors.metrics import FileTail, MetricParser

__all__ = ["PooledExecutor", "SlotPool", "new_tails", "running_ids"]


class SlotPool:
    """Reserves the smallest worker id that no live run holds and no reservation has taken.

    ``held`` lists the worker ids of the live runs (the executor's own record of them), so a
    slot frees itself when the executor forgets a run; a reservation lasts until :meth:`launched`
    or :meth:`release`.
    """

    def __init__(self, held: Callable[[], Iterable[int]]) -> None:
        self._held = held
        self._reserved: set[int] = set()

    def reserve(self, capacity: int) -> Slot | None:
        """A slot while fewer than ``capacity`` are taken, else None."""
        busy = set(self._held()) | self._reserved
        if len(busy) >= capacity:
            return None
        worker_id = next(i for i in range(len(busy) + 1) if i not in busy)
        self._reserved.add(worker_id)
        return Slot(worker_id=worker_id)

    def release(self, slot: Slot) -> None:
        """A reserved slot that was not launched."""
        self._reserved.discard(slot.worker_id)

    def launched(self, slot: Slot) -> None:
        """The run in ``slot`` started: from now on the executor's record holds it."""
        self._reserved.discard(slot.worker_id)


def running_ids(live: Iterable[int], pending: Sequence[ExecutorEvent]) -> set[int]:
    """The runs that have not produced their ExitEvent: the live ones and those whose exit waits
    in ``pending``."""
    return set(live) | {e.trial_id for e in pending if isinstance(e, ExitEvent)}


def new_tails(spec: LaunchSpec, trial_dir: Path) -> tuple[FileTail, FileTail]:
    """Tails of the run's report file and stdout that start at their current ends (a resumed
    trial's earlier runs are not read again)."""
    reports = Path(spec.env.get("HPSWEEP_REPORT_FILE", str(trial_dir / "reports.jsonl")))
    stdout = trial_dir / "stdout.log"
    return FileTail(reports, FileTail.size(reports)), FileTail(stdout, FileTail.size(stdout))


class _HasSlot(Protocol):
    slot: Slot


class PooledExecutor(Executor):
    """An executor with a :class:`SlotPool` over its record of live runs (trial id -> a run
    with a ``slot``); subclasses say how many runs fit now."""

    _pending: list[ExecutorEvent]

    def __init__(self, live: Mapping[int, _HasSlot], *, parser: MetricParser | None,
                 summary_file: str | None) -> None:
        self.clock = WallClock()
        self.parser = parser or MetricParser()
        self.summary_file = summary_file
        self._pending = []
        self._live = live
        self._slots = SlotPool(lambda: (run.slot.worker_id for run in self._live.values()))

    @abstractmethod
    def slot_capacity(self) -> int:
        """How many runs may live at once now."""

    def reserve(self) -> Slot | None:
        return self._slots.reserve(self.slot_capacity())

    def release(self, slot: Slot) -> None:
        self._slots.release(slot)

    def running(self) -> set[int]:
        return running_ids(self._live, self._pending)

    def _take(self, slot: Slot, spec: LaunchSpec) -> Path:
        """Start of a launch: the slot is the run's now; its folder, made."""
        self._slots.launched(slot)
        trial_dir = Path(spec.trial_dir).resolve()
        trial_dir.mkdir(parents=True, exist_ok=True)
        return trial_dir
