"""End to end: `hpsweep run` on real scripts in real processes."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest

from hpsweep.store import Store
from hpsweep.trial import ErrorKind, TrialState
from tests.conftest import PY
from tests.engine import scripts


def _rows(study: Path) -> list[dict[str, str]]:
    with (study / "results.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_grid_of_12_on_3_slots(tmp_path, cli, write_script):
    write_script("train.py", scripts.QUADRATIC)
    done = cli("run", "--out", "study", "--parallel", "3", "--metric", "loss", "--plain", "--",
               PY, "train.py", "--x", "[0, 1, 2, 3]", "--y", "[-1, 0, 1]", check=True)
    rows = _rows(tmp_path / "study")
    assert len(rows) == 12
    assert {(r["x"], r["y"]) for r in rows} == {(str(x), str(y)) for x in range(4) for y in (-1, 0, 1)}
    assert all(r["state"] == "completed" for r in rows)
    best = min(rows, key=lambda r: float(r["loss"]))
    assert (best["x"], best["y"]) == ("2", "-1")
    assert float(best["loss"]) == pytest.approx(0.5)
    assert "best trial" in done.stdout
    store = Store.open(tmp_path / "study" / "study.db", readonly=True)
    trials = store.trials()
    assert {t.worker_id for t in trials} == {0, 1, 2}
    assert all(len(t.reports) == 2 and [r.step for r in t.reports] == [1, 2] for t in trials)


@pytest.mark.parametrize("channel,extra", [
    ("report", []), ("marker", []), ("tune", []),
    ("regex", ["--metric-regex", r"loss=(?P<loss>[0-9.]+)"]),
    ("kv", ["--summary-file", "summary.txt"]), ("json", ["--summary-file", "summary.json"]),
    ("yaml", ["--summary-file", "summary.yaml"]),
])
def test_each_metric_channel(tmp_path, cli, write_script, channel, extra):
    write_script("train.py", scripts.CHANNELS)
    cli("run", "--out", "s", "--metric", "loss", "--out-dir-arg", "out_dir", "--plain", *extra, "--",
        PY, "train.py", "--channel", channel, check=True)
    (row,) = _rows(tmp_path / "s")
    expected = {"report": 1.0, "marker": 2.0, "tune": 3.0, "regex": 4.0, "kv": 5.0, "json": 6.0,
                "yaml": 7.0}[channel]
    assert row["state"] == "completed"
    assert float(row["loss"]) == expected


def test_failures_are_recorded_and_the_sweep_completes(tmp_path, cli, write_script):
    write_script("train.py", scripts.BEHAVIOURS)
    done = cli("run", "--out", "s", "--parallel", "2", "--metric", "loss", "--timeout-per-trial", "2",
               "--plain", "--", PY, "train.py", "--kind", "['ok', 'crash', 'nan', 'silent', 'hang']")
    assert done.returncode == 0, done.stderr
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    by_kind = {t.config["kind"]: t for t in store.trials()}
    assert by_kind["ok"].state is TrialState.COMPLETED
    expected = {"crash": ErrorKind.CRASH, "nan": ErrorKind.NAN, "silent": ErrorKind.NO_METRIC,
                "hang": ErrorKind.TIMEOUT}
    for kind, error in expected.items():
        assert by_kind[kind].state is TrialState.FAILED, kind
        assert by_kind[kind].error_kind is error, kind
    assert "boom: something broke" in (by_kind["crash"].error or "")
    assert by_kind["crash"].exit_code == 3
    assert "timeout" in (by_kind["hang"].error or "")
    assert len(_rows(tmp_path / "s")) == 5


def test_max_failures_stops_the_sweep(tmp_path, cli, write_script):
    write_script("train.py", scripts.BEHAVIOURS)
    done = cli("run", "--out", "s", "--metric", "loss", "--max-failures", "1", "--plain", "--",
               PY, "train.py", "--kind", "['crash', 'nan', 'silent', 'ok']")
    assert done.returncode == 1
    assert "--max-failures" in done.stderr
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    assert len(store.trials()) == 2  # the sweep stopped after the second failure


def test_strategy_none_and_random(tmp_path, cli, write_script):
    write_script("echo_args.py", """
        import json, sys, hpsweep
        hpsweep.report(loss=1.0, args=json.dumps(sys.argv[1:]))
    """)
    cli("run", "--out", "n", "--strategy", "none", "--plain", "--", PY, "echo_args.py",
        "--alpha", "uniform(1e-5, 1e-1, 3)", "--beta", "[1, 2, 3, 4]", check=True)
    (row,) = _rows(tmp_path / "n")
    assert json.loads(row["args"]) == ["--alpha", "uniform(1e-5, 1e-1, 3)", "--beta", "[1, 2, 3, 4]"]
    cli("run", "--out", "r", "--strategy", "random", "--num-trials", "5", "--seed", "3", "--plain",
        "--", PY, "echo_args.py", "--alpha", "uniform(1e-5, 1e-1, 3)", "--beta", "[1, 2, 3, 4]",
        check=True)
    rows = _rows(tmp_path / "r")
    assert len(rows) == 5
    assert len({(r["alpha"], r["beta"]) for r in rows}) == 5  # sampled without replacement


def test_out_dir_arg_and_trial_files(tmp_path, cli, write_script):
    write_script("train.py", """
        import argparse, os, hpsweep
        p = argparse.ArgumentParser(); p.add_argument("--x"); p.add_argument("--out_dir")
        a = p.parse_args()
        assert a.out_dir == os.environ["HPSWEEP_TRIAL_DIR"]
        print("hello from", a.x)
        hpsweep.report(loss=float(a.x))
    """)
    cli("run", "--out", "s", "--out-dir-arg", "out_dir", "--plain", "--", PY, "train.py",
        "--x", "[1, 2]", check=True)
    for tid, x in ((0, 1), (1, 2)):
        folder = tmp_path / "s" / "trials" / f"{tid:04d}"
        assert (folder / "stdout.log").read_text().strip() == f"hello from {x}"
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["config"] == {"x": x}
        assert manifest["state"] == "completed"
        assert f"--out_dir={folder}" in manifest["argv"]


def test_run_again_on_a_study_continues_it(tmp_path, cli, write_script):
    write_script("train.py", scripts.QUADRATIC)
    args = ["run", "--out", "s", "--strategy", "random", "--num-trials", "3", "--seed", "5", "--plain",
            "--", PY, "train.py", "--x", "uniform(0, 4)"]
    cli(*args, check=True)
    first = _rows(tmp_path / "s")
    fewer = list(args)
    fewer[fewer.index("3")] = "2"  # a smaller budget is a different sweep (a larger one extends it)
    done = cli(*fewer)
    assert done.returncode == 2 and "different sweep" in done.stderr and "num_trials" in done.stderr
    cli(*args, check=True)  # the same sweep again: nothing left to run, nothing redone
    assert _rows(tmp_path / "s") == first


MF_SCRIPT = """
import argparse, json, os, pathlib, hpsweep
p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--epochs", type=int)
a = p.parse_args()
ck = pathlib.Path(os.environ["HPSWEEP_CHECKPOINT_DIR"]) / "state.json"
start = json.loads(ck.read_text())["epoch"] if ck.exists() else 0
for e in range(start + 1, a.epochs + 1):
    hpsweep.report(step=e, loss=abs(a.lr - 0.3) + 1.0 / e, first=start + 1)
    tmp = ck.with_suffix(".tmp")
    tmp.write_text(json.dumps({"epoch": e}))
    os.replace(tmp, ck)
"""


def test_keep_checkpoints_none_under_promotion(tmp_path, cli, write_script):
    write_script("mf.py", MF_SCRIPT)
    cli("run", "--out", "s", "--scheduler", "promotion", "--resource-arg", "epochs", "--min-resource", "1",
        "--max-resource", "9", "--strategy", "random", "--num-trials", "9", "--seed", "1", "--parallel", "2",
        "--keep-checkpoints", "none", "--plain", "--", PY, "mf.py", "--lr", "uniform(0, 1)", check=True)
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    trials = store.trials()
    states = {t.state for t in trials}
    assert states == {TrialState.COMPLETED, TrialState.STOPPED}  # the study ended: nothing paused
    assert all(t.error for t in trials if t.state is TrialState.STOPPED)  # each with its reason
    for t in trials:  # no trial can be resumed any more, so no checkpoint is kept
        assert not (tmp_path / "s" / "trials" / f"{t.trial_id:04d}" / "checkpoint" / "state.json").exists()
        runs = list(t.reports)
        # a resumed run continues from its checkpoint: its first epoch follows the last one reported
        for prev, nxt in itertools.pairwise(runs):
            assert nxt.step == prev.step + 1
        assert all(r.metrics["first"] <= r.step for r in runs)
