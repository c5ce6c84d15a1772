"""Configurations to and from the unit cube, for the model-based schedulers (BOHB, DyHPO)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from hpsweep.space import Categorical, Fixed, Float, Int

__all__ = ["UnitEncoder", "space_params"]


def space_params(space: Any) -> list[Any]:
    """The parameter objects of ``space`` (its ``params`` as a list or a name -> param mapping)."""
    params = space.params
    if isinstance(params, Mapping):
        return list(params.values())
    return list(params if isinstance(params, Iterable) else [])


def _log_bounds(low: float, high: float) -> tuple[float, float]:
    return math.log(low), math.log(high)


class UnitEncoder:
    """Maps a configuration to ``[0, 1]^d`` (one coordinate per non-fixed parameter) and back.

    Log-scaled parameters are encoded on the log scale; integers cover ``[low - 0.5, high + 0.5]``
    so that every integer gets an equal share; a categorical value ``i`` of ``k`` maps to
    ``(i + 0.5) / k``. A parameter absent from a configuration (inactive condition) encodes as 0.5.
    """

    def __init__(self, params: Iterable[Any]) -> None:
        all_params = list(params)
        self.fixed = [p for p in all_params if isinstance(p, Fixed)]
        self.params = [p for p in all_params if isinstance(p, (Float, Int, Categorical))]

    @property
    def dim(self) -> int:
        return len(self.params)

    def _interval(self, p: Float | Int) -> tuple[float, float, bool]:
        low, high = float(p.low), float(p.high)
        if isinstance(p, Int):
            low, high = (low - 0.5 if (not p.log or low > 0.5) else low), high + 0.5
        if p.log:
            return (*_log_bounds(low, high), True)
        return low, high, False

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        out = np.full(self.dim, 0.5)
        for i, p in enumerate(self.params):
            if p.name not in config:
                continue
            value = config[p.name]
            if isinstance(p, Categorical):
                idx = next((j for j, c in enumerate(p.choices) if c == value), 0)
                out[i] = (idx + 0.5) / len(p.choices)
                continue
            low, high, log = self._interval(p)
            x = math.log(float(value)) if log else float(value)
            out[i] = 0.5 if high <= low else (x - low) / (high - low)
        return np.clip(out, 0.0, 1.0)

    def encode_many(self, configs: Iterable[Mapping[str, Any]]) -> np.ndarray:
        rows = [self.encode(c) for c in configs]
        return np.array(rows).reshape(len(rows), self.dim)

    def decode(self, u: np.ndarray) -> dict[str, Any]:
        config: dict[str, Any] = {p.name: p.value for p in self.fixed}
        for i, p in enumerate(self.params):
            ui = float(min(max(u[i], 0.0), 1.0))
            if isinstance(p, Categorical):
                config[p.name] = p.choices[min(int(ui * len(p.choices)), len(p.choices) - 1)]
                continue
            low, high, log = self._interval(p)
            x = low + ui * (high - low)
            value = math.exp(x) if log else x
            if isinstance(p, Int):
                steps = round((value - p.low) / p.step)
                config[p.name] = int(min(max(p.low + steps * p.step, p.low), p.high))
            elif p.step is not None:
                steps = round((value - p.low) / p.step)
                config[p.name] = float(min(max(p.low + steps * p.step, p.low), p.high))
            else:
                config[p.name] = float(min(max(value, p.low), p.high))
        every = {p.name: p for p in [*self.fixed, *self.params]}
        out: dict[str, Any] = {}
        for key, value in config.items():
            condition = every[key].condition
            if condition is None or condition.holds(config):
                out[key] = value
        return out
