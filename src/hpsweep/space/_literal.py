"""A small literal parser for the sweep syntaxes (no ``eval``, no ``ast``).

It reads the text a user writes on a command line or in a condition:

* numbers (``32``, ``-1.5``, ``1e-5``, ``.5``), ``True``/``False``/``None`` (any case for the
  booleans: ``true`` and ``false`` too);
* strings in single or double quotes (a backslash escapes the next character);
* bare words (``resnet18``, ``a/b.txt``), read as strings;
* lists ``[a, b, c]``; items are separated by commas **or by whitespace alone**, so NumPy's way
  of printing arrays (``[0.1 0.2]``) and the missing comma in ``['resnet18' 'transformer',
  'resnet50']`` both give separate items (three strings there);
* calls ``name(arg, ...)`` whose arguments are any of the above.

Anything else is a :class:`~hpsweep.errors.SpaceError` that quotes the text and the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hpsweep.errors import SpaceError

__all__ = ["Call", "parse_literal"]

MAX_DEPTH = 32
MAX_LENGTH = 1_000_000

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\Z")
_INT = re.compile(r"[+-]?\d+\Z")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SPECIAL = frozenset("[](),'\"")
_WORDS: dict[str, Any] = {"true": True, "false": False, "none": None, "null": None}


@dataclass(frozen=True)
class Call:
    """``name(args...)`` as written; the arguments are parsed literals."""

    name: str
    args: tuple[Any, ...]


def word_value(word: str) -> Any:
    """The value of a bare word: a number, a boolean, None, or the word itself."""
    if _INT.match(word):
        return int(word)
    if _NUMBER.match(word):
        return float(word)
    lowered = word.lower()
    if lowered in ("inf", "+inf", "-inf", "nan"):
        return float(lowered)
    if lowered in _WORDS and (word in ("True", "False", "None") or word == lowered):
        return _WORDS[lowered]
    return word


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        if len(text) > MAX_LENGTH:
            raise SpaceError(f"{what}: the text is longer than {MAX_LENGTH} characters (the limit for "
                             "one value); shorten it or use a grid module.")
        self.text = text
        self.what = what
        self.pos = 0

    def fail(self, message: str, fix: str) -> SpaceError:
        return SpaceError(
            f"{self.what}: cannot parse {self.text!r} at position {self.pos}: {message}; {fix}."
        )

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse_all(self) -> Any:
        value = self.value(0)
        self.skip_ws()
        if self.pos != len(self.text):
            raise self.fail(
                f"unexpected text {self.text[self.pos:self.pos + 20]!r} after the value",
                "write one value, list or call",
            )
        return value

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels", "flatten the value")
        self.skip_ws()
        char = self.peek()
        if char == "":
            raise self.fail("the text ends where a value was expected", "complete the value")
        if char == "[":
            return self.list_(depth)
        if char in "'\"":
            return self.string()
        if char in "](),":
            raise self.fail(f"unexpected {char!r}", "check the brackets and commas")
        word = self.word()
        if self.peek() == "(":
            if not _IDENT.match(word):
                raise self.fail(f"{word!r} is not a function name", "check the spelling")
            return Call(word, tuple(self.items(depth, "(", ")", commas_only=True)))
        return word_value(word)

    def word(self) -> str:
        start = self.pos
        while (self.pos < len(self.text) and not self.text[self.pos].isspace()
               and self.text[self.pos] not in _SPECIAL):
            self.pos += 1
        return self.text[start:self.pos]

    def string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == quote:
                return "".join(out)
            out.append(char)
        raise self.fail(f"the string opened with {quote} is not closed", f"add the closing {quote}")

    def list_(self, depth: int) -> list[Any]:
        return self.items(depth, "[", "]", commas_only=False)

    def items(self, depth: int, open_: str, close: str, *, commas_only: bool) -> list[Any]:
        assert self.peek() == open_
        self.pos += 1
        out: list[Any] = []
        need_sep = False
        while True:
            self.skip_ws()
            char = self.peek()
            if char == "":
                raise self.fail(f"{open_!r} is not closed", f"add the closing {close!r}")
            if char == close:
                self.pos += 1
                return out
            if char == ",":
                if not need_sep:
                    raise self.fail("an empty item (two commas or a leading comma)",
                                    "remove the extra comma")
                self.pos += 1
                need_sep = False
                continue
            if need_sep and commas_only:
                raise self.fail("a missing comma between arguments", "separate them with ','")
            out.append(self.value(depth + 1))
            need_sep = True


def parse_literal(text: str, *, what: str = "value") -> Any:
    """Parse ``text`` into a Python value (see the module docstring for the grammar).

    ``what`` names the thing being parsed (for instance ``"parameter 'lr'"``) in error messages.

    >>> parse_literal("['resnet18' 'transformer', 'resnet50']")
    ['resnet18', 'transformer', 'resnet50']
    >>> parse_literal("range(1, 10, 2)")
    Call(name='range', args=(1, 10, 2))
    """
    if not isinstance(text, str):
        raise SpaceError(f"{what}: expected text, got {type(text).__name__} {text!r}.")
    return _Parser(text, what).parse_all()
