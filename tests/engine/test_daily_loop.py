"""The researcher's daily loop through the real CLI on real scripts: repetitions ranked by their
mean everywhere, the mode inferred from the metric's name, studies that grow, mistakes caught
before (or right after) the first trial, and the smaller surprises."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest

from hpsweep.store import Store
from tests.conftest import PY, run_cli

# lr=0.1 has one lucky run (0.0876) but a mean of 0.12; lr=0.01 gives 0.1 every time. The grid
# runs lr=0.1 first, so with 3 repetitions in laps trials 0, 2, 4 are lr=0.1 (laps 0, 1, 2).
REPEATED = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
a = p.parse_args()
lap = int(os.environ["HPSWEEP_TRIAL_ID"]) // 2
print(f"loss={[0.0876, 0.13, 0.1424][lap] if a.lr == 0.1 else 0.1}")
"""

ACCURACY = """
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
a = p.parse_args()
print(f"val_acc={1.0 - abs(a.lr - 0.3)} throughput={a.lr}")
"""

REGEX_LOSS = ["--metric-regex", r"loss=(?P<loss>\S+)"]


def _rows(study: Path) -> list[dict[str, str]]:
    with (study / "results.csv").open() as fh:
        return list(csv.DictReader(fh))


def _write(folder: Path, name: str, source: str) -> None:
    (folder / name).write_text(textwrap.dedent(source))


def test_repetitions_rank_by_the_mean_in_report_status_csv_and_the_last_line(tmp_path: Path) -> None:
    _write(tmp_path, "train.py", REPEATED)
    done = run_cli("run", "--out", "s", "--repetitions", "3", *REGEX_LOSS, "--plain", "--",
                   PY, "train.py", "--lr", "[0.1, 0.01]", cwd=tmp_path, check=True)
    best_line = next(ln for ln in done.stdout.splitlines() if "best" in ln)
    assert "trials 1, 3, 5" in best_line and "loss=0.1 +- 0 (SD, n=3)" in best_line
    assert "lr=0.01" in best_line
    report = json.loads(run_cli("report", "s", "--format", "json", cwd=tmp_path, check=True).stdout)
    first, second = report["configurations"]
    assert first["lr"] == 0.01 and first["loss"] == pytest.approx(0.1) and first["n"] == 3
    assert second["lr"] == 0.1 and second["loss"] == pytest.approx(0.12)
    assert second["loss_sd"] == pytest.approx(0.0287360, abs=1e-6)
    assert second["loss_sem"] == pytest.approx(0.0287360 / 3 ** 0.5, abs=1e-6)
    assert [r["rank"] for r in report["ranked"]] == [1, 1, 1, 2, 2, 2]  # the runs, one level below
    table = run_cli("report", "s", cwd=tmp_path, check=True).stdout
    assert "configurations by the mean loss" in table
    runs = run_cli("report", "s", "--runs", "--top", "1", "--format", "json", cwd=tmp_path,
                   check=True).stdout
    assert json.loads(runs)["ranked"][0]["trial_id"] == 0  # the luckiest single run, if asked
    status = json.loads(run_cli("status", "s", "--json", cwd=tmp_path, check=True).stdout)
    assert status["best"]["config"] == {"lr": 0.01} and status["best"]["n"] == 3
    from hpsweep.results import best_trial, load_study_data

    assert best_trial(load_study_data(tmp_path / "s")).config == {"lr": 0.01}  # what seeds reruns
    rows = {r["trial_id"]: r for r in _rows(tmp_path / "s")}
    assert rows["0"]["loss_mean"] == "0.12" and rows["0"]["config_rank"] == "2"
    assert rows["1"]["config_rank"] == "1" and rows["1"]["config_n"] == "3"


def test_the_mode_is_inferred_said_and_refused_for_unknown_names(tmp_path: Path) -> None:
    _write(tmp_path, "train.py", ACCURACY)
    done = run_cli("run", "--out", "acc", "--metric", "val_acc", "--metric-regex",
                   r"val_acc=(?P<val_acc>\S+)", "--plain", "--", PY, "train.py", "--lr",
                   "[0.1, 0.3, 0.9]", cwd=tmp_path, check=True)
    assert "maximising val_acc" in done.stdout.splitlines()[0]
    assert "seed " in done.stdout.splitlines()[0]  # the seed, so that the run can be repeated
    assert "best trial 1: val_acc=1" in done.stdout
    refused = run_cli("run", "--out", "odd", "--metric", "throughput", "--plain", "--", PY,
                      "train.py", "--lr", "[0.1]", cwd=tmp_path)
    assert refused.returncode == 2 and "--mode min or --mode max" in refused.stderr
    assert not (tmp_path / "odd").exists()


