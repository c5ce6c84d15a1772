from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpsweep.errors import SpaceError
from hpsweep.space import (
    Categorical,
    Float,
    Int,
    TrialContext,
    none_sweep,
    parse_inline,
    parse_sweep_value,
)

CTX = TrialContext(trial_id=7, trial_dir="/runs/s/trials/0007", worker_id=2, seed=11, resource=3)


def argvs(argv: list[str], seed: int | None = 0) -> list[list[str]]:
    sweep = parse_inline(argv, seed=seed)
    return [sweep.render(config, CTX).argv for config in sweep.space.grid()]


def test_range_gives_the_seed_values() -> None:
    out = argvs(["python", "main.py", "--layers", "range(1, 10, 2)"])
    assert [a[-1] for a in out] == ["1", "3", "5", "7", "9"]
    assert all(a[:3] == ["python", "main.py", "--layers"] for a in out)


def test_list_gives_one_job_per_value() -> None:
    out = argvs(["main.py", "--layers", "[32, 64, 128]"])
    assert out == [["main.py", "--layers", "32"], ["main.py", "--layers", "64"],
                   ["main.py", "--layers", "128"]]


def test_distribution_with_count_times_list_is_twelve_combinations() -> None:
    argv = ["main.py", "--alpha", "uniform(1e-5, 1e-1, 3)", "--beta", "[1, 2, 3, 4]"]
    sweep = parse_inline(argv, seed=3)
    grid = sweep.space.grid()
    assert len(grid) == 12
    alphas = sweep.space.params["alpha"]
    assert isinstance(alphas, Categorical) and len(alphas.choices) == 3
    assert all(1e-5 <= a <= 1e-1 for a in alphas.choices)
    pairs = {(c["alpha"], c["beta"]) for c in grid}
    assert len(pairs) == 12
    # the values are drawn with the seed: the same seed, the same values; another, others
    assert parse_inline(argv, seed=3).space.params["alpha"] == alphas
    assert parse_inline(argv, seed=4).space.params["alpha"] != alphas


def test_rendered_values_read_back_as_the_same_numbers() -> None:
    sweep = parse_inline(["main.py", "--alpha", "uniform(1e-5, 1e-1, 3)"], seed=1)
    for config in sweep.space.grid():
        assert float(sweep.render(config, CTX).argv[-1]) == config["alpha"]


def test_missing_comma_in_the_seed_example_gives_three_values() -> None:
    sweep = parse_inline(["main.py", "--model", "['resnet18' 'transformer', 'resnet50']"], seed=0)
    assert sweep.space.params["model"] == Categorical("model",
                                                      ("resnet18", "transformer", "resnet50"))


def test_equals_form_keeps_the_option_in_the_same_token() -> None:
    out = argvs(["train.py", "--lr=[0.1, 0.01]", "--epochs", "3"])
    assert out == [["train.py", "--lr=0.1", "--epochs", "3"],
                   ["train.py", "--lr=0.01", "--epochs", "3"]]


def test_booleans_are_explicit_values() -> None:
    out = argvs(["foo.py", "--bar", "[True, False]"])
    assert out == [["foo.py", "--bar", "True"], ["foo.py", "--bar", "False"]]


def test_plain_values_pass_through_unchanged() -> None:
    argv = ["main.py", "--model", "'bert'", "--lr", "1e-2", "--name", "a [b] c", "x=[1,2]"]
    sweep = parse_inline(argv, seed=0)
    assert len(sweep.space) == 0
    assert sweep.render({}, CTX).argv == argv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("uniform(0, 1)", Float("p", 0.0, 1.0)),
        ("loguniform(1e-5, 1e-1)", Float("p", 1e-5, 1e-1, log=True)),
        ("randint(1, 10)", Int("p", 1, 9)),
        ("choice(['a', 'b'])", Categorical("p", ("a", "b"))),
        ("range(5)", Int("p", 0, 4)),
        ("range(0, 100, 25)", Int("p", 0, 75, step=25)),
        ("range(10, 0, -3)", Categorical("p", (10, 7, 4, 1))),
        ("[1, 1, 2]", Categorical("p", (1, 2))),
        ("[1, True]", Categorical("p", (1, True))),
    ],
)
def test_priors_and_lists(text: str, expected: object) -> None:
    import numpy as np

    assert parse_sweep_value("p", text, np.random.default_rng(0)) == expected


@pytest.mark.parametrize(
    "text",
    ["normal(0, 1, 4)", "randint(1, 10, 5)", "poisson(3, 4)", "choice(['a', 'b', 'c'], 2)",
     "loguniform(1e-4, 1e-1, 3)", "triangular(0, 1, 2, 3)", "standard_normal(3)"],
)
def test_any_numpy_distribution_with_a_count_is_drawn_once(text: str) -> None:
    import numpy as np

    param = parse_sweep_value("p", text, np.random.default_rng(0))
    assert isinstance(param, Categorical)
    count = int(text.rsplit(",", 1)[-1].strip(" )")) if "," in text else int(text[-2])
    assert 1 <= len(param.choices) <= count
    again = parse_sweep_value("p", text, np.random.default_rng(0))
    assert again == param


