"""LSF: each trial run is one ``bsub`` job, followed with ``bjobs``, cancelled with ``bkill``.

The options mirror the ``bsub`` calls users already write (``-n``, ``-W``, ``-R "rusage[...]"``)::

    executor = lsf_executor(time="48:00", resources="rusage[mem=8000, ngpus_excl_p=1]")
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
    label = "LSF"

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
        super().__init__(cpus_per_trial=cpus_per_trial, extra_args=extra_args,
                         command_timeout=command_timeout)
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
        self.queue = queue

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
        done = self._run(self.bsub_argv(script, spec, job_name=job_name))
        match = _SUBMITTED.search(done.stdout)
        if done.returncode != 0 or match is None:
            said = (done.stderr or done.stdout).strip()
            raise SubmitError(f"bsub exited {done.returncode}: {said}")
        return match.group(1)

    def states(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        if not job_ids:
            return {}
        done = self._run(["bjobs", "-noheader", "-o", "jobid stat delimiter='|'", *job_ids])
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
        self._run(["bkill", job_id])

    def find(self, job_name: str) -> str | None:
        done = self._run(["bjobs", "-a", "-noheader", "-o", "jobid", "-J", job_name])
        ids = [w for w in done.stdout.split() if w.isdigit()]
        return ids[0] if ids else None


def lsf_executor(**options: Any) -> BatchExecutor:
    """A :class:`BatchExecutor` that submits to LSF (the ``--executor lsf`` options): those of
    :class:`LsfBackend`, and the executor's own (see :func:`~hpsweep.executors.batch.batch_executor`)."""
    return batch_executor(LsfBackend, **options)
