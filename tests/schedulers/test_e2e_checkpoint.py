"""End to end with real processes: the bundled checkpointing script under promotion Hyperband
(paused trials resume from their checkpoint) and under ASHA (stopped trials leave no process)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hpsweep.store import Store
from hpsweep.trial import TrialState

ROOT = Path(__file__).resolve().parents[2]
HPSWEEP = Path(sys.executable).with_name("hpsweep")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HPSWEEP.exists(), reason="hpsweep command not installed")]


def _sweep(tmp_path: Path, scheduler: str, *extra: str, sleep: float = 0.0) -> Store:
    script = tmp_path / "mf_train.py"  # a private copy: its path marks this test's processes
    shutil.copy(ROOT / "examples" / "mf_train.py", script)
    argv = [str(HPSWEEP), "run", "--scheduler", scheduler, "--resource-arg", "epochs",
            "--min-resource", "1", "--max-resource", "9", "--metric", "val_loss", "--mode", "min",
            "--seed", "0", "--study", "e2e", "--out", str(tmp_path / "study"), *extra, "--",
            sys.executable, str(script), "--lr", "loguniform(1e-3, 0.05)",
            "--momentum", "uniform(0, 0.9)", "--sleep", str(sleep)]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return Store.open(tmp_path / "study" / "study.db", readonly=True)


def _processes_running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def test_promotion_resumes_from_the_checkpoint(tmp_path: Path) -> None:
    store = _sweep(tmp_path, "promotion", "--num-trials", "9", "--parallel", "2")
    trials = store.trials()
    resumed = [t for t in trials if t.runs > 1]
    assert resumed, "promotion Hyperband resumed no trial"
    assert any(t.state is TrialState.COMPLETED for t in trials)
    for t in trials:
        steps = [r.step for r in t.reports]
        assert steps == list(range(1, len(steps) + 1)), f"trial {t.trial_id} retrained: {steps}"
        starts = {}
        for r in t.reports:
            starts.setdefault(r.metrics["resumed_at"], r.step)
        # every run after the first began at the epoch after its checkpoint, not at 1
        assert all(first == at + 1 for at, first in starts.items())
        assert len(starts) == t.runs
        state = (Path(t.trial_dir) / "checkpoint" / "state.json").read_text()
        assert f'"epoch": {steps[-1]}' in state
    assert {t.resource for t in resumed} <= {3, 9}
    assert not _processes_running(str(tmp_path))


def test_stopped_trials_leave_no_process(tmp_path: Path) -> None:
    # One slot: trials reach each rung in trial order, so which are stopped follows from the
    # seeded configurations alone, whatever the machine's load.
    store = _sweep(tmp_path, "asha", "--num-trials", "6", "--parallel", "1", sleep=0.05)
    trials = store.trials()
    assert any(t.state is TrialState.STOPPED for t in trials)
    for t in trials:
        if t.state is TrialState.STOPPED:
            assert len(t.reports) < 9
    assert not _processes_running(str(tmp_path))