def test_loguniform_draws_stay_inside_the_bounds() -> None:
    import numpy as np

    param = parse_sweep_value("p", "loguniform(1e-4, 1e-1, 50)", np.random.default_rng(5))
    assert isinstance(param, Categorical)
    assert all(1e-4 <= v <= 1e-1 for v in param.choices)
    logs = [math.log10(v) for v in param.choices]
    assert min(logs) < -3 and max(logs) > -2  # spread over the decades


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--lr", "uniform(1, 0)"], ["'lr'", "low <= high", "swap"]),
        (["--lr", "uniform(1, 0, 3)"], ["'lr'", "low > high", "swap"]),
        (["--lr", "loguniform(0, 1)"], ["'lr'", "log scale", "low > 0"]),
        (["--lr", "loguniform(-1, 1, 3)"], ["'lr'", "0 < low"]),
        (["--bs", "[]"], ["'bs'", "empty", "at least one"]),
        (["--bs", "[1, 2"], ["'bs'", "not closed"]),
        (["--bs", "range(1, 1)"], ["'bs'", "empty"]),
        (["--bs", "range(1.5, 3)"], ["'bs'", "integers"]),
        (["--bs", "range(1, 5, 0)"], ["'bs'", "must not be 0"]),
        (["--lr", "uniform(0, 1, 2, 3)"], ["'lr'", "takes 2 parameters"]),
        (["--lr", "uniform(0, 1, 0)"], ["'lr'", "count", "from 1"]),
        (["--lr", "uniform(0, 'a')"], ["'lr'", "takes numbers"]),
        (["--lr", "normal(0, 1)"], ["'lr'", "needs a count"]),
        (["--lr", "normal(0, -1, 3)"], ["'lr'", "cannot draw"]),
        (["--lr", "randint(3, 3)"], ["'lr'", "excludes"]),
        (["--lr", "[uniform(0, 1)]"], ["'lr'", "call inside a list"]),
        (["--lr", "[1]", "--lr", "[2]"], ["'lr'", "twice"]),
        (["train.py", "[1, 2]"], ["'[1, 2]'", "no option name"]),
    ],
)
def test_bad_input_names_the_parameter_the_text_and_the_fix(argv: list[str],
                                                             fragments: list[str]) -> None:
    with pytest.raises(SpaceError) as info:
        parse_inline(["python", *argv], seed=0)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_strategy_none_passes_everything_as_written() -> None:
    argv = ["main.py", "--alpha", "uniform(1e-5, 1e-1, 3)", "--beta", "[1, 2, 3, 4]"]
    sweep = none_sweep(argv)
    assert sweep.space.grid().size == 1
    assert sweep.render(sweep.space.grid()[0], CTX).argv == argv


def test_inline_sweep_round_trips() -> None:
    from hpsweep.space import Sweep

    sweep = parse_inline(["t.py", "--a=[1, 2]", "--b", "uniform(0, 1)", "--c", "{trial_dir}"],
                         seed=1)
    again = Sweep.from_dict(sweep.to_dict())
    assert again == sweep
    assert again.to_dict() == sweep.to_dict()
    config = {"a": 2, "b": 0.25}
    assert again.render(config, CTX).argv == ["t.py", "--a=2", "--b", "0.25", "--c",
                                              "/runs/s/trials/0007"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("[](),'\"- =rangeuniform0123.e_")),
                        max_size=25), max_size=6))
def test_random_commands_parse_or_raise_space_error(argv: list[str]) -> None:
    try:
        sweep = parse_inline(["python", *argv], seed=0)
    except SpaceError:
        return
    if sweep.space.is_finite:
        grid = sweep.space.grid()
        assert grid.size >= 1
        sweep.render(grid[0], CTX)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["uniform", "normal", "randint", "poisson", "loguniform", "zipf",
                        "choice", "range", "beta", "hypergeometric"]),
       st.lists(st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                          st.text(max_size=3)), max_size=5))
def test_random_distribution_arguments_parse_or_raise_space_error(fn: str, args: list) -> None:
    text = f"{fn}({', '.join(repr(a) for a in args)})"
    with contextlib.suppress(SpaceError):
        parse_inline(["python", "--p", text], seed=0)


def test_an_unknown_call_passes_through_as_written(caplog: pytest.LogCaptureFixture) -> None:
    """README: anything else passes through unchanged; only known distributions expand."""
    with caplog.at_level("WARNING", logger="hpsweep"):
        sweep = parse_inline(["python3", "-c", "print(1)", "--lr", "gaussian(0, 1)",
                              "--bs", "[1, 2]"], seed=0)
    assert list(sweep.space.names) == ["bs"]
    assert sweep.command[:5] == ("python3", "-c", "print(1)", "--lr", "gaussian(0, 1)")
    assert "'print(1)' is not a known distribution" in caplog.text
    assert "'gaussian(0, 1)' is not a known distribution" in caplog.text


def test_hydra_overrides_are_parameters_written_back_as_key_value() -> None:
    from hpsweep.space import ArgStyle, TrialContext

    sweep = parse_inline(["python", "app.py", "optimizer.lr=[0.01, 0.1]", "+model.act=choice(relu, gelu)",
                          "--data.batch", "range(16, 33, 16)", "trainer.max_epochs=3",
                          "model.drop=interval(0, 0.5)"], seed=0, style=ArgStyle.hydra())
    assert list(sweep.space.names) == ["optimizer.lr", "model.act", "data.batch", "model.drop"]
    assert sweep.space.params["model.act"].values() == ["relu", "gelu"]
    ctx = TrialContext(trial_id=3, trial_dir="/s/trials/0003", worker_id=0, seed=1, resource=None)
    argv = sweep.render({"optimizer.lr": 0.1, "model.act": "gelu", "data.batch": 32,
                         "model.drop": 0.25}, ctx).argv
    assert argv == ["python", "app.py", "optimizer.lr=0.1", "+model.act=gelu", "data.batch=32",
                    "trainer.max_epochs=3", "model.drop=0.25", "hydra.run.dir=/s/trials/0003"]
    own = parse_inline(["python", "app.py", "x=[1, 2]", "hydra.run.dir=out/{trial_id}"], seed=0,
                       style=ArgStyle.hydra())
    assert [t for t in own.command if isinstance(t, str) and "hydra.run.dir" in t] == \
        ["hydra.run.dir=out/{trial_id}"]
