"""Bad input: a clear message naming the problem and the fix, exit code 2, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.conftest import PY, cli_env


@pytest.mark.parametrize("args,message", [
    (["run", "--plain"], "missing command"),
    (["run", "--plain", "--", "./nope.sh"], "not found"),
    (["run", "--plain", "--", PY, "missing_script.py", "--x", "[1, 2]"], "not found"),
    (["run", "--plain", "--", "no-such-program-xyz"], "not found on PATH"),
    (["run", "--plain", "--", PY, "ok.py", "--x", "[1, 2"], "x"),
    (["run", "--plain", "--", PY, "ok.py", "--x", "loguniform(0, 1)"], "log"),
    (["run", "--plain", "--strategy", "grid", "--", PY, "ok.py", "--x", "uniform(0, 1)"], "continuous"),
    (["run", "--plain", "--mode", "sideways", "--", PY, "ok.py"], "invalid choice"),
    (["run", "--plain", "--scheduler", "asha", "--", PY, "ok.py", "--x", "[1, 2]"], "--max-resource"),
    (["resume", "no_such_study"], "does not exist"),
    (["status", "."], "not an hpsweep study folder"),
])
def test_bad_input_exits_2(tmp_path, cli, write_script, args, message):
    write_script("ok.py", "import hpsweep\nhpsweep.report(loss=1.0)\n")
    done = cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_script_not_executable(tmp_path, cli, write_script):
    path = write_script("run.sh", "#!/bin/sh\necho hi\n")
    path.chmod(0o644)
    done = cli("run", "--plain", "--", "./run.sh")
    assert done.returncode == 2
    assert "not executable" in done.stderr


def test_unknown_metric(tmp_path, cli, write_script):
    write_script("ok.py", "import hpsweep\nhpsweep.report(step=1, val_loss=1.0, acc=0.5)\n")
    done = cli("run", "--out", "s", "--plain", "--metric", "accuracy", "--", PY, "ok.py",
               "--x", "[1, 2, 3]")
    assert done.returncode == 2
    assert "unknown metric 'accuracy'" in done.stderr
    assert "acc, val_loss" in done.stderr


def test_study_held_by_a_live_controller(tmp_path, cli, write_script):
    write_script("sleepy.py", "import time, hpsweep\ntime.sleep(30)\nhpsweep.report(loss=1.0)\n")
    first = subprocess.Popen([PY, "-m", "hpsweep", "run", "--out", "s", "--plain", "--", PY, "sleepy.py"],
                             cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "s" / "study.db").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        for args in (["resume", "s"], ["run", "--out", "s", "--plain", "--", PY, "sleepy.py"]):
            done = cli(*args)
            assert done.returncode == 2, done.stderr
            assert "held by another live controller" in done.stderr
            assert f"'pid': {first.pid}" in done.stderr or f'"pid": {first.pid}' in done.stderr
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    # The lock of the killed controller is stale now: resume takes it over.
    time.sleep(0.5)
    done = cli("status", "s")
    assert "not running" in done.stdout
