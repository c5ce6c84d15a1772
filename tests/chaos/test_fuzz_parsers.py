"""Hypothesis against every parser of user input: the only exception is the project's own.

Each parser gets text (or data) built from the pieces its grammar uses, so most inputs come
near the edges (brackets, quotes, calls, huge integers, deep nesting, aliases). A parser may
accept an input or refuse it with an :class:`~hpsweep.errors.HpsweepError`; anything else (a
traceback) fails the test. The metric channels and summary files never raise at all: a trial's
output is read, not judged.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpsweep.errors import HpsweepError
from hpsweep.executors.metrics import MetricParser, read_summary_file
from hpsweep.space import (
    SearchSpace,
    parse_inline,
    parse_literal,
    parse_sweep_value,
    space_from_grid,
    sweep_from_yaml,
)
from hpsweep.space._conditions import parse_condition
from hpsweep.space._yaml import load_yaml_mapping

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

PIECES = ["[", "]", "(", ")", ",", " ", "'", '"', "\\", "-", ".", "e", "1", "0", "9" * 25,
          "uniform", "loguniform", "randint", "range", "choice", "normal", "f", "x", "True",
          "None", "nan", "inf", "-2**63", "9223372036854775808", "1e400", "=", "==", " in ",
          "\n", "\t", "{", "}", ":", "é", "\x00"]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=60)


def only_ours(fn: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(HpsweepError):
        fn(*args, **kwargs)


@FUZZ
@given(texts)
def test_literal(text: str) -> None:
    only_ours(parse_literal, text)


@FUZZ
@given(texts)
def test_sweep_values(text: str) -> None:
    only_ours(parse_sweep_value, "x", text, np.random.default_rng(0))


@FUZZ
@given(st.lists(texts, min_size=1, max_size=4), st.integers(-3, 2**64) | st.none())
def test_inline_commands(values: list[str], seed: int | None) -> None:
    argv = ["python", "t.py"]
    for i, value in enumerate(values):
        argv += [f"--p{i}", value]
    only_ours(parse_inline, argv, seed=seed)


@FUZZ
@given(texts)
def test_conditions(text: str) -> None:
    space = SearchSpace().add_categorical("opt", ["sgd", "adam", 1, None])
    only_ours(parse_condition, text, space.params)


yaml_pieces = ["a:", " b:", "\n", "  ", "- ", "[", "]", "{", "}", "&x ", "*x", "<<: ", "1",
               "'s'", "!!python/object:os.system", "!!binary", "? ", "---", "...", ",", "9" * 30,
               "~", ":", "#", "|", ">"]
yaml_texts = st.lists(st.sampled_from(yaml_pieces), max_size=40).map("".join)


@FUZZ
@given(yaml_texts, yaml_texts)
def test_yaml_configs(base: str, tune: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        b, t = Path(folder) / "b.yaml", Path(folder) / "t.yaml"
        b.write_text(base)
        t.write_text(tune)
        only_ours(load_yaml_mapping, str(b), "base config")
        only_ours(sweep_from_yaml, ["python", "t.py"], str(b), str(t))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=12)


@FUZZ
@given(st.dictionaries(st.text(max_size=6) | st.integers(), json_values, max_size=4),
       json_values)
def test_grid_module_contents(grid: dict[Any, Any], conditions: Any) -> None:
    only_ours(space_from_grid, grid, conditions)


@FUZZ
@given(texts | st.builds(json.dumps, json_values))
def test_metric_lines_never_raise(line: str) -> None:
    parser = MetricParser()
    parser.parse_report_line(line)
    parser.parse_stdout_line(line)
    parser.parse_stdout_line("[hpsweep] " + line)


@FUZZ
@given(texts, st.sampled_from(["perf.txt", "perf.json", "perf.yaml"]))
def test_summary_files_never_raise(text: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text)
        read_summary_file(path)
