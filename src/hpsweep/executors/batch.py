"""Batch-scheduler executor: one cluster job per trial run (Slurm and LSF are small backends).

Each run becomes a generated bash script in its trial folder (``job.sh``) that exports the trial's
environment, starts the argv (quoted with :func:`shlex.quote`) in its own session, forwards a
cancel signal to that session and writes the exit status to ``<trial_dir>/exit_code``. The trial
folder must be on a file system the compute nodes share with the controller: reports are read from
``reports.jsonl`` and ``stdout.log`` there, exactly as the local executor reads them.

What a resumed controller needs is kept in the trial folder as well: ``job.json`` (job id, backend,
timeout) and ``.hpsweep-read.json`` (how far the report files were read), so :meth:`reattach`
follows jobs still queued or running instead of submitting them again.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import shlex
import subprocess
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.executors._shared import PooledExecutor, new_tails
from hpsweep.executors.base import (
    ExecutorEvent,
    ExitEvent,
    LaunchSpec,
    ReportEvent,
    Slot,
)
from hpsweep.executors.metrics import FileTail, MetricParser, read_summary_file
from hpsweep.trial import ErrorKind

__all__ = [
    "BatchBackend",
    "BatchExecutor",
    "JobState",
    "SubmitError",
    "batch_executor",
    "render_job_script",
]

JOB_FILE = "job.json"
EXIT_FILE = "exit_code"
STARTED_FILE = "job.started"
SCRIPT_FILE = "job.sh"
OFFSETS_FILE = ".hpsweep-read.json"


class JobState(str, enum.Enum):
    """A batch job's state as the scheduler reports it, reduced to what the executor needs."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"  # ended; its exit code is in the exit file (or the scheduler's record)
    FAILED = "failed"  # ended without running the script to its end (cancelled, killed, ...)
    TIMEOUT = "timeout"  # the scheduler's own time limit
    LOST = "lost"  # its node failed
    UNKNOWN = "unknown"  # the scheduler no longer knows the job


class SubmitError(RuntimeError):
    """The scheduler refused a job (the message holds its output)."""


