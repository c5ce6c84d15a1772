"""Options of the scale-out executors: conversion, checks and messages (no cluster needed)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hpsweep.errors import UsageError
from hpsweep.executors import make_remote_executor
from hpsweep.executors.base import LaunchSpec
from hpsweep.executors.batch import BatchExecutor, JobState, render_job_script
from hpsweep.executors.lsf import LsfBackend, lsf_state
from hpsweep.executors.slurm import SlurmBackend, slurm_state


def _spec(tmp_path: Path, *argv: str, timeout: float | None = None) -> LaunchSpec:
    return LaunchSpec(trial_id=5, argv=argv, trial_dir=str(tmp_path / "t5"),
                      env={"HPSWEEP_TRIAL_ID": "5", "ODD": "it's $HOME `x`"},
                      cwd=str(tmp_path), timeout=timeout)


def test_job_script_passes_awkward_arguments_unchanged(tmp_path: Path) -> None:
    awkward = ["--name=a b", "it's", "$HOME", "`date`", "semi;colon", '"quoted"', ""]
    spec = _spec(tmp_path, "printf", "%s\\n", *awkward)
    (tmp_path / "t5").mkdir()
    script = tmp_path / "t5" / "job.sh"
    script.write_text(render_job_script(spec))
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert (tmp_path / "t5" / "stdout.log").read_text().split("\n")[:-1] == awkward
    assert (tmp_path / "t5" / "exit_code").read_text().strip() == "0"
    env = subprocess.run(["bash", "-c", f"source <(grep ^export {shlex.quote(str(script))}); "
                          "printf %s \"$ODD\""], capture_output=True, text=True, timeout=30)
    assert env.stdout == "it's $HOME `x`"


def test_job_script_reports_a_signal_death_as_negative(tmp_path: Path) -> None:
    (tmp_path / "t5").mkdir()
    script = tmp_path / "t5" / "job.sh"
    script.write_text(render_job_script(_spec(tmp_path, "bash", "-c", "kill -TERM $$")))
    subprocess.run(["bash", str(script)], capture_output=True, timeout=30)
    from hpsweep.executors.batch import _read_exit_code

    assert _read_exit_code(tmp_path / "t5" / "exit_code") == -15


def test_sbatch_gets_every_option_as_its_own_argument(tmp_path: Path) -> None:
    backend = SlurmBackend(partition="gpu", gres="gpu:1", mem="8G", time="2:00:00", qos="high",
                           constraint="a100", cpus_per_trial=4)
    argv = backend.sbatch_argv(tmp_path / "job.sh", _spec(tmp_path, "x"), job_name="hpsweep-5")
    for option in ("--partition=gpu", "--gres=gpu:1", "--mem=8G", "--time=2:00:00", "--qos=high",
                   "--constraint=a100", "--cpus-per-task=4", "--job-name=hpsweep-5"):
        assert option in argv
    assert argv[0] == "sbatch" and argv[-1] == str(tmp_path / "job.sh")


def test_sbatch_time_limit_follows_the_trial_timeout(tmp_path: Path) -> None:
    argv = SlurmBackend().sbatch_argv(tmp_path / "j.sh", _spec(tmp_path, "x", timeout=150),
                                      job_name="n")
    assert "--time=4" in argv  # 150 s -> 3 minutes, plus one of margin


def test_bsub_mirrors_the_familiar_call(tmp_path: Path) -> None:
    backend = LsfBackend(resources="rusage[mem=8000, ngpus_excl_p=1]", time="48:00")
    argv = backend.bsub_argv(tmp_path / "job.sh", _spec(tmp_path, "x"), job_name="hpsweep-5")
    assert argv[:3] == ["bsub", "-J", "hpsweep-5"]
    assert argv[argv.index("-W") + 1] == "48:00"
    assert argv[argv.index("-n") + 1] == "1"
    assert argv[argv.index("-R") + 1] == "rusage[mem=8000, ngpus_excl_p=1]"


@pytest.mark.parametrize(("make", "message"), [
    (lambda: SlurmBackend(mem="8 GB"), "--mem '8 GB'"),
    (lambda: SlurmBackend(time="two hours"), "--time 'two hours'"),
    (lambda: SlurmBackend(partition="a b"), "--partition 'a b'"),
    (lambda: SlurmBackend(cpus_per_trial=0), "--cpus-per-trial"),
    (lambda: LsfBackend(time="2h"), "--time '2h'"),
    (lambda: LsfBackend(resources=" "), "--lsf-resources"),
    (lambda: BatchExecutor(backend=SlurmBackend(), max_jobs=0), "--max-jobs"),
])
def test_bad_options_name_the_option_and_a_fix(make: object, message: str) -> None:
    with pytest.raises(UsageError, match=r"e\.g\.|must be") as info:
        make()  # type: ignore[operator]
    assert message in str(info.value)


@pytest.mark.parametrize(("name", "state"), [
    ("PENDING", JobState.PENDING), ("RUNNING", JobState.RUNNING), ("COMPLETING", JobState.RUNNING),
    ("COMPLETED", JobState.DONE), ("CANCELLED+", JobState.FAILED),
    ("CANCELLED by 0", JobState.FAILED), ("TIMEOUT", JobState.TIMEOUT),
    ("NODE_FAIL", JobState.LOST), ("BOOT_FAIL", JobState.LOST), ("WEIRD", JobState.UNKNOWN),
])
def test_slurm_states(name: str, state: JobState) -> None:
    assert slurm_state(name) is state


@pytest.mark.parametrize(("name", "state"), [
    ("PEND", JobState.PENDING), ("RUN", JobState.RUNNING), ("DONE", JobState.DONE),
    ("EXIT", JobState.FAILED), ("UNKWN", JobState.LOST), ("ZOMBI", JobState.LOST),
])
def test_lsf_states(name: str, state: JobState) -> None:
    assert lsf_state(name) is state


def test_factory_converts_string_options() -> None:
    executor = make_remote_executor("slurm", parallel=3, partition="debug", mem="1G",
                                    cpus_per_trial="2")
    assert isinstance(executor, BatchExecutor)
    assert executor.max_jobs == 3
    backend = executor.backend
    assert isinstance(backend, SlurmBackend)
    assert (backend.partition, backend.mem, backend.cpus_per_trial) == ("debug", "1G", 2)
    lsf = make_remote_executor("lsf", max_jobs="5", lsf_resources="rusage[mem=8000]")
    assert isinstance(lsf, BatchExecutor) and lsf.max_jobs == 5
    assert isinstance(lsf.backend, LsfBackend) and lsf.backend.resources == "rusage[mem=8000]"


@pytest.mark.parametrize(("name", "options", "message"), [
    ("slurm", {"partiton": "x"}, "no option 'partiton'; known options: constraint"),
    ("slurm", {"max_jobs": "many"}, "--max-jobs 'many' is not a whole number"),
    ("ray", {"cpus_per_trial": "half"}, "--cpus-per-trial 'half' is not a number"),
    ("ray", {"shared_dir": "maybe"}, "--shared-dir 'maybe': use true, false or auto"),
    ("ray", {"resources": "[1]"}, "must be a JSON object"),
    ("pbs", {}, "--executor 'pbs': use local, ray, slurm or lsf"),
])
def test_factory_rejects_bad_options(name: str, options: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        make_remote_executor(name, **options)
    assert message in str(info.value)


def test_ray_checks_resources_and_address_before_connecting() -> None:
    pytest.importorskip("ray")
    from hpsweep.executors.ray import RayExecutor

    with pytest.raises(UsageError, match="--cpus-per-trial"):
        RayExecutor(cpus_per_trial=0, gpus_per_trial=0)
    with pytest.raises(UsageError, match=r"--gpus-per-trial 1\.5"):
        RayExecutor(gpus_per_trial=1.5)
    # in a fresh process: this one may be connected to a test cluster already
    code = ("from hpsweep.executors.ray import RayExecutor\n"
            "RayExecutor(address='127.0.0.1:1')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "--ray-address '127.0.0.1:1': nothing answers there" in done.stderr
