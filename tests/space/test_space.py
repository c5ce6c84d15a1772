from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from hpsweep.errors import SpaceError
from hpsweep.space import Categorical, Condition, Fixed, Float, Int, SearchSpace


def optimizer_space() -> SearchSpace:
    space = SearchSpace().add_categorical("optimizer", ["sgd", "adam"]).add_float(
        "lr", 1e-5, 1e-1, log=True)
    space.add_conditional("sgd_part", "optimizer == 'sgd'",
                          SearchSpace().add_float("momentum", 0.0, 0.99))
    space.add_conditional("adam_part", "optimizer in ['adam']",
                          SearchSpace().add_float("beta2", 0.9, 0.9999)
                          .add_categorical("amsgrad", [False, True]))
    return space


def test_conditional_params_are_present_only_when_active() -> None:
    space = optimizer_space()
    seen = set()
    for seed in range(60):
        config = space.sample(seed)
        seen.add(config["optimizer"])
        if config["optimizer"] == "sgd":
            assert set(config) == {"optimizer", "lr", "momentum"}
        else:
            assert set(config) == {"optimizer", "lr", "beta2", "amsgrad"}
        assert space.contains(config)
    assert seen == {"sgd", "adam"}
    assert [p.name for p in space.active_params({"optimizer": "sgd"})] == [
        "optimizer", "lr", "momentum"]
    assert space.groups == {"sgd_part": ["momentum"], "adam_part": ["beta2", "amsgrad"]}


def test_contains_rejects_inactive_or_missing_or_out_of_range_values() -> None:
    space = optimizer_space()
    assert not space.contains({"optimizer": "sgd", "lr": 0.01})  # momentum missing
    assert not space.contains({"optimizer": "sgd", "lr": 0.01, "momentum": 0.5, "beta2": 0.99})
    assert not space.contains({"optimizer": "sgd", "lr": 2.0, "momentum": 0.5})
    assert not space.contains({"optimizer": "rmsprop", "lr": 0.01})
    assert space.contains({"optimizer": "sgd", "lr": 0.01, "momentum": 0.5})


def test_nested_conditions_need_both_to_hold() -> None:
    inner = SearchSpace().add_categorical("schedule", ["cosine", "step"])
    inner.add_conditional("step_part", "schedule == 'step'",
                          SearchSpace().add_int("step_size", 1, 3))
    space = SearchSpace().add_categorical("opt", ["sgd", "adam"])
    space.add_conditional("sgd", "opt == 'sgd'", inner)
    grid = space.grid()
    assert list(grid) == [
        {"opt": "sgd", "schedule": "cosine"},
        {"opt": "sgd", "schedule": "step", "step_size": 1},
        {"opt": "sgd", "schedule": "step", "step_size": 2},
        {"opt": "sgd", "schedule": "step", "step_size": 3},
        {"opt": "adam"},
    ]
    assert all(space.contains(c) for c in grid)


def test_sampling_is_reproducible_and_takes_a_generator() -> None:
    space = optimizer_space()
    assert space.sample(5) == space.sample(5)
    assert space.sample(np.random.default_rng(5)) == space.sample(np.random.default_rng(5))
    draws = [space.sample(np.random.default_rng(s))["lr"] for s in range(200)]
    assert len(set(draws)) == 200
    assert all(1e-5 <= d <= 1e-1 for d in draws)
    # log scale: about as many draws below 1e-3 as above
    below = sum(d < 1e-3 for d in draws)
    assert 60 < below < 140


