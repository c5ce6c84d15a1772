"""YAHPO Gym's LCBench surrogate, evaluated with onnxruntime from the data folder in place.

The data folder (``yahpo/``, holding ``lcbench/model.onnx``, ``encoding.json`` and
``instance_target_statistics.csv``) is read where it lies; nothing is copied. One
:class:`LCBenchModel` holds the ONNX session; :meth:`LCBenchModel.task` gives the benchmark of one
OpenML task. Curves are computed for all 52 epochs at once and cached per configuration.

>>> model = LCBenchModel("../shared/data/yahpo")  # doctest: +SKIP
>>> bench = model.task("3945")  # doctest: +SKIP
>>> bench.evaluate(bench.space().sample(np.random.default_rng(0)), [1, 52])  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hpsweep.bench._yahpo import open_yahpo
from hpsweep.bench.base import Benchmark
from hpsweep.errors import UsageError
from hpsweep.space import Float, Int, Param

__all__ = ["LCBENCH_DEV_TASKS", "LCBench", "LCBenchModel"]

LCBENCH_DEV_TASKS = ("3945", "7593", "34539", "126025", "146212", "167104", "168330", "189906")
_OUTPUTS = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy",
            "test_cross_entropy", "test_balanced_accuracy")
_PARAMS: tuple[Param, ...] = (
    Int("batch_size", 16, 512, log=True),
    Float("learning_rate", 1e-4, 1e-1, log=True),
    Float("momentum", 0.1, 0.99),
    Float("weight_decay", 1e-5, 0.1),
    Int("num_layers", 1, 5),
    Int("max_units", 64, 1024, log=True),
    Float("max_dropout", 0.0, 1.0),
)
MAX_EPOCH = 52


class LCBenchModel:
    """The ONNX surrogate and the task tables of one YAHPO data folder."""

    def __init__(self, data_dir: str | Path, *, threads: int = 1) -> None:
        yahpo = open_yahpo(data_dir, "lcbench", label="LCBench", threads=threads)
        self._session, self.stats = yahpo.session, yahpo.stats
        self.task_index: dict[str, int] = {k: int(v) for k, v in
                                           yahpo.encoding["OpenML_task_id"].items() if k != "#na#"}

    def predict(self, task: str, rows: np.ndarray) -> np.ndarray:
        """Raw surrogate output [n, 6] for ``rows`` [n, 8] (epoch first, then the 7 params)."""
        x_cat = np.full((len(rows), 1), self.task_index[task], dtype=np.int32)
        out = self._session.run(None, {"x_cat": x_cat, "x_cont": rows.astype(np.float32)})
        return np.asarray(out[0], dtype=float)

    def task(self, task: str | int) -> LCBench:
        return LCBench(model=self, task=str(task))


class LCBench(Benchmark):
    """One LCBench task: maximize ``val_accuracy`` (percent) over 1..52 epochs."""

    metric = "val_accuracy"
    mode: Literal["min", "max"] = "max"
    max_resource = MAX_EPOCH

    def __init__(self, *, model: LCBenchModel, task: str) -> None:
        if task not in model.task_index:
            raise UsageError(f"unknown LCBench task {task!r}; choose one of "
                             f"{', '.join(sorted(model.task_index, key=int))}.")
        self.model = model
        self.task = task
        self._curves: dict[tuple[float, ...], np.ndarray] = {}

    @property
    def params(self) -> tuple[Param, ...]:
        return _PARAMS

    def metric_range(self) -> tuple[float, float]:
        """YAHPO's (min, max) of ``val_accuracy`` on this task, for normalized regret."""
        lo = self.model.stats[(self.task, self.metric, "min")]
        hi = self.model.stats[(self.task, self.metric, "max")]
        return lo, hi

    def _key(self, config: dict[str, Any]) -> tuple[float, ...]:
        try:
            return tuple(float(config[p.name]) for p in _PARAMS)
        except KeyError as exc:
            raise UsageError(f"LCBench configuration lacks parameter {exc.args[0]!r}; it needs "
                             f"{', '.join(p.name for p in _PARAMS)}.") from None

    def curves(self, configs: Sequence[dict[str, Any]]) -> np.ndarray:
        """All 52 epochs of every configuration: [n, 52, 6] (time made non-decreasing)."""
        keys = [self._key(c) for c in configs]
        missing = [k for k in dict.fromkeys(keys) if k not in self._curves]
        if missing:
            rows = np.repeat(np.array(missing), MAX_EPOCH, axis=0)
            epochs = np.tile(np.arange(1, MAX_EPOCH + 1, dtype=float), len(missing))
            out = self.model.predict(self.task, np.column_stack([epochs, rows]))
            out = out.reshape(len(missing), MAX_EPOCH, len(_OUTPUTS))
            out[:, :, 0] = np.maximum.accumulate(np.maximum(out[:, :, 0], 1e-6), axis=1)
            for key, curve in zip(missing, out):
                self._curves[key] = curve
        return np.stack([self._curves[k] for k in keys])

    def evaluate(self, config: dict[str, Any], epochs: Sequence[int], *,
                 seed: int | None = None) -> list[dict[str, float]]:
        curve = self.curves([config])[0]
        out = []
        for epoch in epochs:
            if not 1 <= epoch <= MAX_EPOCH:
                raise UsageError(f"epoch must be in 1..{MAX_EPOCH}, got {epoch}.")
            row = curve[epoch - 1]
            metrics = {name: float(row[i]) for i, name in enumerate(_OUTPUTS)}
            metrics["epoch"] = float(epoch)
            out.append(metrics)
        return out

    def full_time(self, *, n: int = 64, seed: int = 0) -> float:
        """T_full: the median time of a full 52-epoch training over ``n`` random configurations."""
        rng = np.random.default_rng(seed)
        space = self.space()
        configs = [space.sample(rng) for _ in range(n)]
        return float(np.median(self.curves(configs)[:, -1, 0]))

    def normalized_regret(self, best: float) -> float:
        lo, hi = self.metric_range()
        return (hi - best) / (hi - lo) if math.isfinite(best) else 1.0
