"""Multi-fidelity sweeps from the command line, with real processes.

Every pausing scheduler at its defaults ends with every trial final, one at the full budget and
a reason for each stopped trial; a controller killed (SIGKILL) at three moments and resumed ends
with the same trials at the same rungs, with the same values, as an unkilled run of the same
seed. The trial script is deterministic, checkpoints every epoch, and decides the kill moments
itself: when it reaches a listed (trial, epoch), it first waits until the controller has stored
its previous report (so what the store holds at the kill is fixed), then kills the controller.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hpsweep.store import Store
from hpsweep.trial import TrialState
from tests.conftest import PY

SCRIPT = r'''
import argparse, json, os, pathlib, signal, sqlite3, sys, time
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float); p.add_argument("--epochs", type=int); p.add_argument("--every", type=int)
a = p.parse_args()
ck = pathlib.Path(os.environ["HPSWEEP_CHECKPOINT_DIR"]) / "state.json"
start = json.loads(ck.read_text())["epoch"] if ck.exists() else 0
tid = int(os.environ["HPSWEEP_TRIAL_ID"])
study = pathlib.Path(os.environ["HPSWEEP_STUDY_DIR"])
marks = pathlib.Path(os.environ.get("KILL_MARKS", "."))
kills = [k for k in os.environ.get("KILL_AT", "").split(",") if k]

def reported(e):
    return e % a.every == 0 or e == a.epochs

def wait_stored(step):
    db = "file:" + str(study / "study.db") + "?mode=ro"
    for _ in range(1200):
        with sqlite3.connect(db, uri=True) as conn:
            if conn.execute("SELECT COUNT(*) FROM reports WHERE trial_id=? AND step=?",
                            (tid, step)).fetchone()[0]:
                return
        time.sleep(0.05)
    sys.exit("the controller never stored step %d" % step)

for e in range(start + 1, a.epochs + 1):
    for k in kills:
        t, s = k.split(":")
        mark = marks / ("kill-" + k.replace(":", "-").replace("*", "any"))
        if int(s) == e and (t == "*" or int(t) == tid) and not mark.exists():
            mark.touch()
            earlier = [x for x in range(start + 1, e) if reported(x)]
            if earlier:
                wait_stored(earlier[-1])
            pid = json.loads((study / "controller.lock").read_text())["pid"]
            os.kill(pid, signal.SIGKILL)
            time.sleep(300)  # the reaper ends this process with its controller
    if reported(e):
        print("[hpsweep] " + json.dumps({"step": e, "loss": abs(a.lr - 0.3) + 1.0 / e}), flush=True)
    tmp = ck.with_suffix(".tmp")
    tmp.write_text(json.dumps({"epoch": e}))
    os.replace(tmp, ck)
'''

CASES = {  # scheduler: (min resource, kill moments as trial:epoch, "*" = the first trial there)
    "hyperband": (1, "1:1,*:5,*:9"),
    "bohb": (1, "1:1,*:5,*:9"),
    "promotion": (1, "1:1,*:5,*:9"),
    "hyperband-promotion": (1, "1:1,*:2,*:9"),
    "dyhpo": (3, "1:2,*:5,*:9"),
    "pbt": (3, "1:2,*:5,*:9"),
}
N, MAX = 5, 9


def _sweep(name: str, out: str, *, every: int, n: int = N, parallel: int = 1) -> list[str]:
    low, _ = CASES[name]
    args = ["run", "--out", out, "--scheduler", name, "--resource-arg", "epochs",
            "--min-resource", str(low), "--max-resource", str(MAX), "--strategy", "random",
            "--num-trials", str(n), "--seed", "11", "--parallel", str(parallel), "--metric", "loss",
            "--mode", "min", "--plain", "--", PY, "mf.py", "--lr", "uniform(0, 1)", "--every", str(every)]
    return args


def _cli(tmp: Path, *args: str, env: dict[str, str]) -> int:
    import subprocess

    from tests.conftest import cli_env

    done = subprocess.run([PY, "-m", "hpsweep", *args], cwd=tmp, env={**cli_env(), **env},
                          capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, -9, 137):  # killed by its own trial: that is the test
        raise AssertionError(f"hpsweep {' '.join(args)} exited {done.returncode}\n{done.stderr}")
    return done.returncode


def _end_state(db: Path) -> dict[int, tuple]:
    store = Store.open(db, readonly=True)
    out = {}
    for t in store.trials():
        values = {r.step: round(r.metrics["loss"], 12) for r in t.reports if r.step is not None}
        out[t.trial_id] = (t.state.value, t.resource, json.dumps(t.config, sort_keys=True),
                           tuple(sorted(values.items())))
    store.close()
    return out


def _copies(db: Path) -> set[tuple[int, int]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT trial_id, data FROM events WHERE kind='resume'").fetchall()
    return {(tid, json.loads(data)["checkpoint_from"]) for tid, data in rows
            if data and "checkpoint_from" in json.loads(data)}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_ends_right_and_resumes_exactly_after_three_kills(tmp_path: Path, name: str) -> None:
    (tmp_path / "mf.py").write_text(SCRIPT)
    args = _sweep(name, "plain", every=2)
    assert _cli(tmp_path, *args, env={}) == 0
    plain = _end_state(tmp_path / "plain" / "study.db")
    # the end of the study: every trial final, one at the full budget, reasons for the stopped
    assert len(plain) == N
    assert {s for s, *_ in plain.values()} <= {"completed", "stopped"}
    assert any(s == "completed" and dict(v).get(MAX) is not None for s, _, _, v in plain.values())
    store = Store.open(tmp_path / "plain" / "study.db", readonly=True)
    assert all(t.error for t in store.trials() if t.state is TrialState.STOPPED)
    spent = sum(max((r.step for r in t.reports), default=0) for t in store.trials())
    store.close()
    assert spent <= N * MAX and (name == "pbt" or spent < N * MAX)

    marks = tmp_path / "marks"
    marks.mkdir()
    kills = CASES[name][1]
    env = {"KILL_AT": kills, "KILL_MARKS": str(marks)}
    args = _sweep(name, "killed", every=2)
    code = _cli(tmp_path, *args, env=env)
    for _ in range(len(kills.split(","))):
        if code == 0:
            break
        code = _cli(tmp_path, "resume", "killed", "--plain", env=env)
    assert code == 0
    assert len(list(marks.iterdir())) == 3  # all three kills happened
    killed = _end_state(tmp_path / "killed" / "study.db")
    assert killed == plain
    assert _copies(tmp_path / "killed" / "study.db") == _copies(tmp_path / "plain" / "study.db")


@pytest.mark.slow
@pytest.mark.parametrize(("n", "every"), [(2, 1), (4, 2)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_pausing_scheduler_ends_a_small_study(tmp_path: Path, name: str, n: int, every: int) -> None:
    """Real processes on two slots. (N = 5 with reports every second epoch is the unkilled run
    above; N in {2, 4, 18, 26} with reports every epoch and every second epoch, in simulated
    time: test_end_state.py.)"""
    (tmp_path / "mf.py").write_text(SCRIPT)
    assert _cli(tmp_path, *_sweep(name, "s", every=every, n=n, parallel=2), env={}) == 0
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    trials = store.trials()
    store.close()
    assert len(trials) == n
    assert all(t.state in (TrialState.COMPLETED, TrialState.STOPPED) for t in trials)
    assert all(t.error for t in trials if t.state is TrialState.STOPPED)
    assert any(t.state is TrialState.COMPLETED and max(r.step for r in t.reports) == MAX for t in trials)
    spent = sum(max((r.step for r in t.reports), default=0) for t in trials)
    assert spent <= n * MAX


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["random", "tpe"])
def test_a_killed_search_resumes_to_the_same_configurations(tmp_path: Path, strategy: str) -> None:
    """A continuous random or TPE sweep on one slot, killed three times and resumed, tries the
    same configurations in the same trials as an unkilled one with the same seed: re-runs stay in
    place and the searchers' streams follow trial ids, not how often the controller started."""
    (tmp_path / "mf.py").write_text(SCRIPT)
    args = ["run", "--strategy", strategy, "--num-trials", "8", "--seed", "5", "--parallel", "1",
            "--metric", "loss", "--mode", "min", "--max-resource", "3", "--resource-arg", "epochs",
            "--plain", "--", PY, "mf.py", "--lr", "uniform(0, 1)", "--every", "1"]
    assert _cli(tmp_path, args[0], "--out", "plain", *args[1:], env={}) == 0
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {"KILL_AT": "1:2,4:1,6:3", "KILL_MARKS": str(marks)}
    code = _cli(tmp_path, args[0], "--out", "killed", *args[1:], env=env)
    for _ in range(3):
        if code == 0:
            break
        code = _cli(tmp_path, "resume", "killed", "--plain", env=env)
    assert code == 0 and len(list(marks.iterdir())) == 3
    assert _end_state(tmp_path / "killed" / "study.db") == _end_state(tmp_path / "plain" / "study.db")


