from __future__ import annotations

import pytest

from hpsweep.errors import SpaceError
from hpsweep.space import (
    ArgSlot,
    ArgStyle,
    BoolStyle,
    OptionForm,
    SearchSpace,
    Sweep,
    TrialContext,
    format_option,
)

CTX = TrialContext(trial_id=3, trial_dir="/s/trials/0003", worker_id=1, seed=42, resource=9)


@pytest.mark.parametrize(
    ("style", "name", "value", "expected"),
    [
        (ArgStyle(), "lr", 0.1, ["--lr=0.1"]),
        (ArgStyle.space(), "lr", 0.1, ["--lr", "0.1"]),
        (ArgStyle.hydra(), "lr", 0.1, ["lr=0.1"]),
        (ArgStyle.hydra(), "model.depth", 3, ["model.depth=3"]),
        (ArgStyle(form=OptionForm.HYDRA, booleans=BoolStyle.VALUE, prefix="+"), "x", 1, ["+x=1"]),
        (ArgStyle(), "flag", True, ["--flag"]),
        (ArgStyle(), "flag", False, []),
        (ArgStyle.space(), "flag", False, []),
        (ArgStyle.equals(booleans="value"), "flag", False, ["--flag=False"]),
        (ArgStyle.space(booleans="value"), "flag", True, ["--flag", "True"]),
        (ArgStyle.hydra(), "flag", True, ["flag=true"]),
        (ArgStyle(), "name", 'a "quoted" value', ['--name=a "quoted" value']),
        (ArgStyle.space(), "name", "it's here", ["--name", "it's here"]),
        (ArgStyle(), "lr", 1e-5, ["--lr=1e-05"]),
        (ArgStyle(), "w", 2.0, ["--w=2.0"]),
        (ArgStyle(), "widths", [64, 32], ["--widths=[64, 32]"]),
        (ArgStyle(), "-x", 1, ["-x=1"]),
        (ArgStyle(), "nothing", None, ["--nothing=None"]),
    ],
)
def test_format_option(style: ArgStyle, name: str, value: object, expected: list[str]) -> None:
    assert format_option(name, value, style) == expected


def test_from_names_and_bad_names() -> None:
    assert ArgStyle.from_names("space", "value") == ArgStyle.space(booleans="value")
    assert ArgStyle.from_names("hydra", "flag") == ArgStyle.hydra()
    with pytest.raises(SpaceError, match="form='dashes'"):
        ArgStyle.from_names("dashes")
    assert ArgStyle.from_dict(ArgStyle.hydra().to_dict()) == ArgStyle.hydra()


def test_placeholders_are_replaced_in_literal_tokens_only() -> None:
    space = SearchSpace().add_categorical("lr", [0.1])
    sweep = Sweep(space=space, command=(
        "train.py", "--out={trial_dir}", "--id", "{trial_id}", "--w={worker_id}",
        "--s={seed}", "--r={resource}", "{not_a_placeholder}", "{trial_id", "--lr",
        ArgSlot("lr")))
    argv = sweep.render({"lr": 0.1}, CTX).argv
    assert argv == ["train.py", "--out=/s/trials/0003", "--id", "3", "--w=1", "--s=42", "--r=9",
                    "{not_a_placeholder}", "{trial_id", "--lr", "0.1"]


def test_a_missing_seed_placeholder_value_is_a_clear_error() -> None:
    sweep = Sweep(space=SearchSpace(), command=("t.py", "--seed={seed}"))
    ctx = TrialContext(trial_id=0, trial_dir="/d", worker_id=0, seed=None, resource=None)
    with pytest.raises(SpaceError, match=r"\{seed\}"):
        sweep.render({}, ctx)


def test_values_with_spaces_and_quotes_survive_in_slots_and_appended_options() -> None:
    space = SearchSpace().add_categorical("msg", ['say "hi" now', "a b"]).add_categorical(
        "flag", [False, True])
    sweep = Sweep(space=space, command=("python3", "x.py"), append=True)
    assert sweep.render({"msg": 'say "hi" now', "flag": True}, CTX).argv == [
        "python3", "x.py", '--msg=say "hi" now', "--flag"]
    spaced = Sweep(space=space, command=("x.py",), append=True, style=ArgStyle.space())
    assert spaced.render({"msg": "a b", "flag": False}, CTX).argv == ["x.py", "--msg", "a b"]


def test_render_with_a_missing_slot_value_fails_clearly() -> None:
    sweep = Sweep(space=SearchSpace().add_int("n", 1, 3), command=("x.py", "--n", ArgSlot("n")))
    with pytest.raises(SpaceError, match="no value for parameter 'n'"):
        sweep.render({}, CTX)


def test_sweep_validates_its_fields() -> None:
    with pytest.raises(SpaceError, match="repetitions"):
        Sweep(space=SearchSpace(), repetitions=0)
    with pytest.raises(SpaceError, match="names no parameter"):
        Sweep(space=SearchSpace(), command=(ArgSlot("x"),))
    with pytest.raises(SpaceError, match="damaged"):
        Sweep.from_dict({"command": []})
