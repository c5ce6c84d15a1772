"""Sweeps on a real local Slurm: 8 trials, a cancelled job, a killed and resumed controller."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpsweep.executors.slurm import slurm_executor
from hpsweep.store import Store
from hpsweep.testing.executors import PROGRAM as SUITE_PROGRAM
from hpsweep.testing.executors import collect, exits, make_spec, reports
from hpsweep.trial import TrialState
from tests.harness.slurm import SlurmCluster

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

PROGRAM = Path(SUITE_PROGRAM)
HPSWEEP = [sys.executable, "-m", "hpsweep.cli.main"]


def _jobs_under(cluster: SlurmCluster, folder: Path) -> list[tuple[str, str, str]]:
    """(job id, state, script) of every job Slurm knows whose script lies under ``folder``."""
    out = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i|%T|%o"], env=cluster.env,
                         capture_output=True, text=True, check=True).stdout
    rows = [tuple(line.split("|", 2)) for line in out.splitlines() if line.strip()]
    return [(r[0], r[1], r[2]) for r in rows if r[2].startswith(str(folder))]


def test_reattach_follows_the_jobs_of_a_dead_controller(slurm_cluster: SlurmCluster,
                                                       tmp_path: Path) -> None:
    first = slurm_executor(max_jobs=4, poll_interval=0.1, status_interval=0.5)
    specs = [make_spec(tmp_path, tid, "--epochs", "6", "--sleep", "0.4") for tid in (1, 2)]
    for spec in specs:
        first.launch(first.reserve() or pytest.fail("no slot"), spec)
    seen = collect(first, lambda ev: bool(reports(ev, 1)) and bool(reports(ev, 2)), 60)
    del first  # the controller dies here: no shutdown, its jobs keep running
    second = slurm_executor(max_jobs=4, poll_interval=0.1, status_interval=0.5)
    never_submitted = tmp_path / "trials" / "3"
    never_submitted.mkdir(parents=True)
    attached = second.reattach({1: specs[0].trial_dir, 2: specs[1].trial_dir,
                                3: str(never_submitted)})
    assert attached == {1, 2}
    assert second.running() == {1, 2}
    rest = collect(second, lambda ev: len(exits(ev)) == 2, 60)
    for tid in (1, 2):
        steps = [r.step for r in reports(seen, tid)] + [r.step for r in reports(rest, tid)]
        assert steps == [1, 2, 3, 4, 5, 6], f"trial {tid}: no report lost or repeated"
        assert exits(rest, tid)[0].exit_code == 0
    assert len(_jobs_under(slurm_cluster, tmp_path)) == 2, "nothing was submitted twice"


def _trials(study: Path) -> list:  # type: ignore[type-arg]
    if not (study / "study.db").exists():
        return []
    try:
        store = Store.open(study / "study.db", readonly=True)
    except Exception:  # being created right now
        return []
    try:
        return store.trials(with_reports=False)
    finally:
        store.close()


def _job_id(trial_dir: str) -> str | None:
    """The trial's Slurm job id, once it has one (job.json is written before the submission,
    with no id, and again after it)."""
    try:
        job_id = json.loads((Path(trial_dir) / "job.json").read_text())["job_id"]
    except (OSError, ValueError, KeyError):
        return None
    return None if job_id is None else str(job_id)


def _wait(what: str, check: object, proc: subprocess.Popen[str] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the controller ended before {what}: {proc.communicate()[0]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_sweep_of_eight_with_a_cancel_and_a_controller_killed(slurm_cluster: SlurmCluster,
                                                              tmp_path: Path) -> None:
    study = tmp_path / "study"
    lrs = "[" + ", ".join(str(0.1 * (i + 1)) for i in range(8)) + "]"
    argv = [*HPSWEEP, "run", "--plain", "--out", str(study), "--executor", "slurm",
            "--parallel", "4", "--executor-option", "mem=100M", "--metric", "loss", "--",
            sys.executable, str(PROGRAM), "--lr", lrs, "--epochs", "6", "--sleep", "0.5"]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        _wait("a running trial", lambda: any(_job_id(t.trial_dir) for t in _trials(study)
                                             if t.state is TrialState.RUNNING), proc, 60)
        victim, job_id = next((t, j) for t in _trials(study)  # each job id read once
                              if t.state is TrialState.RUNNING and (j := _job_id(t.trial_dir)))
        subprocess.run(["scancel", job_id], env=slurm_cluster.env, check=True)
        _wait("a finished trial and two running", lambda: (
            any(t.state is TrialState.COMPLETED for t in _trials(study))
            and sum(t.state is TrialState.RUNNING for t in _trials(study)) >= 2), proc, 90)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    running_at_kill = [t.trial_id for t in _trials(study) if t.state is TrialState.RUNNING]
    live = [j for j in _jobs_under(slurm_cluster, study) if j[1] in ("PENDING", "RUNNING")]
    assert live, "jobs outlive their controller"
    resumed = subprocess.run([*HPSWEEP, "resume", "--plain", str(study)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    trials = {t.trial_id: t for t in _trials(study)}
    assert len(trials) == 8, "a resumed controller runs no configuration twice"
    assert trials[victim.trial_id].state is TrialState.FAILED
    for tid in set(running_at_kill) - {victim.trial_id}:
        assert trials[tid].state is TrialState.COMPLETED, f"trial {tid} was followed to its end"
    assert sum(t.state is TrialState.COMPLETED for t in trials.values()) == 7
    jobs = _jobs_under(slurm_cluster, study)
    assert len(jobs) == 8, f"one Slurm job per trial, none submitted twice: {jobs}"


def test_a_job_submitted_just_before_the_controller_died_is_found_by_name(
        slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    first = slurm_executor(max_jobs=2, poll_interval=0.1, status_interval=0.5)
    spec = make_spec(tmp_path, 1, "--epochs", "2", "--sleep", "0.2")
    first.launch(first.reserve() or pytest.fail("no slot"), spec)
    record_path = Path(spec.trial_dir) / "job.json"
    record = json.loads(record_path.read_text())
    # as if the controller died after sbatch returned but before the id was saved
    record_path.write_text(json.dumps({**record, "job_id": None}))
    second = slurm_executor(max_jobs=2, poll_interval=0.1, status_interval=0.5)
    assert second.reattach({1: spec.trial_dir}) == {1}
    assert second.job_id(1) == record["job_id"]
    events = collect(second, lambda ev: bool(exits(ev, 1)), 60)
    assert [r.step for r in reports(events, 1)] == [1, 2]
