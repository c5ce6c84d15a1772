"""The controller killed with SIGKILL at every scripted point of a sweep, then resumed.

``HPSWEEP_TEST_KILL_AT`` (see ``hpsweep._faults``) picks the point: before the study exists,
after ``sweep.json``, at a launch, while trials run (a report was read), as a trial exits (seen,
not stored), after the last end was stored, and during a resume. After the last resume:

- no completed result is lost (each one stored before a kill is there, unchanged);
- no configuration completed twice, and every configuration completed;
- no trial process survives any kill;
- ``PRAGMA integrity_check`` is ok and ``results.csv`` lists exactly the completed trials;
- no command printed a traceback.

Trials are trivial seeded scripts (their loss is a function of their parameter), two at a time.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PY, cli_env

N = 4
BOUND = 60.0  # seconds: a failure bound only

TRIAL = """
import os, sys, hpsweep
x = float(sys.argv[sys.argv.index("--x") + 1])
with open(os.environ["CHAOS_PIDS"], "a") as fh:
    fh.write(f"{os.getpid()}\\n")
hpsweep.report(step=1, loss=(x - 0.3) ** 2 + 1.0)
hpsweep.report(step=2, loss=(x - 0.3) ** 2)
"""

SPACES = {  # options, then the script's arguments
    "grid": ([], ["--x", "[0.0, 0.25, 0.5, 1.0]"]),
    "random": (["--strategy", "random", "--num-trials", str(N)], ["--x", "uniform(0, 1)"]),
    "tpe": (["--strategy", "tpe", "--num-trials", str(N)], ["--x", "uniform(0, 1)"]),
}

# (strategy, kill point of the first run, kill point of the first resume)
CASES = [
    ("grid", "before-study", None),
    ("grid", "after-sweep", None),
    ("grid", "launch:1", None),
    ("grid", "report:3", None),  # while trials run
    ("grid", "exit:2", None),  # a trial's exit seen, not stored
    ("grid", "stored:4", None),  # after the last
    ("grid", "report:2", "launch:1"),  # and again during the resume
    # A resume first settles the runs the dead controller left (from their folders): its first
    # store write always happens, while whether anything is left to run depends on how far the
    # trials got before their trees were ended.
    ("random", "exit:3", "stored:1"),
    ("random", "stored:4", None),
    ("tpe", "report:3", None),
    ("tpe", "exit:2", "stored:1"),
]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def cli(tmp_path: Path, args: list[str], kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(), "CHAOS_PIDS": str(tmp_path / "pids")}
    env.pop("HPSWEEP_TEST_KILL_AT", None)
    if kill_at:
        env["HPSWEEP_TEST_KILL_AT"] = kill_at
    done = subprocess.run([PY, "-m", "hpsweep", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=BOUND)
    assert "Traceback" not in done.stderr, done.stderr
    if kill_at:
        assert done.returncode == -signal.SIGKILL, (kill_at, done.returncode, done.stderr)
    else:
        assert done.returncode == 0, done.stderr
    return done


def completed(db: Path) -> dict[int, tuple[str, float]]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT trial_id, config, last_metrics FROM trials "
                            "WHERE state='completed'").fetchall()
    finally:
        conn.close()
    import json

    return {tid: (cfg, json.loads(metrics)["loss"]) for tid, cfg, metrics in rows}


def assert_no_survivor(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    pids = [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []
    deadline = time.monotonic() + BOUND
    while any(alive(p) for p in pids):
        assert time.monotonic() < deadline, "a trial process survived its controller"
        time.sleep(0.02)


@pytest.mark.parametrize(("strategy", "first", "second"), CASES,
                         ids=[f"{s}-{a}-{b or 'done'}" for s, a, b in CASES])
def test_kill_then_resume_loses_nothing(tmp_path: Path, strategy: str, first: str,
                                        second: str | None) -> None:
    (tmp_path / "trial.py").write_text(TRIAL)
    study = tmp_path / "study"
    options, script_args = SPACES[strategy]
    run = ["run", "--out", str(study), "--metric", "loss", "--parallel", "2", "--seed", "7",
           "--plain", *options, "--", PY, "trial.py", *script_args]
    cli(tmp_path, run, first)
    assert_no_survivor(tmp_path)
    seen = completed(study / "study.db")
    if not (study / "sweep.json").exists():  # killed before the study existed: run it again
        cli(tmp_path, run, second)
    else:
        cli(tmp_path, ["resume", str(study), "--plain"], second)
    assert_no_survivor(tmp_path)
    seen.update(completed(study / "study.db"))
    if second:
        cli(tmp_path, ["resume", str(study), "--plain"], None)
        assert_no_survivor(tmp_path)
    final = completed(study / "study.db")
    assert all(final.get(tid) == value for tid, value in seen.items()), "a result was lost"
    configs = [cfg for cfg, _ in final.values()]
    assert len(configs) == len(set(configs)) == N, "a configuration completed twice or never"
    assert all(math.isfinite(loss) for _, loss in final.values())
    conn = sqlite3.connect(f"file:{study / 'study.db'}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    with (study / "results.csv").open() as fh:
        rows = [r for r in csv.DictReader(fh) if r["state"] == "completed"]
    assert sorted(int(r["trial_id"]) for r in rows) == sorted(final)
    assert not [p for p in os.listdir(study / "trials") if p.endswith(".tmp")]


MF_TRIAL = """
import argparse, json, os, pathlib, hpsweep
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); p.add_argument("--epochs", type=int)
a = p.parse_args()
with open(os.environ["CHAOS_PIDS"], "a") as fh:
    fh.write(f"{os.getpid()}\\n")
