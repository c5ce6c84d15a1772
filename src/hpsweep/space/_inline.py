"""Seed 002's inline sweep syntax: sweeps written as option values in the user's own command.

``python train.py --layers "[32, 64, 128]" --lr=loguniform(1e-5, 1e-1)`` is read option by
option; an option value (``--name VALUE`` or ``--name=VALUE``) that is a list or a known call is
a parameter named after the option without its dashes, and every other token passes through
unchanged. At render time each parameter's token is replaced by its value, in the same place.

Values (no ``eval``; see :mod:`hpsweep.space._literal` for the literal grammar):

* ``[a, b, c]``: a categorical. Items may be separated by whitespace alone, so the seed's
  ``['resnet18' 'transformer', 'resnet50']`` gives the three strings. Repeated items are dropped.
* ``range(stop)``, ``range(start, stop[, step])``: Python's range (``range(1, 10, 2)`` is
  1, 3, 5, 7, 9); a positive step gives an integer parameter with that step, counted lazily.
* ``dist(p1, ..., pk, n)``: a NumPy distribution with *all* its parameters followed by a count:
  ``n`` values are drawn once with the sweep's seed and become a categorical
  (``uniform(1e-5, 1e-1, 3)``). Also ``loguniform(low, high, n)``, ``randint(low, high, n)``
  (NumPy's ``integers``: ``high`` excluded) and ``choice([...], n)``. Drawn repeats are dropped,
  so ``n`` is the most values there can be. The drawn values are frozen into the sweep.
* Priors without a count, for random and model-based strategies: ``uniform(low, high)`` (a float
  in [low, high]), ``loguniform(low, high)`` (log scale, ``low > 0``), ``randint(low, high)``
  (an integer in [low, high - 1], as NumPy) and ``choice([a, b, c])``.
* Hydra's spellings: ``choice(a, b, c)`` (the items themselves) and ``interval(low, high)`` (a
  float in [low, high]).

Only these calls expand. A call of any other name (``python3 -c "print(1)"``) is passed through
as written, with a warning that names it, so that anything else reaches the script unchanged.

Hydra applications (``style`` in the Hydra form, ``--arg-style hydra``) take overrides as
``key=value``: such a token whose value is a list or a known call (``optimizer.lr=[0.01, 0.1]``,
``model.depth=range(2, 5)``, ``+extra.flag=choice(true, false)``) is a parameter named after the
key (without Hydra's ``+``/``++``/``~`` prefixes) and is written back as ``key=value``; an option
written with dashes (``--optimizer.lr "[0.01, 0.1]"``) is written back the same way, since Hydra
accepts no dashes. Unless the command sets ``hydra.run.dir`` itself, ``hydra.run.dir={trial_dir}``
is added, so that each trial's Hydra outputs (``.hydra/``, logs) go into its own trial folder
instead of a shared ``outputs/<date>/<time>``. Hydra's comma sweeps (``key=a,b``) are not read:
they are passed through, as Hydra itself reads them only under ``--multirun``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpsweep.errors import SpaceError
from hpsweep.space._conditions import unique_values
from hpsweep.space._literal import Call, parse_literal
from hpsweep.space._params import Categorical, Float, Int, Param, check_int64
from hpsweep.space._space import SearchSpace, as_generator
from hpsweep.space._style import ArgStyle, OptionForm
from hpsweep.space._sweep import ArgSlot, Sweep

__all__ = ["DISTRIBUTIONS", "parse_inline", "parse_sweep_value"]

MAX_COUNT = 100_000
MAX_LISTED = 1_000_000

# NumPy Generator methods -> number of distribution parameters (the count follows them).
DISTRIBUTIONS: dict[str, int] = {
    "uniform": 2, "normal": 2, "lognormal": 2, "exponential": 1, "beta": 2, "gamma": 2,
    "poisson": 1, "binomial": 2, "geometric": 1, "laplace": 2, "logistic": 2, "gumbel": 2,
    "chisquare": 1, "triangular": 3, "weibull": 1, "pareto": 1, "rayleigh": 1, "vonmises": 2,
    "wald": 2, "power": 1, "standard_normal": 0, "standard_exponential": 0, "standard_cauchy": 0,
    "standard_t": 1, "standard_gamma": 1, "f": 2, "negative_binomial": 2, "logseries": 1,
    "zipf": 1, "hypergeometric": 3, "noncentral_chisquare": 2, "noncentral_f": 3,
}
_SPECIAL = {"loguniform": 2, "randint": 2, "integers": 2, "choice": 1, "range": 0}
_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(.*\)\s*\Z", re.DOTALL)
_OPTION = re.compile(r"-{1,2}[A-Za-z_][\w.\-]*\Z")
_HYDRA_KEY = re.compile(r"(\+{1,2}|~)?([A-Za-z_][\w.@/\-]*)\Z")
_HYDRA_ONLY = {"interval": 2}
_log = logging.getLogger("hpsweep")


def _unknown_call(text: str) -> str | None:
    """The name of a call that is not a known distribution (it passes through), else None."""
    match = _CALL.match(text.strip())
    if match is None:
        return None
    name = match.group(1)
    if name in DISTRIBUTIONS or name in _SPECIAL or name in _HYDRA_ONLY or name == "choices":
        return None
    return name


def looks_like_sweep(text: str) -> bool:
    """Whether an option value is written in the sweep syntax (a list or a call)."""
    stripped = text.strip()
    return stripped.startswith("[") or bool(_CALL.match(stripped))


def parse_sweep_value(name: str, text: str, rng: np.random.Generator) -> Param:
    """The parameter ``name`` written as ``text`` (a list or a call; see the module docstring)."""
    what = f"parameter {name!r}"
    value = parse_literal(text, what=what)
    try:
        if isinstance(value, list):
            return _categorical(name, value, text)
        if isinstance(value, Call):
            return _from_call(name, value, text, rng)
    except SpaceError as exc:
        if repr(text) in str(exc):
            raise
        raise SpaceError(f"{exc} (written as {text!r})") from None
    raise SpaceError(f"{what}: {text!r} is neither a list nor a distribution; write [a, b] or "
                     "e.g. uniform(0, 1).")


def _categorical(name: str, values: list[Any], text: str) -> Categorical:
    if not values:
        raise SpaceError(f"parameter {name!r}: the list {text!r} is empty; give at least one "
                         "value.")
    todo: list[Any] = list(values)
    while todo:  # at any depth: a call is never a value
        value = todo.pop()
        if isinstance(value, Call):
            raise SpaceError(f"parameter {name!r}: {text!r} has a call inside a list "
                             f"({value.name}(...)); write plain values in lists.")
        if isinstance(value, list):
            todo.extend(value)
    return Categorical(name, tuple(unique_values(values)))


def _numbers(name: str, call: Call, text: str, args: Sequence[Any]) -> list[float]:
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, float)) or math.isnan(arg):
            raise SpaceError(f"parameter {name!r}: {call.name}() in {text!r} takes numbers, got "
                             f"{arg!r}; write e.g. {call.name}(0, 1).")
    return [a for a in args]


def _count(name: str, call: Call, text: str, raw: Any) -> int:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_COUNT:
        raise SpaceError(f"parameter {name!r}: the count in {text!r} must be an integer from 1 to "
                         f"{MAX_COUNT}, got {raw!r}.")
    return raw


def _from_call(name: str, call: Call, text: str, rng: np.random.Generator) -> Param:
    fn, args = call.name, list(call.args)
    if fn == "range":
        return _range(name, text, args)
    if fn in ("choice", "choices"):
        return _choice(name, text, args, rng)
    if fn == "interval":
        if len(args) != 2:
            raise SpaceError(f"parameter {name!r}: {text!r}: write interval(low, high).")
        low, high = _numbers(name, call, text, args)
        if low > high:
            raise SpaceError(f"parameter {name!r}: {text!r} has low > high; swap the bounds.")
        return Float(name, float(low), float(high))
    n_params = DISTRIBUTIONS.get(fn, _SPECIAL.get(fn))
    if n_params is None:
        known = ", ".join(sorted([*DISTRIBUTIONS, *_SPECIAL]))
        raise SpaceError(f"parameter {name!r}: unknown distribution {fn!r} in {text!r} (known: "
                         f"{known}); fix the name, or use strategy none to pass it as written.")
    if len(args) == n_params:
        return _prior(name, fn, _numbers(name, call, text, args), text)
    if len(args) != n_params + 1:
        raise SpaceError(f"parameter {name!r}: {fn}() in {text!r} takes {n_params} parameters "
                         f"and then a count; got {len(args)} arguments. Write all {n_params} "
                         f"parameters, then how many values to draw.")
    params = _numbers(name, call, text, args[:-1])
    count = _count(name, call, text, args[-1])
    if fn in ("uniform", "loguniform", "randint", "integers") and params[0] > params[1]:
        raise SpaceError(f"parameter {name!r}: {text!r} has low > high ({params[0]} > "
                         f"{params[1]}); swap the bounds.")
    return Categorical(name, tuple(unique_values(_draw(name, fn, params, count, text, rng))))


def _prior(name: str, fn: str, args: list[float], text: str) -> Param:
    if fn == "uniform":
        return Float(name, float(args[0]), float(args[1]))
    if fn == "loguniform":
        return Float(name, float(args[0]), float(args[1]), log=True)
    if fn in ("randint", "integers"):
        low, high = args
        if not (float(low).is_integer() and float(high).is_integer()):
            raise SpaceError(f"parameter {name!r}: {fn}() in {text!r} takes integers.")
        if high <= low:
            raise SpaceError(f"parameter {name!r}: {text!r} is empty ({fn}(low, high) excludes "
                             f"high, as NumPy); use high > low.")
        return Int(name, int(low), int(high) - 1)
    raise SpaceError(f"parameter {name!r}: {fn}() in {text!r} needs a count (how many values to "
                     f"draw once), e.g. {fn}({', '.join(['…'] * len(args))}, 5); only uniform, "
                     "loguniform, randint and choice are priors without a count.")


def _draw(name: str, fn: str, params: list[float], count: int, text: str,
          rng: np.random.Generator) -> list[Any]:
    try:
        if fn == "loguniform":
            _check_log(name, params, text)
            raw = np.exp(rng.uniform(math.log(params[0]), math.log(params[1]), size=count))
        elif fn in ("randint", "integers"):
            raw = rng.integers(int(params[0]), int(params[1]), size=count)
        else:
            raw = getattr(rng, fn)(*params, size=count)
    except (ValueError, TypeError, OverflowError) as exc:
        raise SpaceError(f"parameter {name!r}: cannot draw from {text!r} ({exc}); fix the "
                         "distribution's parameters.") from None
    values = [v.item() for v in np.asarray(raw).ravel()]
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise SpaceError(f"parameter {name!r}: {text!r} drew a non-finite value; fix the "
                             "distribution's parameters.")
    return values


def _check_log(name: str, params: list[float], text: str) -> None:
    if params[0] <= 0 or params[1] < params[0]:
        raise SpaceError(f"parameter {name!r}: loguniform(low, high) in {text!r} needs "
                         "0 < low <= high.")


def _range(name: str, text: str, args: list[Any]) -> Param:
    if not 1 <= len(args) <= 3 or any(isinstance(a, bool) or not isinstance(a, int) for a in args):
        raise SpaceError(f"parameter {name!r}: {text!r}: range() takes 1 to 3 integers, as in "
                         "Python: range(stop), range(start, stop) or range(start, stop, step).")
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1],
                                                                args[2] if len(args) == 3 else 1)
    for what, value in (("start", start), ("stop", stop), ("step", step)):
        check_int64(name, value, f"range() {what}")
    if step == 0:
        raise SpaceError(f"parameter {name!r}: {text!r}: the step of range() must not be 0.")
    values = range(start, stop, step)
    if len(values) == 0:
        raise SpaceError(f"parameter {name!r}: {text!r} is empty; check start, stop and step.")
    if step > 0:
        return Int(name, start, values[-1], step=step)
    if len(values) > MAX_LISTED:
        raise SpaceError(f"parameter {name!r}: {text!r} has more than {MAX_LISTED} values; write "
                         "it with a positive step.")
    return Categorical(name, tuple(values))


def _choice(name: str, text: str, args: list[Any], rng: np.random.Generator) -> Param:
    if args and not isinstance(args[0], list):  # Hydra's choice(a, b, c): the items themselves
        return _categorical(name, list(args), text)
    if not args or len(args) > 2:
        raise SpaceError(f"parameter {name!r}: {text!r}: write choice([a, b, c]) or "
                         "choice([a, b, c], n) to draw n of them once.")
    base = _categorical(name, args[0], text)
    if len(args) == 1:
        return base
    count = _count(name, Call("choice", tuple(args)), text, args[1])
    picks = rng.integers(len(base.choices), size=count)
    return Categorical(name, tuple(unique_values([base.choices[int(i)] for i in picks])))


def parse_inline(argv: Sequence[str], *, seed: int | None,
                 style: ArgStyle | None = None) -> Sweep:
    """A sweep from a command whose option values use the inline syntax.

    ``seed`` seeds the values drawn once (``uniform(0, 1, 3)``); ``style`` is how the options
    the tuner adds (``--out_dir``, ``--seed``, ``--epochs``) are written.

    >>> sweep = parse_inline(["python", "train.py", "--layers", "range(1, 10, 2)"], seed=0)
    >>> sweep.space.grid().size
    5
    """
    rng = as_generator(seed)
    space = SearchSpace()
    hydra = style is not None and style.form is OptionForm.HYDRA
    tokens = list(argv)
    command: list[str | ArgSlot] = []
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise SpaceError(f"command token {token!r} is not text; pass the command as strings.")
        prev = tokens[i - 1] if i > 0 else ""
        if "=" in token and token.startswith("-"):
            option, _, value = token.partition("=")
            if _OPTION.match(option) and looks_like_sweep(value) and _expands(value):
                name = option.lstrip("-")
                _add(space, name, value, rng)
                command.append(ArgSlot(name, prefix=(f"{name}=" if hydra else option + "=")))
                continue
        if hydra and "=" in token and not token.startswith("-"):
            key, _, value = token.partition("=")
            match = _HYDRA_KEY.match(key)
            if match and looks_like_sweep(value) and _expands(value):
                name = match.group(2)
                _add(space, name, value, rng)
                command.append(ArgSlot(name, prefix=f"{key}="))
                continue
        if looks_like_sweep(token):
            if not _expands(token):
                command.append(token)
                continue
            if not (_OPTION.match(prev) and i > 0 and not isinstance(command[-1], ArgSlot)):
                raise SpaceError(f"argument {token!r} is written as a sweep but follows no option "
                                 "name; write it as --name VALUE, or use strategy none to pass it "
                                 "as written.")
            name = prev.lstrip("-")
            _add(space, name, token, rng)
            if hydra:  # Hydra takes key=value, never --key value
                command[-1] = ArgSlot(name, prefix=f"{name}=")
            else:
                command.append(ArgSlot(name))
            continue
        command.append(token)
    if hydra and not any(isinstance(t, str) and t.lstrip("+").startswith("hydra.run.dir=")
                         for t in command):
        command.append("hydra.run.dir={trial_dir}")
    return Sweep(space=space, command=tuple(command), style=style or ArgStyle(), kind="inline")


def _expands(text: str) -> bool:
    """Whether a value written in the sweep syntax expands (lists and known calls); an unknown
    call passes through as written, with a warning."""
    unknown = _unknown_call(text)
    if unknown is None:
        return True
    _log.warning("%r is not a known distribution (%s(...)): passed to the script as written",
                 text, unknown)
    return False


def _add(space: SearchSpace, name: str, text: str, rng: np.random.Generator) -> None:
    if name in space:
        raise SpaceError(f"parameter {name!r} is swept twice in the command; keep one of its "
                         "options.")
    space.add(parse_sweep_value(name, text, rng))
