"""Ctrl-C: the first lets running trials finish, the second stops them; nothing survives."""

from __future__ import annotations

import signal
import subprocess
import time

from hpsweep.store import Store
from hpsweep.trial import TrialState
from tests.conftest import PY, cli_env

SCRIPT = """
import argparse, time, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--x", type=int); p.add_argument("--sleep", type=float); p.add_argument("--tag")
a = p.parse_args()
time.sleep(a.sleep)
hpsweep.report(loss=float(a.x))
"""


def _start(tmp_path, sleep: float) -> subprocess.Popen[str]:
    (tmp_path / "s.py").write_text(SCRIPT)
    return subprocess.Popen(
        [PY, "-m", "hpsweep", "run", "--out", "st", "--parallel", "2", "--plain", "--", PY, "s.py",
         "--x", "range(0, 6)", "--sleep", str(sleep), "--tag", f"tag-{tmp_path.name}"],
        cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_running(tmp_path, n: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        db = tmp_path / "st" / "study.db"
        if db.exists():
            store = Store.open(db, readonly=True)
            running = [t for t in store.trials(with_reports=False) if t.state is TrialState.RUNNING]
            store.close()
            if len(running) >= n:
                return
        time.sleep(0.05)
    raise AssertionError("trials did not start")


def test_first_ctrl_c_lets_running_trials_finish(tmp_path):
    proc = _start(tmp_path, 1.5)
    _wait_running(tmp_path, 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    store = Store.open(tmp_path / "st" / "study.db", readonly=True)
    trials = store.trials()
    assert len(trials) == 2 and all(t.state is TrialState.COMPLETED for t in trials)


def test_second_ctrl_c_stops_running_trials(tmp_path):
    proc = _start(tmp_path, 30)
    _wait_running(tmp_path, 2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    store = Store.open(tmp_path / "st" / "study.db", readonly=True)
    trials = store.trials()
    assert len(trials) == 2 and all(t.state is TrialState.INTERRUPTED for t in trials)
    time.sleep(0.5)
    done = subprocess.run(["pgrep", "-f", f"tag-{tmp_path.name}"], capture_output=True, text=True)
    assert done.stdout.strip() == ""  # no trial process left
