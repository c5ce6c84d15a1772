"""Slurm: each trial run is one ``sbatch`` job, followed with ``squeue``, ended with ``scancel``.

The job script is the one every batch executor writes (see :mod:`hpsweep.executors.batch`); the
resource options go on the ``sbatch`` command line as separate arguments, never into a shell
string. Example::

    executor = slurm_executor(partition="gpu", gres="gpu:1", mem="8G", time="2:00:00", max_jobs=20)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.executors.base import LaunchSpec
from hpsweep.executors.batch import BatchBackend, BatchExecutor, JobState, SubmitError, batch_executor

__all__ = ["SlurmBackend", "slurm_executor", "slurm_state"]

_TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")
_MEM = re.compile(r"^\d+[KMGT]?$", re.IGNORECASE)
_STATES = {
    JobState.PENDING: ("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
                       "RESV_DEL_HOLD", "SPECIAL_EXIT"),
    JobState.RUNNING: ("RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "STOPPED", "SUSPENDED",
                       "RESIZING"),
    JobState.DONE: ("COMPLETED",),
    JobState.FAILED: ("CANCELLED", "FAILED", "OUT_OF_MEMORY", "PREEMPTED", "DEADLINE", "REVOKED"),
    JobState.TIMEOUT: ("TIMEOUT",),
    JobState.LOST: ("NODE_FAIL", "BOOT_FAIL"),
}
_BY_NAME = {name: state for state, names in _STATES.items() for name in names}


def slurm_state(name: str) -> JobState:
    """Map a Slurm job state name (``squeue %T``) to a :class:`JobState`."""
    base = name.strip().split()[0].rstrip("+").upper() if name.strip() else ""
    return _BY_NAME.get(base, JobState.UNKNOWN)


def _check(option: str, value: str | None, pattern: re.Pattern[str], example: str) -> str | None:
    if value is None:
        return None
    if not pattern.match(value):
        raise UsageError(
            f"{option} {value!r} is not understood by Slurm; use e.g. {option} {example}."
        )
    return value


def _check_word(option: str, value: str | None) -> str | None:
    if value is not None and (not value or any(c.isspace() for c in value)):
        raise UsageError(f"{option} {value!r} must be one word without spaces, e.g. {option} gpu.")
    return value


class SlurmBackend(BatchBackend):
    """``sbatch``/``squeue``/``scancel`` with the sweep's resource options."""

    name = "slurm"
    label = "Slurm"

    def __init__(
        self,
        *,
        partition: str | None = None,
        gres: str | None = None,
        mem: str | None = None,
        time: str | None = None,
        qos: str | None = None,
        constraint: str | None = None,
        cpus_per_trial: int = 1,
        extra_args: Sequence[str] = (),
        command_timeout: float = 60.0,
    ) -> None:
        super().__init__(cpus_per_trial=cpus_per_trial, extra_args=extra_args,
                         command_timeout=command_timeout)
        self.partition = _check_word("--partition", partition)
        self.gres = _check_word("--gres", gres)
        self.mem = _check("--mem", mem, _MEM, "8G")
        self.time = _check("--time", time, _TIME, "2:00:00")
        self.qos = _check_word("--qos", qos)
        self.constraint = _check_word("--constraint", constraint)

    def sbatch_argv(self, script: Path, spec: LaunchSpec, *, job_name: str) -> list[str]:
        trial_dir = Path(spec.trial_dir)
        argv = [
            "sbatch", "--parsable", f"--job-name={job_name}", "--no-requeue",
            f"--output={trial_dir / 'batch.out'}", f"--error={trial_dir / 'batch.out'}",
            f"--cpus-per-task={self.cpus_per_trial}",
        ]
        if spec.cwd:
            argv.append(f"--chdir={spec.cwd}")
        options = {"--partition": self.partition, "--gres": self.gres, "--mem": self.mem,
                   "--qos": self.qos, "--constraint": self.constraint}
        argv += [f"{opt}={val}" for opt, val in options.items() if val is not None]
        limit = self.time
        if limit is None and spec.timeout is not None:
            # a margin over the run's own timeout, which the executor enforces first
            limit = str(math.ceil(spec.timeout / 60.0) + 1)
        if limit is not None:
            argv.append(f"--time={limit}")
        argv += [*self.extra_args, str(script)]
        return argv

    def submit(self, script: Path, spec: LaunchSpec, *, job_name: str) -> str:
        done = self._run(self.sbatch_argv(script, spec, job_name=job_name))
        if done.returncode != 0:
            raise SubmitError(f"sbatch exited {done.returncode}: {done.stderr.strip()}")
        job_id = done.stdout.strip().split(";")[0]
        if not job_id.isdigit():
            raise SubmitError(f"sbatch printed no job id: {done.stdout!r}")
        return job_id

    def states(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        if not job_ids:
            return {}
        found = self._squeue(job_ids)
        if found is None:  # some id unknown to squeue: ask one by one
            found = {}
            for job_id in job_ids:
                found.update(self._squeue([job_id]) or {})
        return found

    def _squeue(self, job_ids: Sequence[str]) -> dict[str, JobState] | None:
        done = self._run(["squeue", "-h", "--states=all", "-o", "%i|%T", "-j", ",".join(job_ids)])
        if done.returncode != 0:
            if "Invalid job id" in done.stderr:
                return None
            raise OSError(f"squeue exited {done.returncode}: {done.stderr.strip()}")
        out: dict[str, JobState] = {}
        for line in done.stdout.splitlines():
            job_id, _, state = line.partition("|")
            if job_id.strip():
                out[job_id.strip()] = slurm_state(state)
        return out

    def cancel(self, job_id: str) -> None:
        self._run(["scancel", job_id])

    def find(self, job_name: str) -> str | None:
        done = self._run(["squeue", "-h", "--states=all", "-o", "%i", "-n", job_name])
        ids = done.stdout.split()
        return ids[0] if done.returncode == 0 and ids else None


def slurm_executor(**options: Any) -> BatchExecutor:
    """A :class:`BatchExecutor` that submits to Slurm (the ``--executor slurm`` options): those of
    :class:`SlurmBackend`, and the executor's own (see :func:`~hpsweep.executors.batch.batch_executor`)."""
    return batch_executor(SlurmBackend, **options)
