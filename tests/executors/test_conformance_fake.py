"""The conformance suite against the fake in-process executor (simulated time)."""

from __future__ import annotations

import pytest

from hpsweep.testing.executors import ExecutorConformance, FakeTarget, Target


class TestFakeConformance(ExecutorConformance):
    @pytest.fixture
    def target(self) -> Target:
        return FakeTarget()
