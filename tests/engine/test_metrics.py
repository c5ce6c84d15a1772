"""Metric channels parse what scripts print and write."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hpsweep.errors import UsageError
from hpsweep.executors.metrics import (
    FileTail,
    MetricParser,
    compile_metric_regex,
    read_summary_file,
)


def test_report_function_is_a_no_op_outside_a_sweep(tmp_path):
    code = "import hpsweep; hpsweep.report(step=1, loss=0.5); print('ok')"
    env = {k: v for k, v in os.environ.items() if k != "HPSWEEP_REPORT_FILE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=True)
    assert done.stdout.strip() == "ok" and list(tmp_path.iterdir()) == []


def test_report_function_writes_json_lines(tmp_path, monkeypatch):
    import numpy as np

    import hpsweep

    path = tmp_path / "r.jsonl"
    monkeypatch.setenv("HPSWEEP_REPORT_FILE", str(path))
    hpsweep.report(step=2, loss=np.float32(0.25), nan=float("nan"), name="x")
    (line,) = path.read_text().splitlines()
    data = json.loads(line)
    assert data["step"] == 2 and data["metrics"] == {"loss": 0.25, "nan": "nan", "name": "x"}
    parsed = MetricParser().parse_report_line(line)
    assert parsed is not None and parsed.step == 2 and parsed.metrics["loss"] == 0.25


@pytest.mark.parametrize("line,step,metrics", [
    ('[hpsweep] {"step": 3, "acc": 0.9}', 3, {"acc": 0.9}),
    ('  [hpsweep] {"acc": 1}', None, {"acc": 1}),
    ('[tune-metric]: {"epoch": 4, "loss": 0.1}', 4, {"epoch": 4, "loss": 0.1}),
    ("[hpsweep] not json", None, None),
    ("plain output", None, None),
])
def test_stdout_lines(line, step, metrics):
    parsed = MetricParser(resource_attr="epoch").parse_stdout_line(line)
    if metrics is None:
        assert parsed is None
    else:
        assert parsed is not None and parsed.step == step and parsed.metrics == metrics


def test_regex_channel():
    parser = MetricParser(regex=compile_metric_regex(r"epoch (?P<step>\d+) loss=(?P<loss>\S+)"))
    parsed = parser.parse_stdout_line("epoch 7 loss=0.125 lr=3")
    assert parsed is not None and parsed.step == 7 and parsed.metrics == {"loss": 0.125}
    with pytest.raises(UsageError, match="named group"):
        compile_metric_regex(r"loss=\S+")
    with pytest.raises(UsageError, match="not a valid regular expression"):
        compile_metric_regex(r"(?P<loss")


def test_summary_files(tmp_path):
    kv = tmp_path / "performance_overview.txt"
    kv.write_text("acc_task_given 98.5\nacc_all 1.0,2.5\nfinished 1\nnote hello world\n")
    assert read_summary_file(kv) == {"acc_task_given": 98.5, "acc_all": [1.0, 2.5], "finished": 1,
                                     "note": "hello world"}
    (tmp_path / "s.json").write_text('{"loss": 0.5}')
    (tmp_path / "s.yaml").write_text("loss: 0.25\n")
    assert read_summary_file(tmp_path / "s.json") == {"loss": 0.5}
    assert read_summary_file(tmp_path / "s.yaml") == {"loss": 0.25}
    assert read_summary_file(tmp_path / "missing.txt") == {}


def test_file_tail_keeps_partial_lines(tmp_path):
    path = tmp_path / "out.log"
    tail = FileTail(path)
    assert tail.read_lines() == []
    path.write_text("one\ntw")
    assert tail.read_lines() == ["one"]
    with path.open("a") as fh:
        fh.write("o\nthree")
    assert tail.read_lines() == ["two"]
    assert tail.read_lines(final=True) == ["three"]
    assert FileTail(path, skip_existing=True).read_lines() == []
    again = FileTail(path, offset=4)  # a persisted offset: reading goes on from there
    assert again.read_lines(final=True) == ["two", "three"]