class BatchBackend(ABC):
    """The scheduler-specific part: submit a script, ask job states, cancel.

    The base holds what every backend takes: CPUs per trial, extra submission arguments and the
    time limit of one scheduler command.
    """

    name: str = "batch"
    label: str = "the batch system"

    def __init__(self, *, cpus_per_trial: int = 1, extra_args: Sequence[str] = (),
                 command_timeout: float = 60.0) -> None:
        if cpus_per_trial < 1:
            raise UsageError(f"--cpus-per-trial must be >= 1 for {self.label}, got {cpus_per_trial}.")
        self.cpus_per_trial = cpus_per_trial
        self.extra_args = tuple(extra_args)
        self.command_timeout = command_timeout

    def _run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """One scheduler command, its output captured, within ``command_timeout``."""
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=self.command_timeout)

    @abstractmethod
    def submit(self, script: Path, spec: LaunchSpec, *, job_name: str) -> str:
        """Submit ``script`` for ``spec``; return the job id (raise :class:`SubmitError`)."""

    @abstractmethod
    def states(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """States of the given jobs; a job the scheduler does not know is left out."""

    @abstractmethod
    def cancel(self, job_id: str) -> None:
        """Cancel a queued or running job (no error when it has ended already)."""

    @abstractmethod
    def find(self, job_name: str) -> str | None:
        """The id of the job called ``job_name`` (names are unique per run), or None."""


def render_job_script(spec: LaunchSpec, *, extra_env: Mapping[str, str] | None = None) -> str:
    """The bash script that runs one trial run inside a batch job.

    >>> spec = LaunchSpec(trial_id=1, argv=("python", "train.py", "--name=a b"), trial_dir="/t/1")
    >>> "'--name=a b'" in render_job_script(spec)
    True
    """
    trial_dir = Path(spec.trial_dir)
    q = shlex.quote
    env = {**(extra_env or {}), **spec.env}
    lines = ["#!/bin/bash", f"# hpsweep trial {spec.trial_id}",
             f"cd -- {q(spec.cwd or os.getcwd())}"]
    lines += [f"export {name}={q(value)}" for name, value in sorted(env.items()) if _env_name(name)]
    lines += [
        f"date +%s > {q(str(trial_dir / STARTED_FILE))}",
        f"setsid {shlex.join(spec.argv)} </dev/null >> {q(str(trial_dir / 'stdout.log'))} "
        f"2>> {q(str(trial_dir / 'stderr.log'))} &",
        "child=$!",
        'trap \'kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null\' TERM INT',
        'wait "$child"; code=$?',
        # ``wait`` returns early when a trapped signal arrives: wait again for the real status.
        'while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done',
        f"echo \"$code\" > {q(str(trial_dir / (EXIT_FILE + '.tmp')))}",
        f"mv -f {q(str(trial_dir / (EXIT_FILE + '.tmp')))} {q(str(trial_dir / EXIT_FILE))}",
        'exit "$code"',
    ]
    return "\n".join(lines) + "\n"


def _env_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and name.replace("_", "a").isalnum()


@dataclass
class _Job:
    trial_id: int
    job_id: str
    trial_dir: Path
    slot: Slot
    timeout: float | None
    reports: FileTail
    stdout: FileTail
    stop_requested: bool = False
    timed_out: bool = False
    started_at: float | None = None  # controller clock, when the job was first seen running
    gone_since: float | None = None  # when the scheduler first said it ended without an exit file
    state: JobState = JobState.PENDING


class BatchExecutor(PooledExecutor):
    """Runs each trial run as one batch job of ``backend``; at most ``max_jobs`` at a time.

    ``poll_interval``: seconds between reads of the trial folders; ``status_interval``: seconds
    between scheduler queries; ``exit_grace``: how long a job the scheduler reports as ended may
    take to show its exit file on the shared file system before it counts as crashed or lost.
    """

    def __init__(
        self,
        *,
        backend: BatchBackend,
        max_jobs: int = 8,
        parser: MetricParser | None = None,
        summary_file: str | None = None,
        poll_interval: float = 0.2,
        status_interval: float = 1.0,
        exit_grace: float = 5.0,
    ) -> None:
        if max_jobs < 1:
            raise UsageError(f"--max-jobs must be >= 1, got {max_jobs}; pass e.g. --max-jobs 8.")
        self.backend = backend
        self.max_jobs = max_jobs
        self.poll_interval = poll_interval
        self.status_interval = status_interval
        self.exit_grace = exit_grace
        self._jobs: dict[int, _Job] = {}
        super().__init__(self._jobs, parser=parser, summary_file=summary_file)
        self._last_status = -1e9

    # -- slots -----------------------------------------------------------------------------------
    def slot_capacity(self) -> int:
        return self.max_jobs

    def job_id(self, trial_id: int) -> str | None:
        job = self._jobs.get(trial_id)
        return job.job_id if job else None

    # -- launching -------------------------------------------------------------------------------
    def launch(self, slot: Slot, spec: LaunchSpec) -> None:
        trial_dir = self._take(slot, spec)
        for name in (EXIT_FILE, STARTED_FILE, JOB_FILE, OFFSETS_FILE):
            with contextlib.suppress(FileNotFoundError):
                (trial_dir / name).unlink()
        script = trial_dir / SCRIPT_FILE
        script.write_text(render_job_script(spec))
        script.chmod(0o755)
        reports, stdout = new_tails(spec, trial_dir)
        job = _Job(
            trial_id=spec.trial_id, job_id="", trial_dir=trial_dir, slot=slot,
            timeout=spec.timeout, reports=reports, stdout=stdout,
        )
        # The record is written before submitting, with a unique job name: a controller killed
        # between the submission and the job id being saved is found again by that name.
        job_name = f"hpsweep-{spec.trial_id}-{uuid.uuid4().hex[:8]}"
        record = {"job_id": None, "job_name": job_name, "backend": self.backend.name,
                  "timeout": spec.timeout, "report_file": str(reports.path),
                  "submitted": time.time()}
        self._save_offsets(job)
        _write_json(trial_dir / JOB_FILE, record)
        try:
            job.job_id = self.backend.submit(script, spec, job_name=job_name)
        except (SubmitError, OSError) as exc:
            (trial_dir / JOB_FILE).unlink()
            self._pending.append(
                ExitEvent(spec.trial_id, None, self.clock.now(), ErrorKind.LAUNCH,
                          f"{self.backend.name} did not accept the job: {exc}")
            )
            return
        _write_json(trial_dir / JOB_FILE, {**record, "job_id": job.job_id})
        self._jobs[spec.trial_id] = job

    def reattach(self, trials: Mapping[int, str]) -> set[int]:
        """Follow again the jobs a previous controller submitted for ``{trial_id: trial_dir}``.

        Returns the ids now followed: every trial whose job the scheduler still knows (queued,
        running or ended) or whose job left its exit file; their remaining reports and their
        exit arrive through :meth:`poll`. The other trials have no job to follow (never
        submitted, or forgotten by the scheduler); the caller treats them as interrupted.
        """
        found: dict[str, _Job] = {}
        for trial_id, folder in trials.items():
            job = self._job_from_folder(trial_id, Path(folder).resolve())
            if job is not None:
                found[job.job_id] = job
        states = self.backend.states(list(found)) if found else {}
        attached: set[int] = set()
        for job_id, job in found.items():
            state = states.get(job_id, JobState.UNKNOWN)
            if state is JobState.UNKNOWN and not (job.trial_dir / EXIT_FILE).exists():
                continue
            slot = self._slots.reserve(self.max_jobs + len(found))
            assert slot is not None  # room for every job found, whatever max_jobs is now
            self._slots.launched(slot)
            job.slot = slot
            job.state = state
            self._jobs[job.trial_id] = job
            attached.add(job.trial_id)
        return attached

    def _job_from_folder(self, trial_id: int, trial_dir: Path) -> _Job | None:
        try:
            record = json.loads((trial_dir / JOB_FILE).read_text())
            offsets = json.loads((trial_dir / OFFSETS_FILE).read_text())
        except (OSError, ValueError):
            return None
        if record.get("backend") != self.backend.name:
            return None
        job_id = record.get("job_id")
        if job_id is None:  # killed while submitting: did the job get through?
            try:
                job_id = self.backend.find(str(record.get("job_name")))
            except (OSError, SubmitError):
                job_id = None
            if job_id is None:
                return None
        return _Job(
            trial_id=trial_id, job_id=str(job_id), trial_dir=trial_dir,
            slot=Slot(worker_id=-1), timeout=record.get("timeout"),
            reports=FileTail(Path(record["report_file"]), int(offsets.get("reports", 0))),
            stdout=FileTail(trial_dir / "stdout.log", int(offsets.get("stdout", 0))),
        )

    # -- watching --------------------------------------------------------------------------------
    def poll(self, timeout: float) -> list[ExecutorEvent]:
        deadline = self.clock.now() + max(0.0, timeout)
        while True:
            events, self._pending = self._pending, []
            events.extend(self._sweep())
            now = self.clock.now()
            if events or now >= deadline:
                return events
            time.sleep(min(self.poll_interval, deadline - now))

    def _sweep(self) -> list[ExecutorEvent]:
        now = self.clock.now()
        if self._jobs and now - self._last_status >= self.status_interval:
            self._last_status = now
            self._refresh_states(now)
        events: list[ExecutorEvent] = []
        for job in list(self._jobs.values()):
            events.extend(self._read(job, final=False))
            if job.started_at is None and (job.trial_dir / STARTED_FILE).exists():
                job.started_at = now
            self._enforce_timeout(job, now)
            finished = self._finished(job, now)
            if finished is not None:
                events.extend(self._read(job, final=True))
                events.extend(self._finish(job, finished))
        return events

    def _refresh_states(self, now: float) -> None:
        try:
            states = self.backend.states([j.job_id for j in self._jobs.values()])
        except (OSError, SubmitError):
            return  # scheduler briefly unreachable: keep the last known states
        for job in self._jobs.values():
            job.state = states.get(job.job_id, JobState.UNKNOWN)
            if job.state == JobState.RUNNING and job.started_at is None:
                job.started_at = now

    def _state_now(self, job: _Job) -> JobState:
        try:
            return self.backend.states([job.job_id]).get(job.job_id, JobState.UNKNOWN)
        except (OSError, SubmitError):
            return job.state

    def _enforce_timeout(self, job: _Job, now: float) -> None:
        if job.timeout is None or job.timed_out or job.started_at is None:
            return
        if now - job.started_at >= job.timeout:
            job.timed_out = True
            with contextlib.suppress(OSError, SubmitError):
                self.backend.cancel(job.job_id)

    def _finished(self, job: _Job, now: float) -> tuple[int | None, ErrorKind | None, str] | None:
        name = self.backend.name
        code = _read_exit_code(job.trial_dir / EXIT_FILE)
        if code is not None:
            if not job.stop_requested and code != 0 and self._state_now(job) == JobState.LOST:
                return code, ErrorKind.LOST, f"{name} job {job.job_id}: its node failed"
            return code, None, ""
        if job.state in (JobState.PENDING, JobState.RUNNING):
            job.gone_since = None
            return None
        if job.gone_since is None:
            job.gone_since = now
        if job.state == JobState.LOST:
            return None, ErrorKind.LOST, f"{self.backend.name} job {job.job_id}: its node failed"
        if (job.stop_requested or job.timed_out) and job.state != JobState.UNKNOWN:
            return None, None, ""
        if now - job.gone_since < self.exit_grace:
            return None
        if job.state == JobState.UNKNOWN and not job.stop_requested:
            return None, ErrorKind.LOST, (
                f"{self.backend.name} job {job.job_id} vanished without an exit status"
            )
        if job.state == JobState.TIMEOUT:
            return None, ErrorKind.TIMEOUT, f"{name} job {job.job_id} hit its time limit"
        if job.stop_requested:
            return None, None, ""
        return None, ErrorKind.CRASH, (
            f"{name} job {job.job_id} ended ({job.state.value}) before its script finished; "
            f"see {job.trial_dir / 'batch.out'}"
        )

    def _read(self, job: _Job, *, final: bool) -> list[ExecutorEvent]:
        now = self.clock.now()
        out: list[ExecutorEvent] = [ReportEvent(job.trial_id, p.step, p.metrics, now)
                                    for p in self.parser.read(job.reports, job.stdout, final=final)]
        if out:
            self._save_offsets(job)
        return out

    def _finish(
        self, job: _Job, finished: tuple[int | None, ErrorKind | None, str]
    ) -> list[ExecutorEvent]:
        code, kind, message = finished
        del self._jobs[job.trial_id]
        self._save_offsets(job)
        events: list[ExecutorEvent] = []
        now = self.clock.now()
        if self.summary_file and not job.stop_requested and not job.timed_out:
            summary = read_summary_file(job.trial_dir / self.summary_file)
            if summary:
                events.append(ReportEvent(job.trial_id, None, summary, now))
                if summary.get("finished") == 0 and kind is None:
                    kind, message = ErrorKind.NO_METRIC, f"{self.summary_file} says finished 0"
        if job.timed_out:
            kind = ErrorKind.TIMEOUT
            message = f"ran past its timeout of {job.timeout:g} s and was cancelled"
        events.append(ExitEvent(job.trial_id, code, now, kind, message, stopped=job.stop_requested))
        return events

    def _save_offsets(self, job: _Job) -> None:
        with contextlib.suppress(OSError):
            _write_json(job.trial_dir / OFFSETS_FILE,
                        {"reports": job.reports.offset, "stdout": job.stdout.offset})

    # -- stopping --------------------------------------------------------------------------------
    def stop(self, trial_id: int) -> None:
        job = self._jobs.get(trial_id)
        if job is None or job.stop_requested:
            return
        job.stop_requested = True
        with contextlib.suppress(OSError, SubmitError):
            self.backend.cancel(job.job_id)

    def shutdown(self, *, kill: bool) -> None:
        """With ``kill``, cancel every job and wait for their exits; otherwise leave them running
        (a later controller can :meth:`reattach` to them)."""
        if not kill:
            return
        for trial_id in list(self._jobs):
            self.stop(trial_id)
        deadline = self.clock.now() + self.exit_grace + 10.0
        while self._jobs and self.clock.now() < deadline:
            self.poll(self.poll_interval)


_EXECUTOR_KEYS = ("max_jobs", "parser", "summary_file", "poll_interval", "status_interval")


def batch_executor(backend: type[BatchBackend], **options: Any) -> BatchExecutor:
    """A :class:`BatchExecutor` over a new ``backend``: the executor's own options (``max_jobs``,
    ``parser``, ``summary_file``, ``poll_interval``, ``status_interval``) go to the executor, the
    rest to the backend."""
    mine = {k: options.pop(k) for k in _EXECUTOR_KEYS if k in options}
    return BatchExecutor(backend=backend(**options), **mine)


def _read_exit_code(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    try:
        code = int(text)
    except ValueError:
        return None
    # bash reports a death by signal N as 128 + N; report it as -N like subprocess does
    return -(code - 128) if 128 < code < 160 else code


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