def test_a_resource_key_the_reports_lack_stops_at_the_first_report(tmp_path, cli, write_script):
    write_script("train.py", """
        import json, sys
        for epoch in range(1, 28):
            print("[hpsweep] " + json.dumps({"epoch": epoch, "acc": epoch / 27}), flush=True)
    """)
    done = cli("run", "--out", "s", "--strategy", "random", "--num-trials", "18", "--scheduler",
               "hyperband", "--resource-attr", "epochs", "--min-resource", "1", "--max-resource", "27",
               "--reduction-factor", "3", "--metric", "acc", "--mode", "max", "--parallel", "2", "--plain",
               "--", PY, "train.py", "--lr", "loguniform(1e-5, 1e-1)")
    assert done.returncode == 2, done.stderr
    assert "carries acc, epoch and no step" in done.stderr and "--resource-attr epochs" in done.stderr
    assert "Traceback" not in done.stderr
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    assert len(store.trials()) <= 2  # stopped within the first report, not after the sweep
    store.close()


def test_options_a_scheduler_does_not_take_are_refused(tmp_path, cli, write_script):
    write_script("train.py", "print(1)\n")
    done = cli("run", "--out", "s", "--scheduler", "dyhpo", "--brackets", "2", "--max-resource", "9",
               "--strategy", "random", "--num-trials", "2", "--", PY, "train.py", "--lr", "uniform(0, 1)")
    assert done.returncode == 2 and "--scheduler dyhpo does not take --brackets" in done.stderr
    assert not (tmp_path / "s").exists() or not (tmp_path / "s" / "study.db").exists()


