"""The conformance suite against the simulated executor of the benchmarks (simulated time)."""

from __future__ import annotations

import pytest

from hpsweep.testing.executors import ExecutorConformance, SimulatedTarget, Target


class TestSimulatedConformance(ExecutorConformance):
    @pytest.fixture
    def target(self) -> Target:
        return SimulatedTarget()
