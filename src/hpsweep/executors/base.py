"""The executor contract: start, watch and stop trial processes.

An executor owns the slots (local slots and GPUs, Ray resources, cluster jobs, simulated workers)
and the clock. The tuner reserves a slot (so that ``{worker_id}`` and the GPU are known before the
command is rendered), launches a :class:`LaunchSpec` into it, and polls for events: reports as they
arrive and exits when processes end. Stopping a trial stops its whole process group.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from hpsweep.trial import ErrorKind

if TYPE_CHECKING:
    from hpsweep.trial import TrialRecord

__all__ = [
    "Clock",
    "Executor",
    "ExecutorEvent",
    "ExitEvent",
    "LaunchSpec",
    "ReportEvent",
    "SimClock",
    "Slot",
    "WallClock",
]


class Clock(Protocol):
    def now(self) -> float: ...


class WallClock:
    """Wall-clock time as Unix seconds (what the store records for real runs)."""

    def now(self) -> float:
        return time.time()


class SimClock:
    """Simulated time: it moves only when an executor moves it (never back)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back, got advance({seconds})")
        self._now += seconds

    def advance_to(self, t: float) -> None:
        """Move to time ``t``, or stay when ``t`` has passed."""
        self._now = max(self._now, float(t))


@dataclass(frozen=True)
class Slot:
    """A place a trial can run: ``worker_id`` is unique among running trials."""

    worker_id: int
    gpu: str | None = None  # the CUDA_VISIBLE_DEVICES value, e.g. "3" or "0,1"
    node: str | None = None


@dataclass(frozen=True)
class LaunchSpec:
    """Everything needed to start one run of a trial."""

    trial_id: int
    argv: tuple[str, ...]
    trial_dir: str
    env: dict[str, str] = field(default_factory=dict)  # added to the controller's environment
    cwd: str | None = None
    resource: int | None = None
    timeout: float | None = None  # seconds of this run before it is killed as TIMEOUT
    config: dict[str, Any] = field(default_factory=dict)  # for executors that simulate the trial


@dataclass(frozen=True)
class ReportEvent:
    trial_id: int
    step: int | None
    metrics: dict[str, Any]
    time: float


@dataclass(frozen=True)
class ExitEvent:
    """A run ended. ``error_kind`` is set by the executor for TIMEOUT, LAUNCH and LOST;
    otherwise the tuner judges the exit code and the metrics."""

    trial_id: int
    exit_code: int | None
    time: float
    error_kind: ErrorKind | None = None
    message: str = ""
    stopped: bool = False  # ended because the tuner asked for it (stop or pause)


ExecutorEvent = ReportEvent | ExitEvent


class Executor(ABC):
    """Starts, watches and stops trials. One implementation per place trials run."""

    clock: Clock = WallClock()

    @abstractmethod
    def reserve(self) -> Slot | None:
        """A free slot, or None when every slot is busy (or not admitted yet)."""

    @abstractmethod
    def launch(self, slot: Slot, spec: LaunchSpec) -> None:
        """Start ``spec`` in ``slot`` (which was returned by :meth:`reserve`)."""

    @abstractmethod
    def poll(self, timeout: float) -> list[ExecutorEvent]:
        """Events since the last call; waits up to ``timeout`` seconds when there are none."""

    @abstractmethod
    def stop(self, trial_id: int) -> None:
        """Stop a running trial's whole process group; its ExitEvent has ``stopped=True``."""

    @abstractmethod
    def running(self) -> set[int]:
        """Ids of the trials whose runs have not yet produced their ExitEvent."""

    def busy(self) -> bool:
        """Whether any run has not yet produced its ExitEvent (``bool(running())``, cheaper)."""
        return bool(self.running())

    def release(self, slot: Slot) -> None:
        """Give back a reserved slot that was not launched."""

    def reattach(self, trials: Mapping[int, str]) -> set[int]:
        """Follow again the runs of an earlier controller that are still going (trial id ->
        trial folder); the ids it follows. Executors whose runs die with the controller follow
        none."""
        return set()

    def recover(self, trial: TrialRecord) -> tuple[list[ReportEvent], ExitEvent | None] | None:
        """For a run an earlier controller left RUNNING: every report the run left (from what it
        wrote in its folder) and its exit when it ended by itself while no controller watched
        (None: it did not end, and is run again). None when the executor cannot tell."""
        return None

    def shutdown(self, *, kill: bool) -> None:
        """End the executor: with ``kill``, stop every running trial first."""
