"""LSF: each trial run is one ``bsub`` job, followed with ``bjobs``, cancelled with ``bkill``.

The options mirror the ``bsub`` calls users already write (``-n``, ``-W``, ``-R "rusage[...]"``)::

    executor = lsf_executor(time="48:00", resources="rusage[mem=8000, ngpus_excl_p=1]")
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hpsweep.errors import UsageError
from hpsweep.executors.base import LaunchSpec
from hpsweep.executors.batch import BatchBackend, BatchExecutor, JobState, SubmitError
from hpsweep.executors.metrics import MetricParser

__all__ = ["LsfBackend", "lsf_executor", "lsf_state"]

_TIME = re.compile(r"^(\d+:)?\d+$")
_SUBMITTED = re.compile(r"Job <(\d+)>")
_STATES = {
    "PEND": JobState.PENDING, "PSUSP": JobState.PENDING, "WAIT": JobState.PENDING,
    "RUN": JobState.RUNNING, "USUSP": JobState.RUNNING, "SSUSP": JobState.RUNNING,
    "PROV": JobState.RUNNING,
    "DONE": JobState.DONE, "EXIT": JobState.FAILED,
    "UNKWN": JobState.LOST, "ZOMBI": JobState.LOST,
}


def lsf_state(name: str) -> JobState:
    """Map an LSF job status (``bjobs`` STAT) to a :class:`JobState`."""
    return _STATES.get(name.strip().upper(), JobState.UNKNOWN)


class LsfBackend(BatchBackend):
    """``bsub``/``bjobs``/``bkill`` with the sweep's resource options."""

    name = "lsf"

    def __init__(
        self,
        *,
        resources: str | None = None,
        time: str | None = None,
        cpus_per_trial: int = 1,
        queue: str | None = None,
        extra_args: Sequence[str] = (),
        command_timeout: float = 60.0,
    ) -> None:
        if cpus_per_trial < 1:
            raise UsageError(f"--cpus-per-trial must be >= 1 for LSF, got {cpus_per_trial}.")
        if time is not None and not _TIME.match(time):
            raise UsageError(f"--time {time!r} is not an LSF run limit; use [hours:]minutes, "
                             "e.g. --time 48:00.")
        if resources is not None and not resources.strip():
            raise UsageError(
                "--lsf-resources is empty; use e.g. --lsf-resources 'rusage[mem=8000]'."
            )
        if queue is not None and (not queue or any(c.isspace() for c in queue)):
            raise UsageError(f"queue {queue!r} must be one word without spaces.")
        self.resources = resources
        self.time = time
        self.cpus_per_trial = cpus_per_trial
        self.queue = queue
        self.extra_args = tuple(extra_args)
        self.command_timeout = command_timeout

    def bsub_argv(self, script: Path, spec: LaunchSpec, *, job_name: str) -> list[str]:
        out = str(Path(spec.trial_dir) / "batch.out")
        argv = ["bsub", "-J", job_name, "-o", out, "-e", out, "-n", str(self.cpus_per_trial)]
        limit = self.time
        if limit is None and spec.timeout is not None:
            minutes = math.ceil(spec.timeout / 60.0) + 1
            limit = f"{minutes // 60}:{minutes % 60:02d}"
        if limit is not None:
            argv += ["-W", limit]
        if self.resources is not None:
            argv += ["-R", self.resources]
        if self.queue is not None:
            argv += ["-q", self.queue]
        if spec.cwd:
            argv += ["-cwd", spec.cwd]
        argv += [*self.extra_args, str(script)]
        return argv

    def submit(self, script: Path, spec: LaunchSpec, *, job_name: str) -> str:
        argv = self.bsub_argv(script, spec, job_name=job_name)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=self.command_timeout)
        match = _SUBMITTED.search(done.stdout)
        if done.returncode != 0 or match is None:
            said = (done.stderr or done.stdout).strip()
            raise SubmitError(f"bsub exited {done.returncode}: {said}")
        return match.group(1)

    def states(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        if not job_ids:
            return {}
        argv = ["bjobs", "-noheader", "-o", "jobid stat delimiter='|'", *job_ids]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=self.command_timeout)
        # bjobs exits non-zero when some job is not found, and still lists the others
        out: dict[str, JobState] = {}
        for line in done.stdout.splitlines():
            job_id, sep, stat = line.partition("|")
            if sep and job_id.strip().isdigit():
                out[job_id.strip()] = lsf_state(stat)
        if done.returncode != 0 and not out and "not found" not in done.stderr:
            raise OSError(f"bjobs exited {done.returncode}: {done.stderr.strip()}")
        return out

    def cancel(self, job_id: str) -> None:
        subprocess.run(["bkill", job_id], capture_output=True, timeout=self.command_timeout)

    def find(self, job_name: str) -> str | None:
        argv = ["bjobs", "-a", "-noheader", "-o", "jobid", "-J", job_name]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=self.command_timeout)
        ids = [w for w in done.stdout.split() if w.isdigit()]
        return ids[0] if ids else None


def lsf_executor(
    *,
    resources: str | None = None,
    time: str | None = None,
    cpus_per_trial: int = 1,
    queue: str | None = None,
    max_jobs: int = 8,
    extra_args: Sequence[str] = (),
    parser: MetricParser | None = None,
    summary_file: str | None = None,
    poll_interval: float = 0.2,
    status_interval: float = 1.0,
) -> BatchExecutor:
    """A :class:`BatchExecutor` that submits to LSF (the ``--executor lsf`` options)."""
    backend = LsfBackend(resources=resources, time=time, cpus_per_trial=cpus_per_trial,
                         queue=queue, extra_args=extra_args)
    return BatchExecutor(
        backend=backend, max_jobs=max_jobs, parser=parser, summary_file=summary_file,
        poll_interval=poll_interval, status_interval=status_interval,
    )
