"""The conformance suite against the function executor of the Python API (real processes)."""

from __future__ import annotations

import pytest

from hpsweep.testing.executors import ExecutorConformance, FunctionTarget, Target


class TestFunctionConformance(ExecutorConformance):
    @pytest.fixture
    def target(self) -> Target:
        return FunctionTarget()
