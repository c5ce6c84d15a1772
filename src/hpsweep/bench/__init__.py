"""Benchmarks for the simulated executor: LCBench through its ONNX surrogate, closed-form curves."""

from __future__ import annotations

from hpsweep.bench.base import Benchmark
from hpsweep.bench.functions import CrossingCurves
from hpsweep.bench.lcbench import LCBENCH_DEV_TASKS, LCBench, LCBenchModel

__all__ = ["LCBENCH_DEV_TASKS", "Benchmark", "CrossingCurves", "LCBench", "LCBenchModel"]
