"""``settle``: what a trial folder says about its last run, read from real files."""

from __future__ import annotations

import json
from pathlib import Path

from hpsweep.executors.metrics import MetricParser
from hpsweep.executors.recovery import settle


def test_every_report_and_the_exit_are_read_in_order(tmp_path: Path) -> None:
    (tmp_path / "reports.jsonl").write_text(
        json.dumps({"step": 1, "metrics": {"loss": 0.5}, "time": 10.0}) + "\n"
        + "{broken\n"
        + json.dumps({"step": 2, "metrics": {"loss": 0.25}, "time": 11.0}))  # no final newline
    (tmp_path / "stdout.log").write_text('epoch 1\n[hpsweep] {"step": 3, "loss": 0.125}\n')
    (tmp_path / "perf.json").write_text('{"acc": 0.9}')
    (tmp_path / "exit.json").write_text('{"exit_code": 0, "signal": null, "time": 12.5}')
    settled = settle(tmp_path, MetricParser(), "perf.json")
    assert settled.reports == [(1, {"loss": 0.5}, 10.0), (2, {"loss": 0.25}, 11.0),
                               (3, {"loss": 0.125}, 12.5), (None, {"acc": 0.9}, 12.5)]
    assert settled.exit_code == 0 and settled.finished == 12.5


def test_a_signal_is_a_negative_exit_code(tmp_path: Path) -> None:
    (tmp_path / "exit.json").write_text('{"exit_code": null, "signal": 9, "time": 3.0}')
    settled = settle(tmp_path, MetricParser(), None)
    assert settled.exit_code == -9 and settled.finished == 3.0 and settled.reports == []


def test_without_an_exit_record_the_process_did_not_end(tmp_path: Path) -> None:
    (tmp_path / "reports.jsonl").write_text(json.dumps({"step": 1, "loss": 2.0}) + "\n")
    (tmp_path / "perf.json").write_text('{"acc": 0.9}')  # not read: the run did not end
    settled = settle(tmp_path, MetricParser(), "perf.json")
    assert settled.exit_code is None and settled.finished is None
    assert [(s, m) for s, m, _ in settled.reports] == [(1, {"loss": 2.0})]


def test_a_torn_exit_record_counts_as_none(tmp_path: Path) -> None:
    (tmp_path / "exit.json").write_text('{"exit_code": 0, "sig')
    assert settle(tmp_path, MetricParser(), None).finished is None
    assert settle(tmp_path / "missing", MetricParser(), None).reports == []
