"""YAHPO Gym's rbv2_rpart surrogate (R's rpart decision trees), evaluated with onnxruntime.

The data folder (``yahpo/``, holding ``rbv2_rpart/model.onnx``, ``encoding.json``,
``instance_target_statistics.csv`` and ``tfull.json``) is read where it lies; nothing is copied.
The fidelity is the training-set share ``trainsize``, in 20 steps 0.05, 0.10, ..., 1.0
(resource 1..20); ``repl`` is fixed at 10; the metric is ``acc`` (maximised) and the elapsed
time of a trial at step ``s`` is ``timetrain`` at ``s``, treated as cumulative (a trial resumed
from ``s`` to ``s'`` pays the difference). The surrogate's ``timetrain`` is not monotone in
``trainsize`` (about 40 % of the steps go down), so the time at step ``s`` is the smallest
``timetrain`` at ``s`` or any later step: non-decreasing, so that reports arrive in order, and
exact at the full training set, which is what T_full measures (a running maximum would
instead charge a full training 7-44 % more than the surrogate says, depending on the instance).

The encoding (continuous inputs ``cp, maxdepth, minbucket, minsplit, trainsize, repl`` as raw
values, categorical inputs ``task_id, num.impute.selected.cpo`` as the codes of
``encoding.json``) is YAHPO Gym 1.0.2's; ``benchmarks/rbv2_check.py`` compares the two.

>>> model = RBV2RpartModel("../shared/data/yahpo")  # doctest: +SKIP
>>> bench = model.task("3")  # doctest: +SKIP
>>> bench.evaluate(bench.space().sample(np.random.default_rng(0)), [1, 20])  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hpsweep.bench._yahpo import open_yahpo
from hpsweep.bench.base import Benchmark
from hpsweep.errors import UsageError
from hpsweep.space import Categorical, Float, Int, Param

__all__ = ["RBV2_DEV_TASKS", "RBV2Rpart", "RBV2RpartModel"]

RBV2_DEV_TASKS = ("3", "6", "11", "15", "23", "31", "37", "1461")
OUTPUTS = ("acc", "bac", "auc", "brier", "f1", "logloss", "timetrain", "timepredict", "memory")
IMPUTE = "num.impute.selected.cpo"
_PARAMS: tuple[Param, ...] = (
    Float("cp", 0.0009118819655545162, 1.0, log=True),
    Int("maxdepth", 1, 30),
    Int("minbucket", 1, 100),
    Int("minsplit", 1, 100),
    Categorical(IMPUTE, ("impute.mean", "impute.median", "impute.hist")),
)
STEPS = 20
REPL = 10


class RBV2RpartModel:
    """The ONNX surrogate and the instance tables of one YAHPO data folder."""

    def __init__(self, data_dir: str | Path, *, threads: int = 1) -> None:
        yahpo = open_yahpo(data_dir, "rbv2_rpart", label="rbv2_rpart", threads=threads)
        folder, self._session, self.stats = yahpo.folder, yahpo.session, yahpo.stats
        encoding = yahpo.encoding
        self.task_code: dict[str, int] = {k: int(v) for k, v in encoding["task_id"].items()
                                          if k != "#na#"}
        self.impute_code: dict[str, int] = {k: int(v) for k, v in encoding[IMPUTE].items()}
        tfull = folder / "tfull.json"
        self.t_full: dict[str, float] = (
            {k: float(v["t_full"]) for k, v in json.loads(tfull.read_text()).items()}
            if tfull.is_file() else {})

    def predict(self, task: str, configs: Sequence[dict[str, Any]],
                trainsize: Sequence[float] | np.ndarray) -> np.ndarray:
        """Raw surrogate output [n, 9] (:data:`OUTPUTS`), one row per (config, trainsize)."""
        x_cat = np.array([[self.task_code[task], self.impute_code[c[IMPUTE]]] for c in configs],
                         dtype=np.int32).reshape(len(configs), 2)
        x_cont = np.array([[float(c["cp"]), float(c["maxdepth"]), float(c["minbucket"]),
                            float(c["minsplit"]), float(s), float(REPL)]
                           for c, s in zip(configs, trainsize)], dtype=np.float32)
        out = self._session.run(None, {"x_cat": x_cat, "x_cont": x_cont.reshape(len(configs), 6)})
        return np.asarray(out[0], dtype=float)

    def task(self, task: str | int) -> RBV2Rpart:
        return RBV2Rpart(model=self, task=str(task))


class RBV2Rpart(Benchmark):
    """One rbv2_rpart instance: maximize ``acc`` over trainsize steps 1..20 (0.05 each)."""

    metric = "acc"
    mode: Literal["min", "max"] = "max"
    max_resource = STEPS
    resource_attr = "epoch"
    time_attr = "time"

    def __init__(self, *, model: RBV2RpartModel, task: str) -> None:
        if task not in model.task_code:
            raise UsageError(f"unknown rbv2_rpart instance {task!r}; choose one of "
                             f"{', '.join(sorted(model.task_code, key=int))}.")
        self.model = model
        self.task = task
        self._curves: dict[tuple[Any, ...], np.ndarray] = {}

    @property
    def params(self) -> tuple[Param, ...]:
        return _PARAMS

    def metric_range(self) -> tuple[float, float]:
        """YAHPO's (min, max) of ``acc`` on this instance, for normalized regret."""
        try:
            return (self.model.stats[(self.task, "acc", "min")],
                    self.model.stats[(self.task, "acc", "max")])
        except KeyError:
            raise UsageError(f"no acc statistics for rbv2_rpart instance {self.task!r}; the "
                             "statistics file covers the development instances.") from None

    def full_time(self) -> float:
        """T_full of the protocol (``tfull.json``)."""
        if self.task not in self.model.t_full:
            raise UsageError(f"no T_full for rbv2_rpart instance {self.task!r} in tfull.json.")
        return self.model.t_full[self.task]

    def _key(self, config: dict[str, Any]) -> tuple[Any, ...]:
        try:
            return tuple(config[p.name] for p in _PARAMS)
        except KeyError as exc:
            raise UsageError(f"rbv2_rpart configuration lacks parameter {exc.args[0]!r}; it needs "
                             f"{', '.join(p.name for p in _PARAMS)}.") from None

    def curves(self, configs: Sequence[dict[str, Any]]) -> np.ndarray:
        """Every step of every configuration: [n, 20, 9] (``timetrain`` made non-decreasing by
        a suffix minimum, see the module's docstring)."""
        keys = [self._key(c) for c in configs]
        missing = [k for k in dict.fromkeys(keys) if k not in self._curves]
        if missing:
            rows = [dict(zip((p.name for p in _PARAMS), k)) for k in missing for _ in range(STEPS)]
            sizes = np.tile(np.arange(1, STEPS + 1) / STEPS, len(missing))
            out = self.model.predict(self.task, rows, sizes).reshape(len(missing), STEPS,
                                                                     len(OUTPUTS))
            t = OUTPUTS.index("timetrain")
            times = np.maximum(out[:, :, t], 1e-6)
            out[:, :, t] = np.minimum.accumulate(times[:, ::-1], axis=1)[:, ::-1]
            for key, curve in zip(missing, out):
                self._curves[key] = curve
        return np.stack([self._curves[k] for k in keys])

    def evaluate(self, config: dict[str, Any], epochs: Sequence[int], *,
                 seed: int | None = None) -> list[dict[str, float]]:
        curve = self.curves([config])[0]
        out = []
        for step in epochs:
            if not 1 <= step <= STEPS:
                raise UsageError(f"trainsize step must be in 1..{STEPS}, got {step}.")
            row = curve[step - 1]
            metrics = {name: float(row[i]) for i, name in enumerate(OUTPUTS)}
            metrics["time"] = metrics["timetrain"]
            metrics["epoch"] = float(step)
            metrics["trainsize"] = step / STEPS
            out.append(metrics)
        return out

    def normalized_regret(self, best: float) -> float:
        lo, hi = self.metric_range()
        return (hi - best) / (hi - lo) if math.isfinite(best) else 1.0
