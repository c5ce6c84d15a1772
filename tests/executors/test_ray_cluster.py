"""Sweeps on a real two-node Ray cluster: live reports, ASHA stops, a lost node, unshared folders."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpsweep.store import Store
from hpsweep.testing.executors import PROGRAM as SUITE_PROGRAM
from hpsweep.testing.executors import collect, exited, make_spec, reports
from hpsweep.trial import TrialState
from tests.harness.ray_cluster import RayCluster

pytestmark = [pytest.mark.ray, pytest.mark.slow]

PROGRAM = Path(SUITE_PROGRAM)
HPSWEEP = [sys.executable, "-m", "hpsweep.cli.main"]


def _node_of(trial_dir: Path) -> str:
    try:
        lines = (trial_dir / "ray-node.txt").read_text().split()
    except FileNotFoundError:
        return ""
    return lines[-1] if lines else ""


def _on_node(study: Path, node_id: str, state: TrialState) -> list[int]:
    """Trials now in ``state`` whose last run was on node ``node_id``."""
    if not (study / "study.db").exists():
        return []
    try:
        store = Store.open(study / "study.db", readonly=True)
    except Exception:  # the controller may be creating it right now
        return []
    try:
        trials = store.trials(with_reports=False, states=[state])
    finally:
        store.close()
    return [t.trial_id for t in trials
            if t.trial_dir and _node_of(Path(t.trial_dir)).endswith(node_id)]


def _sweep_argv(out: Path, *extra: str) -> list[str]:
    return [*HPSWEEP, "run", "--plain", "--out", str(out), "--scheduler", "asha",
            "--max-resource", "9", "--resource-arg", "epochs", "--strategy", "random",
            "--num-trials", "20", "--seed", "3", "--metric", "loss", *extra, "--",
            sys.executable, str(PROGRAM), "--lr", "uniform(0.01, 1)", "--sleep", "0.4"]


def test_sweep_over_two_nodes_survives_a_lost_node(ray_cluster: RayCluster,
                                                    tmp_path: Path) -> None:
    study = tmp_path / "study"
    worker_id = ray_cluster.worker.node_id
    proc = subprocess.Popen(
        _sweep_argv(study, "--executor", "ray", "--executor-option",
                    f"ray_address={ray_cluster.address}"),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        # kill the worker node once ASHA stopped a trial there and others still run there
        while not (_on_node(study, worker_id, TrialState.STOPPED)
                   and len(_on_node(study, worker_id, TrialState.RUNNING)) >= 2):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the worker node never had a stop and two runs"
            time.sleep(0.1)
        ray_cluster.kill_worker()
        out, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
        ray_cluster.add_worker()
    assert proc.returncode == 0, out
    store = Store.open(study / "study.db", readonly=True)
    trials = {t.trial_id: t for t in store.trials()}
    requeued = {e.trial_id for e in store.events("interrupted") if e.data.get("rerun") == "in place"}
    store.close()
    nodes = {_node_of(Path(t.trial_dir)).rsplit(":", 1)[-1] for t in trials.values()}
    assert worker_id in nodes and len(nodes) >= 2, f"trials ran on {nodes}"
    # the runs of the lost node went back to their place: the same trials, run again to an end
    assert requeued, "no run was lost with the node"
    assert all(trials[tid].state.is_final and trials[tid].state is not TrialState.INTERRUPTED
               for tid in requeued)
    assert len(trials) == 20  # re-runs take no new trial ids
    stopped = [t for t in trials.values() if t.state is TrialState.STOPPED]
    assert stopped, "ASHA stopped no trial"
    assert any(_node_of(Path(t.trial_dir)).endswith(worker_id) for t in stopped), \
        "no ASHA stop took effect on the worker node"
    # reports arrived while the trials ran, not in one batch at their end
    live = [t for t in trials.values() if len(t.reports) >= 3 and t.finished]
    assert live
    for t in live:
        times = [r.time for r in t.reports]
        assert times == sorted(times)
        assert times[-1] - times[0] >= 0.4, f"trial {t.trial_id} reports came in one batch"
    longest = max(live, key=lambda t: len(t.reports))
    assert [r.step for r in longest.reports] == list(range(1, len(longest.reports) + 1))
    _same_form_as_local(study, tmp_path)


def _same_form_as_local(study: Path, tmp_path: Path) -> None:
    """The Ray study has the files and CSV columns a local sweep has."""
    local = tmp_path / "local"
    argv = _sweep_argv(local, "--parallel", "2")
    argv[argv.index("20")] = "3"
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    with (study / "results.csv").open() as a, (local / "results.csv").open() as b:
        assert next(csv.reader(a)) == next(csv.reader(b))
    ray_files = {p.name for p in next((study / "trials").iterdir()).iterdir()}
    local_files = {p.name for p in next((local / "trials").iterdir()).iterdir()}
    # exit.json: the local wrapper's exit record (a Ray task's end is kept by Ray)
    # and run.json, where its last run began in the trial's files (what a resume reads back)
    assert local_files <= ray_files | {"pids", "exit.json", "run.json"}, local_files - ray_files


def test_unshared_trial_folder_is_shipped_both_ways(ray_cluster: RayCluster,
                                                    tmp_path: Path) -> None:
    from hpsweep.executors.ray import RayExecutor

    executor = RayExecutor(address=ray_cluster.address, shared_dir=False, max_concurrent=1)
    try:
        spec = make_spec(tmp_path, 1, "--epochs", "2", "--sleep", "0.3")
        executor.launch(executor.reserve() or pytest.fail("no slot"), spec)
        events = collect(executor, exited(1), 60)
        assert [r.step for r in reports(events, 1)] == [1, 2]
        trial_dir = Path(spec.trial_dir)
        env = json.loads((trial_dir / "env.json").read_text())
        assert env["HPSWEEP_TRIAL_DIR"] != str(trial_dir), "the run used a staging folder"
        assert "done" in (trial_dir / "stdout.log").read_text()
        assert json.loads((trial_dir / "checkpoint" / "state.json").read_text()) == {"epoch": 2}
        resumed = make_spec(tmp_path, 1, "--epochs", "4", "--sleep", "0.1")
        executor.launch(executor.reserve() or pytest.fail("no slot"), resumed)
        events = collect(executor, exited(1), 60)
        assert [r.step for r in reports(events, 1)] == [3, 4], "the checkpoint travelled out"
        assert (trial_dir / "stdout.log").read_text().count("done") == 2
    finally:
        executor.shutdown(kill=True)