ck = pathlib.Path(os.environ["HPSWEEP_CHECKPOINT_DIR"]) / "state.json"
start = json.loads(ck.read_text())["epoch"] if ck.exists() else 0
for e in range(start + 1, a.epochs + 1):
    hpsweep.report(step=e, loss=(a.x - 0.3) ** 2 + 1.0 / e)
    tmp = ck.with_suffix(".tmp")  # a kill between truncate and write must not corrupt it
    tmp.write_text(json.dumps({"epoch": e}))
    os.replace(tmp, ck)
"""

# A pausing scheduler: killed at a launch, while running, as a run exits, after a store, and
# again during the resume.
MF_CASES = [("launch:4", None), ("report:5", "launch:1"), ("exit:3", "stored:1"), ("stored:5", None)]


@pytest.mark.parametrize(("first", "second"), MF_CASES, ids=[f"{a}-{b or 'done'}" for a, b in MF_CASES])
def test_a_killed_promotion_sweep_ends_right(tmp_path: Path, first: str, second: str | None) -> None:
    """Promotion ASHA over 6 configurations, 9 epochs: after kills and resumes every trial is
    final, one reached 9, every stopped trial has its reason, nothing completed is lost, nothing
    survives, and the store is intact."""
    (tmp_path / "trial.py").write_text(MF_TRIAL)
    study = tmp_path / "study"
    run = ["run", "--out", str(study), "--metric", "loss", "--parallel", "2", "--seed", "3",
           "--plain", "--strategy", "random", "--num-trials", "6", "--scheduler", "promotion",
           "--max-resource", "9", "--resource-arg", "epochs", "--", PY, "trial.py",
           "--x", "uniform(0, 1)"]
    cli(tmp_path, run, first)
    assert_no_survivor(tmp_path)
    seen = completed(study / "study.db")
    cli(tmp_path, ["resume", str(study), "--plain"], second)
    assert_no_survivor(tmp_path)
    if second:
        seen.update(completed(study / "study.db"))
        cli(tmp_path, ["resume", str(study), "--plain"], None)
        assert_no_survivor(tmp_path)
    final = completed(study / "study.db")
    assert all(final.get(tid) == value for tid, value in seen.items()), "a result was lost"
    conn = sqlite3.connect(f"file:{study / 'study.db'}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        states = conn.execute("SELECT trial_id, state, error FROM trials").fetchall()
        steps = conn.execute("SELECT MAX(step) FROM reports").fetchone()[0]
    finally:
        conn.close()
    assert len(states) == 6, "a re-run took a new trial id"
    assert {s for _, s, _ in states} <= {"completed", "stopped"}, states
    assert all(error for _, s, error in states if s == "stopped")
    assert steps == 9 and final