def test_a_finished_study_grows_with_run_and_resume(tmp_path: Path) -> None:
    _write(tmp_path, "train.py", REPEATED.replace("lap = ", "lap = 0 and "))
    cmd = ["--strategy", "random", *REGEX_LOSS, "--seed", "3", "--plain", "--", PY, "train.py",
           "--lr", "uniform(0, 1)"]
    run_cli("run", "--out", "s", "--num-trials", "3", *cmd, cwd=tmp_path, check=True)
    first = [r["lr"] for r in _rows(tmp_path / "s")]
    grown = run_cli("run", "--out", "s", "--num-trials", "5", *cmd, cwd=tmp_path, check=True)
    assert "budget raised from 3 to 5" in grown.stdout
    assert [r["lr"] for r in _rows(tmp_path / "s")][:3] == first and len(_rows(tmp_path / "s")) == 5
    resumed = run_cli("resume", "s", "--num-trials", "7", "--plain", cwd=tmp_path, check=True)
    assert "budget raised from 5 to 7" in resumed.stdout
    assert len(_rows(tmp_path / "s")) == 7
    shrink = run_cli("resume", "s", "--num-trials", "4", cwd=tmp_path)
    assert shrink.returncode == 2 and "only grow" in shrink.stderr
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    events = [(e.data["was"], e.data["num_trials"], e.data["by"]) for e in store.events("budget")]
    store.close()
    assert events == [(3, 5, "run"), (5, 7, "resume")]
    assert json.loads((tmp_path / "s" / "sweep.json").read_text())["options"]["num_trials"] == 7


SILENT = """
import argparse
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
p.add_argument("--out_dir")
p.parse_args()
print("training done")
"""


def test_a_silent_metric_channel_stops_after_the_first_trial_and_says_where(tmp_path: Path) -> None:
    _write(tmp_path, "train.py", SILENT)
    done = run_cli("run", "--out", "s", "--summary-file", "performance_overview.txt",
                   "--out-dir-arg", "out_dir", "--plain", "--", PY, "train.py", "--x",
                   "range(0, 36)", cwd=tmp_path)
    assert done.returncode == 2
    assert f"read from {tmp_path / 's' / 'trials' / '<id>' / 'performance_overview.txt'}" in \
        done.stdout.splitlines()[0]  # where the summary is expected, said before the first trial
    assert len(_rows(tmp_path / "s")) == 1  # not 36 trials to no_metric
    trial_dir = tmp_path / "s" / "trials" / "0000"
    assert f"{trial_dir / 'performance_overview.txt'} (not written)" in done.stderr
    assert str(trial_dir / "reports.jsonl") in done.stderr and "'loss'" in done.stderr


