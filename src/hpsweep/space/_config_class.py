"""``SearchSpace.from_config_class``: a space from a (possibly nested) dataclass."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import MISSING
from typing import Any

from hpsweep.errors import SpaceError
from hpsweep.space._params import (
    Categorical,
    Fixed,
    Float,
    Int,
    Param,
    check_jsonable,
    param_from_dict,
)

__all__ = ["params_from_config_class"]


def _defaults(config_cls: type, prefix: str) -> dict[str, Any]:
    """Dotted field name -> default value; nested dataclass defaults are flattened."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config_cls):
        name = f"{prefix}{f.name}"
        if f.default is not MISSING:
            value: Any = f.default
        elif f.default_factory is not MISSING:
            value = f.default_factory()
        elif isinstance(f.type, type) and dataclasses.is_dataclass(f.type):
            value = f.type
        else:
            value = MISSING
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            out.update(_defaults(value, name + "."))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.update(_instance_values(value, name + "."))
        else:
            out[name] = value
    return out


def _instance_values(obj: Any, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.update(_instance_values(value, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def override_param(name: str, spec: Any) -> Param:
    """A parameter named ``name`` from an override value (list, (low, high), Param, spec dict)."""
    if isinstance(spec, (Float, Int, Categorical, Fixed)):
        return dataclasses.replace(spec, name=name, condition=None)
    if isinstance(spec, list):
        return Categorical(name, tuple(check_jsonable(name, v) for v in spec))
    if isinstance(spec, tuple) and len(spec) == 2:
        low, high = spec
        if all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
            return Int(name, low, high)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            return Float(name, float(low), float(high))
    if isinstance(spec, Mapping):
        try:
            data = {"log": False, "condition": None, **spec, "name": name}
            return param_from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, SpaceError):
                raise
            raise SpaceError(f"override {name!r}: bad spec {dict(spec)!r} ({exc}); write e.g. "
                             "{'type': 'float', 'low': 1e-5, 'high': 1e-1, 'log': True}.") from None
    raise SpaceError(
        f"override {name!r}: cannot read {spec!r}; give a list of values, a (low, high) tuple of "
        "numbers, a parameter object or a spec dict."
    )


def params_from_config_class(config_cls: type, overrides: Mapping[str, Any]) -> list[Param]:
    """The parameters of a dataclass: each field fixed at its default unless overridden."""
    if not (isinstance(config_cls, type) and dataclasses.is_dataclass(config_cls)):
        raise SpaceError(f"from_config_class: {config_cls!r} is not a dataclass; pass the class "
                         "decorated with @dataclass.")
    if not isinstance(overrides, Mapping):
        raise SpaceError(f"from_config_class: overrides must be a dict, got {overrides!r}.")
    defaults = _defaults(config_cls, "")
    for key in overrides:
        if key not in defaults:
            raise SpaceError(
                f"override {key!r}: {config_cls.__name__} has no such field (fields: "
                f"{', '.join(defaults)}); fix the name (nested fields are dotted: 'a.b')."
            )
    params: list[Param] = []
    for name, default in defaults.items():
        if name in overrides:
            params.append(override_param(name, overrides[name]))
        elif default is MISSING:
            raise SpaceError(
                f"field {name!r} of {config_cls.__name__} has no default; give it a default or "
                "an override."
            )
        else:
            params.append(Fixed(name, check_jsonable(name, default)))
    return params