@pytest.mark.parametrize(
    ("build", "fragments"),
    [
        (lambda s: s.add_float("lr", 1.0, 0.1), ["'lr'", "low <= high", "swap"]),
        (lambda s: s.add_float("lr", 0.0, 1.0, log=True), ["'lr'", "low > 0"]),
        (lambda s: s.add_int("n", 0, 10, log=True), ["'n'", "low > 0"]),
        (lambda s: s.add_categorical("c", []), ["'c'", "empty"]),
        (lambda s: s.add_categorical("c", "abc"), ["'c'", "must be a list"]),
        (lambda s: s.add_float("lr", "a", 1.0), ["'lr'", "low must be a number"]),
        (lambda s: s.add_int("n", 0.5, 3), ["'n'", "low must be a number"]),
        (lambda s: s.add_fixed("f", object()), ["'f'", "cannot be stored"]),
        (lambda s: s.add_float("x", 0, 1).add_float("x", 0, 1), ["'x'", "twice"]),
        (lambda s: s.add_conditional("p", "opt == 'sgd'", SearchSpace().add_float("m", 0, 1)),
         ["unknown parameter 'opt'", "add the parent"]),
        (lambda s: s.add_categorical("opt", ["sgd"]).add_conditional(
            "p", "opt == 'sgdd'", SearchSpace().add_float("m", 0, 1)),
         ["'opt'", "never take the value 'sgdd'"]),
        (lambda s: s.add_categorical("opt", ["sgd"]).add_conditional(
            "p", "opt = sgd", SearchSpace().add_float("m", 0, 1)),
         ["'opt = sgd'", "name == value"]),
        (lambda s: s.add_categorical("opt", ["sgd"]).add_conditional(
            "p", "opt in 'sgd'", SearchSpace().add_float("m", 0, 1)),
         ["non-empty list"]),
        (lambda s: s.add_categorical("a", [1]).add_grid_condition({"b": [1]}, {"a": [2]}),
         ["unknown parameter 'b'", "add it to the grid"]),
    ],
)
def test_bad_definitions_raise_space_error(build, fragments: list[str]) -> None:
    with pytest.raises(SpaceError) as info:
        build(SearchSpace())
    for fragment in fragments:
        assert fragment in str(info.value)


def test_round_trip_is_exact_and_json_able() -> None:
    space = optimizer_space().add_int("layers", 1, 9, step=2).add_fixed("tag", ("a", 1)).add_float(
        "drop", 0.0, 0.5, step=0.1)
    space.add_categorical("width", [[64, 64], [128]])
    data = space.to_dict()
    text = json.dumps(data)
    again = SearchSpace.from_dict(json.loads(text))
    assert again == space
    assert again.to_dict() == data
    assert again.names == space.names
    assert again.sample(3) == space.sample(3)
    assert again.params["momentum"].condition == Condition("optimizer", ("sgd",))


def test_from_dict_rejects_damaged_data() -> None:
    with pytest.raises(SpaceError, match="damaged"):
        SearchSpace.from_dict({"nope": 1})
    with pytest.raises(SpaceError, match="unknown parameter type"):
        SearchSpace.from_dict({"params": [{"type": "weird", "name": "x"}]})


@dataclass
class Optim:
    lr: float = 1e-3
    momentum: float = 0.9


@dataclass
class Config:
    layers: int = 4
    activation: str = "relu"
    widths: list = field(default_factory=lambda: [64, 64])
    optim: Optim = field(default_factory=Optim)


def test_from_config_class_fixes_defaults_and_searches_overrides() -> None:
    space = SearchSpace.from_config_class(Config, {
        "layers": (2, 8),
        "activation": ["relu", "gelu"],
        "optim.lr": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
        "optim.momentum": (0.5, 0.99),
    })
    assert space.params["layers"] == Int("layers", 2, 8)
    assert space.params["activation"] == Categorical("activation", ("relu", "gelu"))
    assert space.params["widths"] == Fixed("widths", [64, 64])
    assert space.params["optim.lr"] == Float("optim.lr", 1e-5, 1e-1, log=True)
    assert space.params["optim.momentum"] == Float("optim.momentum", 0.5, 0.99)
    config = space.sample(0)
    assert space.contains(config)
    # the seed's form: called on a space, it fills that space
    filled = SearchSpace()
    assert filled.from_config_class(Config, {"layers": [2, 4]}) is filled
    assert filled.names == ["layers", "activation", "widths", "optim.lr", "optim.momentum"]


def test_from_config_class_rejects_unknown_fields_and_non_dataclasses() -> None:
    with pytest.raises(SpaceError, match="no such field"):
        SearchSpace.from_config_class(Config, {"layer": [1]})
    with pytest.raises(SpaceError, match="not a dataclass"):
        SearchSpace.from_config_class(dict, {})
    with pytest.raises(SpaceError, match="cannot read"):
        SearchSpace.from_config_class(Config, {"layers": "big"})


def test_categorical_keeps_booleans_apart_from_numbers() -> None:
    space = SearchSpace().add_categorical("flag", [True, False])
    assert space.contains({"flag": True})
    assert not space.contains({"flag": 1})
    assert SearchSpace().add_categorical("n", [1, 0]).contains({"n": 1})
    assert not SearchSpace().add_categorical("n", [1, 0]).contains({"n": True})
