"""The manifest's JSON: one key a line, and exactly what ``json.dumps(..., default=str)`` gives."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hpsweep.tuner.launcher import _write_json


def test_every_kind_of_value_round_trips(tmp_path: Path) -> None:
    data = {
        "str": 'quote " backslash \\ newline \n tab \t é 日本', "empty": "", "int": -12,
        "big": 2**70, "true": True, "false": False, "none": None, "float": 0.1, "inf": math.inf,
        "list": [1, "a", None, [2.5]], "dict": {"lr": 1e-3, "k": "v"}, "path": Path("/x/y"),
        "ключ": 1,
    }
    target = tmp_path / "manifest.json"
    _write_json(target, data)
    text = target.read_text()
    assert len(text.splitlines()) == len(data) + 2  # one key a line, between the braces
    back = json.loads(text)
    expected = json.loads(json.dumps(data, default=str))
    assert back == expected and back["path"] == "/x/y" and back["inf"] == math.inf
    assert [type(v) for v in back.values()] == [type(v) for v in expected.values()]


def test_an_end_rewrites_only_what_a_run_changes(tmp_path: Path) -> None:
    start = {"trial_id": 3, "argv": ["python", "t.py"], "runs": [{"started": 1.0}],
             "finished": None, "state": "running"}
    target = tmp_path / "manifest.json"
    encoded = _write_json(target, start)
    end = {**start, "runs": [{"started": 1.0, "finished": 2.5}], "finished": 2.5,
           "state": "completed", "exit_code": 0, "metrics": {"loss": 0.25}}
    _write_json(target, end, encoded)
    assert json.loads(target.read_text()) == end
