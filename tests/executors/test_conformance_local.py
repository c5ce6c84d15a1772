"""The conformance suite against the local executor."""

from __future__ import annotations

import pytest

from hpsweep.executors.base import Executor
from hpsweep.executors.local import LocalExecutor
from hpsweep.testing.executors import ExecutorConformance, Target


class LocalTarget(Target):
    name = "local"

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        return LocalExecutor(slots=slots, kill_grace=2.0)


class TestLocalConformance(ExecutorConformance):
    @pytest.fixture
    def target(self) -> Target:
        return LocalTarget()
