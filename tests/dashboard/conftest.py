"""Studies for the dashboard tests: one written through the store (exact, instant) and one made by
a real ``hpsweep run`` of a small script (shared by the API-vs-report and browser tests)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hpsweep.store import Store, StudyDir
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState
from tests.conftest import cli_env

PY = sys.executable

TOY = """
import argparse, math, time
import hpsweep

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--width", type=int)
p.add_argument("--epochs", type=int, default=4)
p.add_argument("--pause", type=float, default=0.02)
a = p.parse_args()
floor = 0.2 + 0.3 * abs(math.log10(a.lr) + 2) + 4.0 / a.width
for epoch in range(1, a.epochs + 1):
    time.sleep(a.pause)
    loss = floor + math.exp(-0.5 * epoch)
    print(f"epoch {epoch} loss {loss:.4f}", flush=True)
    hpsweep.report(step=epoch, loss=loss)
"""


def write_toy(folder: Path) -> Path:
    script = folder / "toy.py"
    script.write_text(textwrap.dedent(TOY))
    return script


def hpsweep_run(folder: Path, out: Path, *args: str, background: bool = False
                ) -> subprocess.Popen[str] | subprocess.CompletedProcess[str]:
    """``hpsweep run --out OUT ARGS`` in ``folder`` (args after ``--`` included by the caller)."""
    argv = [PY, "-m", "hpsweep", "run", "--out", str(out), "--metric", "loss", "--plain", *args]
    if background:
        return subprocess.Popen(argv, cwd=folder, env=cli_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    return subprocess.run(argv, cwd=folder, env=cli_env(), capture_output=True, text=True,
                          timeout=120, check=True)


@pytest.fixture(scope="session")
def real_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished ASHA sweep of 8 trials (stopped and completed trials). One slot: trials meet
    each rung in trial order, so which are stopped follows from the seed alone."""
    folder = tmp_path_factory.mktemp("real")
    write_toy(folder)
    out = folder / "study"
    hpsweep_run(folder, out, "--parallel", "1", "--strategy", "random", "--num-trials", "8",
                "--seed", "7", "--scheduler", "asha", "--resource-arg", "epochs",
                "--max-resource", "4", "--reduction-factor", "2", "--",
                PY, "toy.py", "--lr", "loguniform(1e-4, 1e-1)", "--width", "[16, 32, 64]")
    return out


def _trial(tid: int, config: dict[str, Any], *, seed: int) -> TrialRecord:
    return TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING, created=100.0 + tid,
                       seed=seed)


def make_study(root: Path) -> Path:
    """A study written through the store: completed, stopped, paused-and-resumed, failed and
    repeated (two seeds of one configuration) trials, with events, reports and logs."""
    study = StudyDir(root)
    root.mkdir(parents=True)
    study.write_sweep({"format": 1, "options": {"metrics": ["loss"], "modes": ["min"],
                                                "strategy": "random", "scheduler": "asha",
                                                "name": "synthetic"}})
    store = Store.create(study.db, name="synthetic", spec={})
    plan = [  # id, config, seed, worker, start, end, losses, final state
        (0, {"lr": 0.1, "opt": "sgd"}, 11, 0, 100.0, 104.0, [0.9, 0.6, 0.5, 0.4], "completed"),
        (1, {"lr": 0.01, "opt": "adam"}, 12, 1, 100.5, 102.0, [1.5], "stopped"),
        (2, {"lr": 0.1, "opt": "sgd"}, 13, 1, 102.5, 106.0, [0.8, 0.55, 0.45, 0.3], "completed"),
        (3, {"lr": 0.001, "opt": "adam"}, 14, 0, 104.5, 105.0, [], "failed"),
        (4, {"lr": 0.05, "opt": "adam"}, 15, 0, 105.5, 106.5, [0.7, 0.5], "paused"),
    ]
    for tid, config, seed, worker, start, end, losses, state in plan:
        trial = _trial(tid, config, seed=seed)
        trial.trial_dir = str(study.trial_dir(tid))
        store.add_trial(trial)
        trial.worker_id, trial.started, trial.runs = worker, start, 1
        store.update_trial(trial, event="start", time=start,
                           data={"decision": "start", "worker_id": worker, "gpu": None})
        for seq, loss in enumerate(losses):
            when = start + 0.2 * (seq + 1)
            store.add_report(Report(tid, seq + 1, {"loss": loss, "acc": 1 - loss}, when, seq))
            trial.last_metrics = {"loss": loss, "acc": 1 - loss}
        trial.state, trial.finished, trial.resource = TrialState(state), end, len(losses) or None
        if state == "failed":
            trial.error_kind, trial.error, trial.exit_code = ErrorKind.CRASH, "exit code 1", 1
        store.update_trial(trial, event="end", time=end, data={"state": state})
        folder = study.trial_dir(tid)
        folder.mkdir(parents=True)
        (folder / "stdout.log").write_text("".join(f"line {i}\n" for i in range(200)))
        (folder / "stderr.log").write_text("Traceback: boom\n" if state == "failed" else "")
    resumed = store.trial(4)
    resumed.state, resumed.worker_id, resumed.runs = TrialState.RUNNING, 1, 2
    store.update_trial(resumed, event="resume", time=107.0,
                       data={"decision": "resume", "worker_id": 1, "gpu": "0", "resource": 4})
    store.add_report(Report(4, 3, {"loss": 0.35, "acc": 0.65}, 107.5, 2))
    resumed.last_metrics = {"loss": 0.35, "acc": 0.65}
    resumed.state, resumed.finished = TrialState.COMPLETED, 108.0
    store.update_trial(resumed, event="end", time=108.0, data={"state": "completed"})
    store.close()
    return root


@pytest.fixture
def synthetic_study(tmp_path: Path) -> Path:
    return make_study(tmp_path / "synthetic")