def test_missing_cluster_tools_are_found_before_any_study_is_made(tmp_path: Path) -> None:
    _write(tmp_path, "train.py", SILENT)
    env_path = str(Path(PY).parent)  # the interpreter's folder only: no bsub or sbatch there
    import os
    import subprocess

    for executor, tool in (("lsf", "bsub"), ("slurm", "sbatch")):
        done = subprocess.run([PY, "-m", "hpsweep", "run", "--out", executor, "--executor",
                               executor, "--", PY, "train.py", "--x", "[1, 2]"], cwd=tmp_path,
                              env={**os.environ, "PATH": env_path}, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2 and f"needs {tool}" in done.stderr
        assert not (tmp_path / executor).exists()
    # a run rejected once the study was made (the scheduler is checked when the sweep loads)
    rejected = run_cli("run", "--out", "bogus", "--scheduler", "bogus", "--max-resource", "3", "--",
                       PY, "train.py", "--x", "[1, 2]", cwd=tmp_path)
    assert rejected.returncode == 2 and not (tmp_path / "bogus").exists()
    ls = run_cli("ls", ".", cwd=tmp_path)
    assert "lsf" not in ls.stdout and "slurm" not in ls.stdout and "bogus" not in ls.stdout


def test_grid_spellings_unknown_calls_and_the_study_name(tmp_path: Path) -> None:
    _write(tmp_path, "train.py", REPEATED.replace("lap = ", "lap = 0 and "))
    done = run_cli("run", "--out", "my-study", "--strategy", "random_search", "--num_trials", "2",
                   "--seed", "1", *REGEX_LOSS, "--plain", "--", PY, "train.py", "--lr",
                   "[0.1, 0.01, 0.5]", cwd=tmp_path, check=True)
    assert len(_rows(tmp_path / "my-study")) == 2
    assert "seed 1" in done.stdout
    store = Store.open(tmp_path / "my-study" / "study.db", readonly=True)
    assert store.name == "my-study"  # named after its folder, not <script>-<timestamp>
    store.close()
    bad = run_cli("run", "--strategy", "bogus", "--", PY, "train.py", cwd=tmp_path)
    assert bad.returncode == 2 and "none" in bad.stderr
    # `python3 -c "print(...)"`: an unknown call is passed through as written
    passed = run_cli("run", "--out", "c", *REGEX_LOSS, "--plain", "--", PY, "-c",
                     "print('loss=' + str(2))", cwd=tmp_path, check=True)
    assert _rows(tmp_path / "c")[0]["loss"] == "2"
    assert "not a known distribution" in passed.stderr


def test_steps_say_how_far_a_trial_trained(tmp_path: Path) -> None:
    """``resource`` is the target budget; ``steps`` the largest step the trial reported. The best
    configuration (x=0, never stopped: ASHA keeps the first trial of a rung) ends by itself after
    two of its nine epochs."""
    _write(tmp_path, "train.py", """
        import argparse, hpsweep
        p = argparse.ArgumentParser()
        p.add_argument("--x", type=int)
        p.add_argument("--epochs", type=int)
        a = p.parse_args()
        for epoch in range(1, (2 if a.x == 0 else a.epochs) + 1):
            hpsweep.report(step=epoch, loss=a.x + 1.0 / epoch)
    """)
    run_cli("run", "--out", "s", "--scheduler", "asha", "--resource-arg", "epochs",
            "--max-resource", "9", "--reduction-factor", "3", "--plain", "--", PY, "train.py",
            "--x", "[0, 5, 6]", cwd=tmp_path, check=True)
    rows = {r["trial_id"]: r for r in _rows(tmp_path / "s")}
    assert (rows["0"]["state"], rows["0"]["resource"], rows["0"]["steps"]) == ("completed", "9", "2")
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    for trial in store.trials():
        assert rows[str(trial.trial_id)]["steps"] == str(max(r.step for r in trial.reports))
    store.close()


def test_pyproject_license_is_an_spdx_string() -> None:
    """setuptools warns that `project.license` as a TOML table is deprecated (several times per
    install); an SPDX expression is the current form."""
    import tomllib

    from tests.conftest import REPO

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"


GRID_MODULE = """
grid = {"lr": [0.1, 0.01, 0.01], "use_bn": [False, True]}
conditions = []
_PERFORMANCE_KEY = "acc_test"
_PERFORMANCE_SORT_ASC = False
_SUMMARY_FILENAME = "performance_overview.txt"
_OUT_ARG = "out_dir"
_SCRIPT_NAME = "train.py"
"""

GRID_SCRIPT = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--use_bn", action="store_true")
p.add_argument("--out_dir")
a = p.parse_args()
acc = 90.0 if (a.lr == 0.01 and a.use_bn) else 80.0 - a.lr
with open(os.path.join(a.out_dir, "performance_overview.txt"), "w") as fh:
    fh.write(f"acc_test {acc}\\nfinished 1\\n")
"""


def test_a_hypnettorch_grid_module_needs_nothing_more(tmp_path: Path) -> None:
    """_PERFORMANCE_KEY, _PERFORMANCE_SORT_ASC, _SUMMARY_FILENAME, _OUT_ARG and _SCRIPT_NAME are the
    sweep's metric, mode, summary file, folder option and command; the repeated 0.01 is said."""
    sim = tmp_path / "sim"
    sim.mkdir()
    _write(sim, "my_hpsearch_config.py", GRID_MODULE)
    _write(sim, "train.py", GRID_SCRIPT)
    done = run_cli("run", "--grid-module", "sim/my_hpsearch_config.py", "--out", "s", "--plain",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "4 configurations" in done.stdout.splitlines()[0]
    assert "0.01 more than once" in done.stderr
    rows = _rows(tmp_path / "s")
    assert len(rows) == 4 and all(r["state"] == "completed" for r in rows)
    best = max(rows, key=lambda r: float(r["acc_test"]))
    assert "best trial" in done.stdout and f"acc_test={float(best['acc_test']):g}" in done.stdout
    assert (best["lr"], best["use_bn"]) == ("0.01", "True")
    options = json.loads((tmp_path / "s" / "sweep.json").read_text())["options"]
    assert (options["metrics"], options["modes"]) == (["acc_test"], ["max"])
    assert options["summary_file"] == "performance_overview.txt" and options["out_dir_arg"] == "out_dir"


def test_duration_counts_the_runs_not_the_time_paused(tmp_path: Path) -> None:
    """Promotion ASHA on one slot: trial 0 pauses at epoch 1 and is resumed only after trials 1 and
    2 ran, so it sat paused for at least two whole processes; ``duration_s`` is its runs' time."""
    _write(tmp_path, "train.py", """
        import argparse, hpsweep
        p = argparse.ArgumentParser()
        p.add_argument("--x", type=int)
        p.add_argument("--epochs", type=int)
        a = p.parse_args()
        for epoch in range(1, a.epochs + 1):
            hpsweep.report(step=epoch, loss=a.x + 1.0 / epoch)
    """)
    run_cli("run", "--out", "s", "--scheduler", "promotion", "--resource-arg", "epochs",
            "--max-resource", "3", "--reduction-factor", "3", "--parallel", "1", "--plain", "--",
            PY, "train.py", "--x", "[0, 5, 6]", cwd=tmp_path, check=True)
    rows = {r["trial_id"]: r for r in _rows(tmp_path / "s")}
    manifest = json.loads((tmp_path / "s" / "trials" / "0000" / "manifest.json").read_text())
    assert len(manifest["runs"]) == 2  # paused at 1 epoch, resumed to 3
    spans = [r["finished"] - r["started"] for r in manifest["runs"]]
    waited = manifest["runs"][1]["started"] - manifest["runs"][0]["finished"]
    assert float(rows["0"]["duration_s"]) == pytest.approx(sum(spans), abs=2e-3)
    wall = float(rows["0"]["finished"]) - float(rows["0"]["started"])
    assert float(rows["0"]["duration_s"]) < wall - waited / 2
    report = json.loads(run_cli("report", "s", "--all", "--format", "json", cwd=tmp_path,
                                check=True).stdout)
    assert next(r for r in report["ranked"] if r["trial_id"] == 0)["duration_s"] == \
        pytest.approx(sum(spans), abs=2e-3)


def test_seed_003s_repeated_value_is_said_with_the_count(tmp_path: Path) -> None:
    """Seed 003's tuning example lists 0.001 twice: 32 configurations, not tune.py's 48, and now
    a warning says which value was dropped."""
    (tmp_path / "base.yaml").write_text(textwrap.dedent("""
        hyperparameters: {worker_steps: 64, num_workers: 8}
        learning_rate_schedule: {initial: 0.003, final: 0.00001}
        beta_schedule: {initial: 0.01, final: 0.0001}
    """))
    (tmp_path / "tune.yaml").write_text(textwrap.dedent("""
        hyperparameters:
          worker_steps: [64, 128]
          num_workers: [8, 16]
        learning_rate_schedule:
          initial: [3.0e-3, 1.0e-4]
          final: [1.0e-5, 1.0e-6]
        beta_schedule:
          initial: [0.01, 0.001, 0.001]
          final: [0.0001]
    """))
    done = run_cli("generate", "--config", "base.yaml", "--tune", "tune.yaml", "--", PY, "train.py",
                   cwd=tmp_path, check=True)
    assert "'beta_schedule.initial' lists 0.001 more than once" in done.stderr
    assert "(2 values, not 3)" in done.stderr and "32 configurations" in done.stderr
