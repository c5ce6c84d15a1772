"""Configurations to the unit cube and back."""

from __future__ import annotations

import numpy as np

from hpsweep.schedulers._encode import UnitEncoder
from hpsweep.space._params import Categorical, Condition, Fixed, Float, Int


def test_round_trip_and_bounds() -> None:
    params = [Float("lr", 1e-4, 1e-1, log=True), Int("layers", 1, 5), Int("units", 16, 512, log=True),
              Categorical("act", ("relu", "tanh", "gelu")), Fixed("seed", 7),
              Float("step", 0.0, 1.0, step=0.25)]
    enc = UnitEncoder(params)
    assert enc.dim == 5
    rng = np.random.default_rng(0)
    for _ in range(100):
        u = rng.random(enc.dim)
        config = enc.decode(u)
        assert config["seed"] == 7
        assert all(p.contains(config[p.name]) for p in params)
        assert enc.decode(enc.encode(config)) == config
    got = enc.encode({"lr": 1e-4, "layers": 1, "units": 512, "act": "gelu", "step": 0.5})
    # integers own [low - 0.5, high + 0.5]: 512 sits half a unit below the top on the log scale
    top = (np.log(512) - np.log(15.5)) / (np.log(512.5) - np.log(15.5))
    assert np.allclose(got, [0.0, 0.1, top, 5 / 6, 0.5])


def test_inactive_parameters_are_left_out() -> None:
    params = [Categorical("opt", ("sgd", "adam")),
              Float("momentum", 0.0, 1.0, condition=Condition("opt", ("sgd",)))]
    enc = UnitEncoder(params)
    assert "momentum" not in enc.decode(np.array([0.9, 0.3]))
    assert enc.decode(np.array([0.1, 0.3]))["momentum"] == 0.3
    assert enc.encode({"opt": "adam"})[1] == 0.5
