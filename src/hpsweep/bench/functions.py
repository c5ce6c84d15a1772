"""Closed-form multi-fidelity test functions with known optima, for fast unit tests.

:class:`CrossingCurves`: configurations ``x`` in ``[0, 1]^d``; the loss after epoch ``e`` is
``f(x) + a(x) * exp(-r(x) * e)``, where ``f(x) = sum((x - 0.3)^2)`` is the final loss, ``a`` the
gap at the start and ``r`` the speed of learning. Fast learners are not always the best ones, so
curves cross, as in real training. An epoch takes ``1 + x_0`` seconds (cumulative ``e (1 + x_0)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from hpsweep.bench.base import Benchmark
from hpsweep.errors import UsageError
from hpsweep.space._params import Float, Param

__all__ = ["CrossingCurves"]


class CrossingCurves(Benchmark):
    """A ``dim``-dimensional family of crossing learning curves (minimize ``loss``)."""

    metric = "loss"
    mode: Literal["min", "max"] = "min"

    def __init__(self, *, dim: int = 2, max_resource: int = 27, noise: float = 0.0) -> None:
        if dim < 2:
            raise UsageError(f"dim must be >= 2, got {dim}.")
        if max_resource < 1:
            raise UsageError(f"max_resource must be >= 1, got {max_resource}.")
        self.dim = dim
        self.max_resource = max_resource
        self.noise = noise

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(Float(f"x{i}", 0.0, 1.0) for i in range(self.dim))

    def final_loss(self, config: dict[str, Any]) -> float:
        return float(sum((float(config[f"x{i}"]) - 0.3) ** 2 for i in range(self.dim)))

    def loss(self, config: dict[str, Any], epoch: int) -> float:
        x0, x1 = float(config["x0"]), float(config["x1"])
        gap = 0.5 + x1
        rate = 0.05 + 0.4 * x0
        return self.final_loss(config) + gap * math.exp(-rate * epoch)

    def evaluate(self, config: dict[str, Any], epochs: Sequence[int], *,
                 seed: int | None = None) -> list[dict[str, float]]:
        rng = np.random.default_rng(seed) if self.noise > 0 else None
        per_epoch = 1.0 + float(config["x0"])
        out = []
        for epoch in epochs:
            if not 1 <= epoch <= self.max_resource:
                raise UsageError(f"epoch must be in 1..{self.max_resource}, got {epoch}.")
            value = self.loss(config, epoch)
            if rng is not None:
                value += float(rng.normal(0.0, self.noise))
            out.append({"loss": value, "epoch": float(epoch), "time": epoch * per_epoch})
        return out
