"""How one option becomes argv tokens: ``--k=v``, ``--k v`` or Hydra's ``k=v``."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from hpsweep.errors import SpaceError

__all__ = ["ArgStyle", "BoolStyle", "OptionForm", "format_option", "format_value"]


class OptionForm(str, enum.Enum):
    EQUALS = "equals"  # --k=v
    SPACE = "space"  # --k v
    HYDRA = "hydra"  # k=v


class BoolStyle(str, enum.Enum):
    FLAG = "flag"  # True -> --k, False -> nothing (hypnettorch)
    VALUE = "value"  # --k=True / --k=False (seed 002)


@dataclass(frozen=True)
class ArgStyle:
    """How options are written. The default is ``--k=v`` with booleans as flags.

    Hydra options have no flags: in the Hydra form booleans are always written as
    ``k=true`` / ``k=false``.

    >>> format_option("lr", 0.1, ArgStyle())
    ['--lr=0.1']
    >>> format_option("lr", 0.1, ArgStyle.space())
    ['--lr', '0.1']
    >>> format_option("use_bn", False, ArgStyle()), format_option("use_bn", True, ArgStyle())
    ([], ['--use_bn'])
    """

    form: OptionForm = OptionForm.EQUALS
    booleans: BoolStyle = BoolStyle.FLAG
    prefix: str = "--"

    def __post_init__(self) -> None:
        for field_name, enum_cls in (("form", OptionForm), ("booleans", BoolStyle)):
            value = getattr(self, field_name)
            try:
                object.__setattr__(self, field_name, enum_cls(value))
            except ValueError:
                allowed = ", ".join(m.value for m in enum_cls)
                raise SpaceError(f"argument style: {field_name}={value!r} is not one of "
                                 f"{allowed}.") from None

    @classmethod
    def equals(cls, *, booleans: BoolStyle | str = BoolStyle.FLAG) -> ArgStyle:
        return cls(form=OptionForm.EQUALS, booleans=BoolStyle(booleans))

    @classmethod
    def space(cls, *, booleans: BoolStyle | str = BoolStyle.FLAG) -> ArgStyle:
        return cls(form=OptionForm.SPACE, booleans=BoolStyle(booleans))

    @classmethod
    def hydra(cls) -> ArgStyle:
        return cls(form=OptionForm.HYDRA, booleans=BoolStyle.VALUE, prefix="")

    @classmethod
    def from_names(cls, form: str = "equals", booleans: str = "flag") -> ArgStyle:
        """A style from the command line's names (``--arg-style``, ``--bool-style``)."""
        style = cls(form=form, booleans=booleans)  # type: ignore[arg-type]  # checked in post_init
        if style.form is OptionForm.HYDRA:
            return cls.hydra()
        return style

    def to_dict(self) -> dict[str, Any]:
        return {"form": self.form.value, "booleans": self.booleans.value, "prefix": self.prefix}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArgStyle:
        return cls(form=OptionForm(data.get("form", "equals")),
                   booleans=BoolStyle(data.get("booleans", "flag")),
                   prefix=str(data.get("prefix", "--")))


def format_value(value: Any, *, hydra: bool = False) -> str:
    """The text of one value on a command line (never shell-quoted: argv carries it intact)."""
    if isinstance(value, bool):
        text = "True" if value else "False"
        return text.lower() if hydra else text
    if value is None:
        return "null" if hydra else "None"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float ("1.0" stays a float)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value if not isinstance(value, tuple) else list(value))
    return str(value)


def format_option(name: str, value: Any, style: ArgStyle | None = None) -> list[str]:
    """The argv tokens of one option (an empty list for a False flag).

    A name that already starts with ``-`` is used as written (no prefix added).
    """
    style = style or ArgStyle()
    if not isinstance(name, str) or not name:
        raise SpaceError(f"option name must be a non-empty string, got {name!r}.")
    hydra = style.form is OptionForm.HYDRA
    key = name if name.startswith("-") else f"{style.prefix}{name}"
    if isinstance(value, bool) and style.booleans is BoolStyle.FLAG and not hydra:
        return [key] if value else []
    text = format_value(value, hydra=hydra)
    if style.form is OptionForm.SPACE:
        return [key, text]
    return [f"{key}={text}"]
