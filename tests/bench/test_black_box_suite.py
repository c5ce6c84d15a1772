"""The fixed black-box suite: each function's optimum is attained where the literature puts it
and bounds every value in the box, and observation noise is seeded."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpsweep.bench.functions import black_box_suite
from hpsweep.errors import UsageError
from hpsweep.space._params import Categorical, Int

SUITE = black_box_suite()

# A point where each function reaches its optimum (known minimisers from the literature;
# the shifted functions at their offset).
MINIMISERS = {
    "branin": [math.pi, 2.275],
    "camel": [0.0898420131, -0.7126564033],
    "hartmann3": [0.114614, 0.555649, 0.852547],
    "michalewicz5": [2.202906, 1.570796, 1.284992, 1.923058, 1.720470],
    "hartmann6": [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
    "levy6": [1.0] * 6,
    "styblinski8": [-2.903534018] * 8,
    "rosenbrock10": [1.0] * 10,
}


def _config(xs: list[float]) -> dict[str, float]:
    return {f"x{i}": v for i, v in enumerate(xs)}


def _random_config(fn, rng: np.random.Generator) -> dict[str, object]:
    config: dict[str, object] = {}
    for p in fn.params:
        if isinstance(p, Categorical):
            config[p.name] = p.choices[int(rng.integers(len(p.choices)))]
        elif isinstance(p, Int):
            config[p.name] = int(rng.integers(p.low, p.high + 1))
        else:
            config[p.name] = float(rng.uniform(p.low, p.high))
    return config


def test_suite_is_fixed_and_wide():
    assert len(SUITE) == 16
    dims = {f.dim for f in SUITE.values()}
    assert min(dims) == 2 and max(dims) == 20
    assert sum(f.noise > 0 for f in SUITE.values()) == 2
    assert any(any(isinstance(p, Categorical) for p in f.params) for f in SUITE.values())


@pytest.mark.parametrize("name", sorted(MINIMISERS))
def test_known_minimiser_attains_the_optimum(name):
    fn = SUITE[name]
    assert fn.value(_config(MINIMISERS[name])) == pytest.approx(fn.optimum, abs=1e-5)


def test_shifted_and_discrete_optima_are_attained():
    from hpsweep.bench import functions as f

    for name, span, key in (("rastrigin8", 2.0, 8), ("griewank10", 200.0, 10),
                            ("ackley20", 10.0, 20), ("ellipsoid20", 2.0, 21)):
        fn = SUITE[name]
        point = f._shift(fn.dim, span, key)
        assert fn.value(_config(list(point))) == pytest.approx(0.0, abs=1e-9)
        centre = [(p.low + p.high) / 2 for p in fn.params]
        assert fn.value(_config(centre)) > 1.0  # the optimum is not the box's centre
    mixed = {"x0": 0.31, "x1": 0.72, "x2": 0.18, "x3": 0.55, "k0": 3, "k1": 9, "colour": "green"}
    assert SUITE["mixed7"].value(mixed) == pytest.approx(0.0, abs=1e-12)
    assert SUITE["int_rosenbrock6"].value({f"k{i}": 4 for i in range(6)}) == 0.0


@pytest.mark.parametrize("name", sorted(SUITE))
def test_optimum_bounds_every_value(name):
    fn = SUITE[name]
    rng = np.random.default_rng(0)
    values = [fn.value(_random_config(fn, rng)) for _ in range(300)]
    assert min(values) >= fn.optimum - 1e-9


def test_noise_is_seeded_and_only_on_noisy_functions():
    noisy, clean = SUITE["hartmann6_noisy"], SUITE["hartmann6"]
    config = _config([0.5] * 6)
    a = noisy.observe(config, np.random.default_rng([1, 2]))
    b = noisy.observe(config, np.random.default_rng([1, 2]))
    assert a == b != noisy.value(config)
    assert clean.observe(config) == clean.value(config) == noisy.value(config)
    with pytest.raises(UsageError, match="noisy"):
        noisy.observe(config)
