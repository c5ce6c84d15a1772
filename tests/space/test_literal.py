from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpsweep.errors import SpaceError
from hpsweep.space import parse_literal
from hpsweep.space._literal import Call


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("32", 32),
        ("-1.5", -1.5),
        ("1e-5", 1e-5),
        (".5", 0.5),
        ("True", True),
        ("false", False),
        ("None", None),
        ("bert", "bert"),
        ("'bert'", "bert"),
        ('"a b, c"', "a b, c"),
        ("'it\\'s'", "it's"),
        ("[32, 64, 128]", [32, 64, 128]),
        ("[0.1 0.2 0.3]", [0.1, 0.2, 0.3]),
        ("['resnet18' 'transformer', 'resnet50']", ["resnet18", "transformer", "resnet50"]),
        ("[[1, 2], [3]]", [[1, 2], [3]]),
        ("[True, False,]", [True, False]),
        ("[]", []),
        ("range(1, 10, 2)", Call("range", (1, 10, 2))),
        ("choice(['a', 'b'])", Call("choice", (["a", "b"],))),
        ("  uniform( 0 , 1 )  ", Call("uniform", (0, 1))),
    ],
)
def test_parses(text: str, expected: object) -> None:
    value = parse_literal(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[1, 2", "not closed"),
        ("'abc", "not closed"),
        ("[1,, 2]", "empty item"),
        ("[, 1]", "empty item"),
        ("uniform(0 1)", "missing comma"),
        ("[1] 2", "unexpected text"),
        ("", "ends where a value"),
        (")", "unexpected ')'"),
        ("[" * 40 + "]" * 40, "nested deeper"),
        ("a-b(1)", "not a function name"),
    ],
)
def test_rejects_with_a_message(text: str, fragment: str) -> None:
    with pytest.raises(SpaceError, match=r"cannot parse|nested") as info:
        parse_literal(text, what="parameter 'x'")
    assert fragment in str(info.value)
    assert "parameter 'x'" in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[](),'\" \\abc019.-e_TrueFals")), max_size=40))
def test_random_syntax_text_parses_or_raises_space_error(text: str) -> None:
    with contextlib.suppress(SpaceError):
        parse_literal(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_random_unicode_parses_or_raises_space_error(text: str) -> None:
    with contextlib.suppress(SpaceError):
        parse_literal(text)
