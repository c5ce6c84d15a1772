"""Reports on a study that is still running and on one whose controller was killed (kill -9),
and pruning trial folders."""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from tests.conftest import PY, cli_env
from tests.results.conftest import SEEDED, make_study

from hpsweep.cli.main import main
from hpsweep.store import Store
from hpsweep.trial import TrialState

# x < 3 ends at once; x >= 3 hangs until its controller's death takes it down.
HANGING = """
import argparse, time, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
a = p.parse_args()
if a.x >= 3:
    time.sleep(120)
hpsweep.report(step=1, loss=float((a.x - 1) ** 2))
"""


def _completed(db: Path) -> list[int]:
    if not db.exists():
        return []
    store = Store.open(db, readonly=True)
    try:
        return [t.trial_id for t in store.trials(with_reports=False)
                if t.state is TrialState.COMPLETED]
    finally:
        store.close()


@pytest.mark.slow
def test_running_then_killed_study_reports_every_completed_trial(tmp_path: Path,
                                                                 capsys) -> None:
    script = tmp_path / "hang.py"
    script.write_text(textwrap.dedent(HANGING))
    study = tmp_path / "study"
    controller = subprocess.Popen(
        [PY, "-m", "hpsweep", "run", "--out", str(study), "--parallel", "2", "--metric", "loss",
         "--plain", "--", PY, str(script), "--x", "range(0, 6)"],
        cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(_completed(study / "study.db")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # trials 3 and 4 are now hanging in both slots
        assert main(["report", str(study), "--format", "json"]) == 0
        live = json.loads(capsys.readouterr().out)
        assert live["live_controller"] is True
        assert sorted(r["trial_id"] for r in live["ranked"]) == [0, 1, 2]
    finally:
        controller.send_signal(signal.SIGKILL)
        controller.wait(timeout=10)
    assert main(["report", str(study), "--format", "json", "--all"]) == 0
    dead = json.loads(capsys.readouterr().out)
    assert dead["live_controller"] is False
    completed = [r for r in dead["ranked"] if r["state"] == "completed"]
    assert sorted(r["trial_id"] for r in completed) == sorted(_completed(study / "study.db"))
    assert [r["x"] for r in completed][:1] == [1]  # loss 0 is the best
    assert dead["counts"]["completed"] == 3


@pytest.fixture
def small_study(tmp_path: Path) -> Path:
    return make_study(tmp_path, SEEDED, ["--metric", "m", "--mode", "min", "--parallel", "2", "--seed", "1"],
                      ["--x", "[1, 2, 3, 4]"])


def test_keep_best_lists_and_deletes_only_with_yes(small_study: Path, capsys) -> None:
    folders = {i: small_study / "trials" / f"{i:04d}" for i in range(4)}
    assert main(["report", str(small_study), "--keep-best", "2"]) == 0
    out = capsys.readouterr().out
    assert "would delete 2 trial folders" in out
    assert all(p.is_dir() for p in folders.values())
    assert main(["report", str(small_study), "--keep-best", "2", "--yes"]) == 0
    # m = (x-2)^2 + const: x=2 (trial 1) and x in {1, 3} tie; ties go to the lower id.
    assert sorted(i for i, p in folders.items() if p.is_dir()) == [0, 1]
    assert "deleted 2 trial folders" in capsys.readouterr().out


def test_performance_criteria_prunes_failing_trials(small_study: Path, capsys) -> None:
    assert main(["report", str(small_study), "--performance-criteria", "m < 1.2", "--yes"]) == 0
    kept = sorted(p.name for p in (small_study / "trials").iterdir())
    assert kept == ["0000", "0001", "0002"]  # x=4 gives m >= 4
    assert main(["report", str(small_study), "--performance-criteria", "m ~ 1"]) == 2
    assert "cannot read 'm ~ 1'" in capsys.readouterr().err
