"""Kill the controller with SIGKILL at several points, resume, and check that nothing is lost,
nothing runs twice to completion, and no trial process survives its controller."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from hpsweep.store import Store
from hpsweep.trial import TrialState
from tests.conftest import PY, cli_env, run_cli
from tests.engine import scripts

N_CONFIGS = 8


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_dead(pgids: set[int], timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    alive = set(pgids)
    while alive and time.monotonic() < deadline:
        alive = {g for g in alive if _alive(g)}
        time.sleep(0.05)
    return alive


def _completed(db: Path) -> dict[int, float]:
    if not db.exists():
        return {}
    store = Store.open(db, readonly=True)
    try:
        return {t.trial_id: t.last_metrics["loss"] for t in store.trials(with_reports=False)
                if t.state is TrialState.COMPLETED}
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0, 3, 6])
def test_kill_9_then_resume(tmp_path, write_script, kill_after):
    write_script("slow.py", scripts.SLOW)
    pgid_file = tmp_path / "pgids.txt"
    study = tmp_path / "study"
    cmd = [PY, "-m", "hpsweep", "run", "--out", str(study), "--parallel", "2", "--metric", "loss",
           "--plain", "--", PY, "slow.py", "--x", f"range(0, {N_CONFIGS})", "--pgids", str(pgid_file)]
    controller = subprocess.Popen(cmd, cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # Kill while trials are running: after `kill_after` completions and with a trial started since.
    while time.monotonic() < deadline:
        done = _completed(study / "study.db")
        started = len(pgid_file.read_text().split()) if pgid_file.exists() else 0
        if len(done) >= kill_after and started > len(done):
            break
        time.sleep(0.05)
    before = _completed(study / "study.db")
    controller.send_signal(signal.SIGKILL)
    controller.wait(timeout=10)
    running_groups = {int(g) for g in pgid_file.read_text().split()}
    assert not _wait_dead(running_groups), "a trial process outlived its SIGKILLed controller"

    resumed = run_cli("resume", str(study), "--plain", cwd=tmp_path, timeout=120)
    assert resumed.returncode == 0, resumed.stderr

    store = Store.open(study / "study.db", readonly=True)
    trials = store.trials()
    completed = [t for t in trials if t.state is TrialState.COMPLETED]
    assert sorted(t.config["x"] for t in completed) == list(range(N_CONFIGS))  # each exactly once
    after = {t.trial_id: t.last_metrics["loss"] for t in completed}
    assert all(after.get(tid) == value for tid, value in before.items())  # nothing lost or redone
    assert all(t.state in (TrialState.COMPLETED, TrialState.INTERRUPTED) for t in trials)
    rows = (study / "results.csv").read_text().strip().splitlines()[1:]
    assert sum(",completed," in r for r in rows) == N_CONFIGS
    all_groups = {int(g) for g in pgid_file.read_text().split()}
    assert not _wait_dead(all_groups)
