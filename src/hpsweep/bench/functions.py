"""Closed-form multi-fidelity test functions with known optima, for fast unit tests.

:class:`CrossingCurves`: configurations ``x`` in ``[0, 1]^d``; the loss after epoch ``e`` is
``f(x) + a(x) * exp(-r(x) * e)``, where ``f(x) = sum((x - 0.3)^2)`` is the final loss, ``a`` the
gap at the start and ``r`` the speed of learning. Fast learners are not always the best ones, so
curves cross, as in real training. An epoch takes ``1 + x_0`` seconds (cumulative ``e (1 + x_0)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hpsweep.bench.base import Benchmark
from hpsweep.errors import UsageError
from hpsweep.space import Categorical, Float, Int, Param

__all__ = ["BlackBox", "CrossingCurves", "black_box_suite"]


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


# --------------------------------------------------------------------------------------------
# Black-box test functions with known optima (the fixed suite of ``benchmarks/blackbox.py``)


def _branin(x: np.ndarray) -> float:
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return float((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10)


def _six_hump_camel(x: np.ndarray) -> float:
    x1, x2 = x
    return float((4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2)


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547],
                         [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann(a: np.ndarray, p: np.ndarray) -> Callable[[np.ndarray], float]:
    def f(x: np.ndarray) -> float:
        inner = np.sum(a * (x[None, :] - p) ** 2, axis=1)
        return float(-np.sum(_H_ALPHA * np.exp(-inner)))

    return f


def _michalewicz(x: np.ndarray) -> float:
    i = np.arange(1, len(x) + 1)
    return float(-np.sum(np.sin(x) * np.sin(i * x**2 / math.pi) ** 20))


def _levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


def _rastrigin(x: np.ndarray) -> float:
    return float(10 * len(x) + np.sum(x**2 - 10 * np.cos(2 * math.pi * x)))


def _styblinski_tang(x: np.ndarray) -> float:
    return float(np.sum(x**4 - 16 * x**2 + 5 * x) / 2)


def _rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def _griewank(x: np.ndarray) -> float:
    i = np.arange(1, len(x) + 1)
    return float(1 + np.sum(x**2) / 4000 - np.prod(np.cos(x / np.sqrt(i))))


def _ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(-20 * math.exp(-0.2 * math.sqrt(np.sum(x**2) / d))
                 - math.exp(np.sum(np.cos(2 * math.pi * x)) / d) + 20 + math.e)


def _ellipsoid(x: np.ndarray) -> float:
    d = len(x)
    weights = 10.0 ** (3.0 * np.arange(d) / (d - 1))
    return float(np.sum(weights * x**2))


def _shift(dim: int, span: float, key: int) -> np.ndarray:
    """A fixed offset for a function whose optimum is the origin: drawn once from ``key`` within
    ``±span``, so the optimum lies neither at the box's centre (where CMA-ES starts and where
    a Sobol sequence puts its first points) nor on a corner."""
    return np.random.default_rng(key).uniform(-span, span, size=dim)


@dataclass(frozen=True)
class BlackBox:
    """A test function over named parameters, to minimise, with its known optimum.

    ``params`` are hpsweep parameters (``Float``, ``Int``, ``Categorical``); ``value(config)``
    is the noise-free value and ``observe(config, rng)`` what a study sees: the value plus
    Gaussian noise of standard deviation ``noise`` drawn from ``rng``. The regret of a study is
    ``value(best observed configuration) - optimum``.
    """

    name: str
    params: tuple[Param, ...]
    fn: Callable[[dict[str, Any]], float]
    optimum: float
    noise: float = 0.0

    @property
    def dim(self) -> int:
        return len(self.params)

    def value(self, config: dict[str, Any]) -> float:
        return self.fn(config)

    def observe(self, config: dict[str, Any], rng: np.random.Generator | None = None) -> float:
        y = self.fn(config)
        if self.noise > 0:
            if rng is None:
                raise UsageError(f"function {self.name!r} is noisy: give observe() an rng.")
            y += float(rng.normal(0.0, self.noise))
        return y


def _continuous(name: str, f: Callable[[np.ndarray], float], bounds: Sequence[tuple[float, float]],
                optimum: float, *, shift: np.ndarray | None = None,
                noise: float = 0.0) -> BlackBox:
    dim = len(bounds)
    params = tuple(Float(f"x{i}", float(lo), float(hi)) for i, (lo, hi) in enumerate(bounds))
    offset = np.zeros(dim) if shift is None else shift

    def fn(config: dict[str, Any]) -> float:
        x = np.array([float(config[f"x{i}"]) for i in range(dim)])
        return f(x - offset)

    return BlackBox(name, params, fn, optimum, noise)


_MIXED_COLOURS = ("red", "green", "blue", "black")
_MIXED_OFFSET = {"red": 0.6, "green": 0.0, "blue": 0.3, "black": 1.0}
_MIXED_SHIFT = np.array([0.31, 0.72, 0.18, 0.55])


def _mixed(config: dict[str, Any]) -> float:
    """Four floats in [0, 1], two integers in 0..12, one of four colours.

    ``(1 + t[c]) * (levy-like(x) + integer part) + t[c]`` with every part >= 0 and 0 at
    x = (0.31, 0.72, 0.18, 0.55), k = (3, 9), c = green; the colour scales the rest, so it
    interacts with every other parameter."""
    x = np.array([float(config[f"x{i}"]) for i in range(4)])
    k = np.array([int(config["k0"]), int(config["k1"])])
    t = _MIXED_OFFSET[str(config["colour"])]
    cont = _levy(1 + 10 * (x - _MIXED_SHIFT))
    ints = 0.5 * abs(k[0] - 3) + 0.02 * (k[1] - 9) ** 2 + 0.3 * abs((k[0] - 3) * (k[1] - 9)) ** 0.5
    return float((1 + t) * (cont + ints) + t)


def _int_rosenbrock(config: dict[str, Any]) -> float:
    """Rosenbrock on a grid: six integers in -8..12, each read as k / 4 (optimum k = 4)."""
    x = np.array([int(config[f"k{i}"]) / 4 for i in range(6)])
    return _rosenbrock(x)


def black_box_suite() -> dict[str, BlackBox]:
    """The fixed suite of 16 functions, 2-D to 20-D: 12 classic continuous ones (those whose
    optimum is the origin shifted off the box's centre), two with observation noise, one over
    floats, integers and a categorical, one over integers only."""
    h3, h6 = _hartmann(_H3_A, _H3_P), _hartmann(_H6_A, _H6_P)
    funcs = [
        _continuous("branin", _branin, [(-5, 10), (0, 15)], 0.397887357729738),
        _continuous("camel", _six_hump_camel, [(-3, 3), (-2, 2)], -1.031628453489877),
        _continuous("hartmann3", h3, [(0, 1)] * 3, -3.862782147820756),
        _continuous("michalewicz5", _michalewicz, [(0, math.pi)] * 5, -4.687658179),
        _continuous("hartmann6", h6, [(0, 1)] * 6, -3.322368011415515),
        _continuous("levy6", _levy, [(-10, 10)] * 6, 0.0),
        _continuous("rastrigin8", _rastrigin, [(-5.12, 5.12)] * 8, 0.0,
                    shift=_shift(8, 2.0, 8)),
        _continuous("styblinski8", _styblinski_tang, [(-5, 5)] * 8, -39.16616570377142 * 8),
        _continuous("rosenbrock10", _rosenbrock, [(-5, 10)] * 10, 0.0),
        _continuous("griewank10", _griewank, [(-600, 600)] * 10, 0.0,
                    shift=_shift(10, 200.0, 10)),
        _continuous("ackley20", _ackley, [(-32.768, 32.768)] * 20, 0.0,
                    shift=_shift(20, 10.0, 20)),
        _continuous("ellipsoid20", _ellipsoid, [(-5, 5)] * 20, 0.0, shift=_shift(20, 2.0, 21)),
        _continuous("hartmann6_noisy", h6, [(0, 1)] * 6, -3.322368011415515, noise=0.1),
        _continuous("branin_noisy", _branin, [(-5, 10), (0, 15)], 0.397887357729738, noise=2.0),
        BlackBox("mixed7", (*(Float(f"x{i}", 0.0, 1.0) for i in range(4)), Int("k0", 0, 12),
                            Int("k1", 0, 12), Categorical("colour", _MIXED_COLOURS)),
                 _mixed, 0.0),
        BlackBox("int_rosenbrock6", tuple(Int(f"k{i}", -8, 12) for i in range(6)),
                 _int_rosenbrock, 0.0),
    ]
    return {f.name: f for f in funcs}
