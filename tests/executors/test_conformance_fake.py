"""The conformance suite against the fake in-process executor (simulated time)."""

from __future__ import annotations

import pytest

from hpsweep.executors.base import Executor
from hpsweep.executors.fake import FakeExecutor, SimClock
from tests.executors.conformance import ExecutorConformance, Target, fake_program


class FakeTarget(Target):
    name = "fake"
    real_processes = False

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        return FakeExecutor(program=fake_program, slots=slots, clock=SimClock())

    def lose(self, executor: Executor, trial_id: int) -> None:
        assert isinstance(executor, FakeExecutor)
        worker = executor.worker_of(trial_id)
        assert worker is not None
        assert executor.lose_worker(worker) == [trial_id]


class TestFakeConformance(ExecutorConformance):
    @pytest.fixture
    def target(self) -> Target:
        return FakeTarget()