def test_a_pausing_scheduler_without_a_target_channel_warns(tmp_path, cli, write_script):
    write_script("train.py", """
        import json
        for e in range(1, 4):
            print("[hpsweep] " + json.dumps({"step": e, "loss": 1.0 / e}), flush=True)
    """)
    done = cli("run", "--out", "s", "--scheduler", "promotion", "--max-resource", "3", "--strategy",
               "random", "--num-trials", "2", "--seed", "1", "--plain", "--", PY, "train.py",
               "--lr", "uniform(0, 1)")
    assert done.returncode == 0, done.stderr
    assert "is not told its target" in done.stderr


def test_a_resume_that_retrains_from_scratch_is_said(tmp_path, cli, write_script):
    """A script that ignores its checkpoint starts each resumed run at epoch 1 again."""
    write_script("train.py", """
        import argparse, json
        p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--epochs", type=int)
        a = p.parse_args()
        for e in range(1, a.epochs + 1):
            print("[hpsweep] " + json.dumps({"step": e, "loss": abs(a.lr - 0.5) + 1.0 / e}), flush=True)
    """)
    done = cli("run", "--out", "s", "--scheduler", "hyperband", "--resource-arg", "epochs",
               "--max-resource", "3", "--strategy", "random", "--num-trials", "3", "--seed", "2",
               "--plain", "--", PY, "train.py", "--lr", "uniform(0, 1)")
    assert done.returncode == 0, done.stderr
    assert "did not restore its checkpoint" in done.stderr
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    warned = {e.trial_id for e in store.events("warning")}
    resumed = {t.trial_id for t in store.trials() if t.runs > 1}
    store.close()
    assert resumed and warned == resumed


def test_a_resource_budget_from_the_command_line(tmp_path, cli, write_script):
    """--resource-budget 20 with trials of 9 epochs on one slot: two trials complete (18), the
    third is stopped once the total reaches 20, and no fourth starts."""
    write_script("train.py", """
        import json, sys, time
        for e in range(1, 10):
            print("[hpsweep] " + json.dumps({"step": e, "loss": 1.0 / e}), flush=True)
    """)
    done = cli("run", "--out", "s", "--strategy", "random", "--num-trials", "10", "--seed", "1",
               "--resource-budget", "20", "--plain", "--", PY, "train.py", "--lr", "uniform(0, 1)")
    assert done.returncode == 0, done.stderr
    assert "resource budget spent" in done.stdout
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    trials = store.trials()
    store.close()
    assert [t.state for t in trials] == [TrialState.COMPLETED, TrialState.COMPLETED, TrialState.STOPPED]
    assert trials[2].error is not None and trials[2].error.startswith("resource budget spent")
