"""Ray: each trial run is a process started by a small Ray actor on some node of the cluster.

The controller stays the Ray driver. A runner actor, holding ``cpus_per_trial`` CPUs and
``gpus_per_trial`` GPUs (fractions allowed), starts the trial's argv in its own session on its
node and is long-polled for the exit. Reports stream back while the trial runs: when the trial
folder is on a file system the node shares with the controller (found out per launch with a token
file), the controller tails the files itself; otherwise the run uses a staging folder on the node
and the actor ships the new log and report bytes back with every poll and the other files at the
end (and the trial folder's files, e.g. a checkpoint, out to the node at the start).

A node that dies takes its actors with it: their trials end with ``ErrorKind.LOST`` and the tuner
runs them again. ``ray`` is imported only here, when the executor is created.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
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

__all__ = ["RayExecutor", "TrialRunner"]

TOKEN_FILE = ".hpsweep-launch"
NODE_FILE = "ray-node.txt"  # one line per run: the node it ran on
_STREAMED = ("stdout.log", "stderr.log", "reports.jsonl")
_MAX_SHIP_BYTES = 256 * 1024 * 1024


def _read_tree(root: Path, skip: tuple[str, ...]) -> dict[str, bytes]:
    """Files under ``root`` (relative path -> bytes), without ``skip`` names at the top level."""
    out: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel in skip or rel in (TOKEN_FILE, NODE_FILE):
            continue
        total += path.stat().st_size
        if total > _MAX_SHIP_BYTES:
            break
        out[rel] = path.read_bytes()
    return out


def _write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        target = (root / rel).resolve()
        if root.resolve() not in target.parents:
            continue  # never write outside the trial folder
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class TrialRunner:
    """Runs one trial process at a time on its node (used as a Ray actor; plain class for tests)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._kill_at: float | None = None
        self._stage: Path | None = None
        self._offsets: dict[str, int] = {}
        self._report_rel = "reports.jsonl"

    def node(self) -> str:
        node_id = ""
        with contextlib.suppress(Exception):
            import ray

            node_id = ray.get_runtime_context().get_node_id()
        return f"{socket.gethostname()}:{node_id}" if node_id else socket.gethostname()

    def start(self, request: dict[str, Any]) -> dict[str, Any]:
        trial_dir = Path(request["trial_dir"])
        shared = request["shared"]
        if shared is None:
            try:
                shared = (trial_dir / TOKEN_FILE).read_text() == request["token"]
            except OSError:
                shared = False
        argv = list(request["argv"])
        env = {**os.environ, **request["env"]}
        cwd = request["cwd"]
        if not shared:
            self._stage = Path(os.environ.get("TMPDIR", "/tmp")) / f"hpsweep-{uuid.uuid4().hex}"
            self._stage.mkdir(parents=True)
            _write_tree(self._stage, request["files"])
            old, new = str(trial_dir), str(self._stage)
            argv = [a.replace(old, new) for a in argv]
            env = {k: v.replace(old, new) for k, v in env.items()}
            report = env.get("HPSWEEP_REPORT_FILE", "")
            if report.startswith(new + os.sep):
                self._report_rel = report[len(new) + 1 :]
            self._offsets = {name: 0 for name in (*_STREAMED[:2], self._report_rel)}
            if cwd is None or not Path(cwd).is_dir():
                cwd = new
            trial_dir = self._stage
        else:
            trial_dir.mkdir(parents=True, exist_ok=True)
        out = (trial_dir / "stdout.log").open("ab")
        err = (trial_dir / "stderr.log").open("ab")
        try:
            self._proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            return {"node": self.node(), "shared": shared, "error": f"{exc.strerror or exc}"}
        finally:
            out.close()
            err.close()
        self._kill_at = None
        return {"node": self.node(), "shared": shared, "error": None}

    def poll(self, wait: float) -> dict[str, Any]:
        """Wait up to ``wait`` seconds for the exit; return it with the new bytes to ship back."""
        proc = self._proc
        if proc is None:
            return {"exit": None, "chunks": {}, "files": {}}
        if self._kill_at is not None and time.monotonic() >= self._kill_at:
            self._signal(signal.SIGKILL)
            self._kill_at = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
        code = proc.poll()
        result: dict[str, Any] = {"exit": code, "chunks": self._chunks(), "files": {}}
        if code is not None:
            self._signal(signal.SIGKILL)  # stragglers left in the group
            if self._stage is not None:
                skip = (*_STREAMED[:2], self._report_rel)
                result["files"] = _read_tree(self._stage, skip)
                subprocess.run(["rm", "-rf", "--", str(self._stage)], check=False)
                self._stage = None
            self._proc = None
        return result

    def _chunks(self) -> dict[str, bytes]:
        if self._stage is None:
            return {}
        chunks: dict[str, bytes] = {}
        for rel, offset in self._offsets.items():
            with contextlib.suppress(FileNotFoundError), (self._stage / rel).open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
                if data:
                    chunks[rel] = data
                    self._offsets[rel] = offset + len(data)
        return chunks

    def stop(self, grace: float) -> None:
        self._signal(signal.SIGTERM)
        self._kill_at = time.monotonic() + grace

    def _signal(self, sig: int) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, sig)


@dataclass
class _Run:
    spec: LaunchSpec
    slot: Slot
    actor: Any
    ref: Any  # the start or poll call in flight
    reports: FileTail
    stdout: FileTail
    deadline: float | None = None
    started: bool = False
    shared: bool = True
    node: str = ""
    stop_requested: bool = False
    timed_out: bool = False
    retried: bool = False
    fresh: bool = False  # its actor was created for it (and may still wait for resources)
    asked: float = 0.0  # when the start call went out
    request: dict[str, Any] = field(default_factory=dict)
    pending: list[ExecutorEvent] = field(default_factory=list)


class RayExecutor(PooledExecutor):
    """Trials on a Ray cluster: ``address`` is ``"auto"`` or ``HOST:PORT`` of the head node.

    ``max_concurrent`` caps parallel trials (default: what the cluster's CPUs and GPUs allow);
    ``shared_dir`` forces the trial-folder mode (None: found out per launch). Runner actors
    are kept and reused; one whose creation waits longer than ``actor_wait`` seconds (its
    resources are held by idle runners, e.g. after a node was lost) gets an idle runner instead.
    """

    def __init__(
        self,
        *,
        address: str = "auto",
        cpus_per_trial: float = 1.0,
        gpus_per_trial: float = 0.0,
        resources: Mapping[str, float] | None = None,
        max_concurrent: int | None = None,
        shared_dir: bool | None = None,
        parser: MetricParser | None = None,
        summary_file: str | None = None,
        poll_wait: float = 0.2,
        kill_grace: float = 3.0,
        actor_wait: float = 5.0,
    ) -> None:
        if min(cpus_per_trial, gpus_per_trial) < 0 or cpus_per_trial + gpus_per_trial == 0:
            raise UsageError(
                f"--cpus-per-trial {cpus_per_trial} / --gpus-per-trial {gpus_per_trial}: "
                "give a positive amount of at least one, e.g. --cpus-per-trial 1."
            )
        if gpus_per_trial > 1 and gpus_per_trial != int(gpus_per_trial):
            raise UsageError(
                f"--gpus-per-trial {gpus_per_trial}: above 1 it must be whole, e.g. 2."
            )
        if max_concurrent is not None and max_concurrent < 1:
            raise UsageError(f"max_concurrent must be >= 1, got {max_concurrent}.")
        try:
            import ray
        except ImportError as exc:
            raise UsageError("--executor ray needs Ray: pip install 'hpsweep[ray]'.") from exc
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            _check_reachable(address)
            try:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise UsageError(f"--ray-address {address!r}: cannot connect to a Ray cluster "
                                 f"({exc}); start one with 'ray start --head'.") from exc
        self.cpus_per_trial = cpus_per_trial
        self.gpus_per_trial = gpus_per_trial
        self.resources = dict(resources or {})
        self.max_concurrent = max_concurrent
        self.shared_dir = shared_dir
        self.poll_wait = poll_wait
        self.kill_grace = kill_grace
        self.actor_wait = actor_wait
        self._actor_class = ray.remote(TrialRunner).options(
            num_cpus=cpus_per_trial, num_gpus=gpus_per_trial, resources=self.resources or None,
            scheduling_strategy="SPREAD", max_restarts=0,
        )
        self._runs: dict[int, _Run] = {}
        self._idle: list[tuple[Any, str]] = []  # (actor, node) ready for the next run
        self._nodes: dict[Any, str] = {}
        super().__init__(self._runs, parser=parser, summary_file=summary_file)
        self._capacity = 0
        self._capacity_at = -1e9

    # -- slots -----------------------------------------------------------------------------------
    def capacity(self) -> int:
        """How many trials fit on the cluster's live nodes now (refreshed every few seconds)."""
        now = self.clock.now()
        if now - self._capacity_at > 5.0:
            self._capacity_at = now
            total = self._ray.cluster_resources()
            fits = [int(total.get("CPU", 0) // self.cpus_per_trial)] if self.cpus_per_trial else []
            if self.gpus_per_trial:
                fits.append(int(total.get("GPU", 0) // self.gpus_per_trial))
            fits += [int(total.get(k, 0) // v) for k, v in self.resources.items() if v > 0]
            self._capacity = max(1, min(fits))
        cap = self._capacity
        return min(cap, self.max_concurrent) if self.max_concurrent else cap

    def slot_capacity(self) -> int:
        return self.capacity()

    def node_of(self, trial_id: int) -> str | None:
        run = self._runs.get(trial_id)
        return run.node if run else None

    # -- launching -------------------------------------------------------------------------------
    def launch(self, slot: Slot, spec: LaunchSpec) -> None:
        trial_dir = self._take(slot, spec)
        reports, stdout = new_tails(spec, trial_dir)
        run = _Run(spec=spec, slot=slot, actor=None, ref=None, reports=reports, stdout=stdout)
        self._runs[spec.trial_id] = run
        self._start(run)

    def _start(self, run: _Run) -> None:
        spec = run.spec
        trial_dir = Path(spec.trial_dir).resolve()
        token = uuid.uuid4().hex
        (trial_dir / TOKEN_FILE).write_text(token)
        files = {} if self.shared_dir else _read_tree(trial_dir, _STREAMED)
        run.request = {"trial_dir": str(trial_dir), "argv": list(spec.argv),
                       "env": dict(spec.env), "cwd": spec.cwd, "shared": self.shared_dir,
                       "token": token, "files": files}
        run.fresh = not self._idle
        if self._idle:
            run.actor, run.node = self._idle.pop()
        else:
            run.actor = self._actor_class.remote()
        run.ref = run.actor.start.remote(run.request)
        run.asked = self.clock.now()

    def _rebalance(self) -> None:
        """Idle actors hold their resources: hand them to runs whose new actor is still waiting
        for resources, and let go of the ones a shrunken cluster no longer has room for."""
        now = self.clock.now()
        for run in self._runs.values():
            if not self._idle:
                break
            if run.fresh and not run.started and run.ref is not None and \
                    now - run.asked > self.actor_wait:
                with contextlib.suppress(Exception):
                    self._ray.kill(run.actor)
                run.actor, run.node = self._idle.pop()
                run.fresh = False
                run.ref = run.actor.start.remote(run.request)
                run.asked = now
        while self._idle and len(self._idle) + len(self._runs) > self.capacity():
            actor, _ = self._idle.pop(0)
            self._nodes.pop(actor, None)
            with contextlib.suppress(Exception):
                self._ray.kill(actor)

    # -- watching --------------------------------------------------------------------------------
    def poll(self, timeout: float) -> list[ExecutorEvent]:
        events, self._pending = self._pending, []
        refs = {r.ref: tid for tid, r in self._runs.items() if r.ref is not None}
        if refs:
            wait = 0.0 if events else max(0.0, min(timeout, self._until_deadline()))
            ready, _ = self._ray.wait(list(refs), num_returns=1, timeout=wait)
            if ready:
                ready, _ = self._ray.wait(list(refs), num_returns=len(refs), timeout=0)
            for ref in ready:
                events.extend(self._answer(self._runs[refs[ref]], ref))
        elif not events and timeout > 0:
            time.sleep(min(timeout, 0.05))
        self._enforce_deadlines()
        for tid, run in list(self._runs.items()):
            if run.shared and run.started:
                events.extend(self._read(run, final=False))
            events.extend(run.pending)
            run.pending.clear()
            if run.ref is None:
                del self._runs[tid]
        self._rebalance()
        return events

    def _until_deadline(self) -> float:
        now = self.clock.now()
        times = [r.deadline - now for r in self._runs.values() if r.deadline and not r.timed_out]
        return min([3600.0, *times])

    def _answer(self, run: _Run, ref: Any) -> list[ExecutorEvent]:
        ray = self._ray
        try:
            result = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ObjectLostError) as exc:
            return self._lost(run, exc)
        if not run.started:
            return self._started(run, result)
        if result["chunks"]:
            _append_chunks(Path(run.spec.trial_dir).resolve(), result["chunks"])
        if result["exit"] is None:
            run.ref = run.actor.poll.remote(self.poll_wait)
            return [] if run.shared else self._read(run, final=False)
        _write_tree(Path(run.spec.trial_dir).resolve(), result["files"])
        return self._finish(run, int(result["exit"]))

    def _started(self, run: _Run, result: dict[str, Any]) -> list[ExecutorEvent]:
        run.started = True
        run.node = result["node"]
        run.shared = bool(result["shared"])
        self._nodes[run.actor] = run.node
        with contextlib.suppress(OSError), \
                (Path(run.spec.trial_dir) / NODE_FILE).open("a") as fh:
            fh.write(f"{run.node}\n")
        if result["error"] is not None:
            run.ref = None
            self._idle.append((run.actor, run.node))
            what = run.spec.argv[0] if run.spec.argv else "(empty command)"
            return [ExitEvent(run.spec.trial_id, None, self.clock.now(), ErrorKind.LAUNCH,
                              f"cannot start {what!r} on {run.node}: {result['error']}")]
        if run.spec.timeout:
            run.deadline = self.clock.now() + run.spec.timeout
        run.ref = run.actor.poll.remote(self.poll_wait)
        return []

    def _lost(self, run: _Run, exc: BaseException) -> list[ExecutorEvent]:
        node = self._nodes.pop(run.actor, run.node)
        self._idle = [(a, n) for a, n in self._idle if n != node or not node]
        with contextlib.suppress(Exception):
            self._ray.kill(run.actor)
        if not run.started and not run.retried:
            run.retried = True  # an idle actor died before this run began: try a fresh one
            self._start(run)
            return []
        run.ref = None
        events = self._read(run, final=True) if run.shared else []
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        events.append(ExitEvent(run.spec.trial_id, None, self.clock.now(), ErrorKind.LOST,
                                f"node {node or '?'} was lost: {reason}",
                                stopped=run.stop_requested))
        return events

    def _read(self, run: _Run, *, final: bool) -> list[ExecutorEvent]:
        now = self.clock.now()
        return [ReportEvent(run.spec.trial_id, p.step, p.metrics, now)
                for p in self.parser.read(run.reports, run.stdout, final=final)]

    def _finish(self, run: _Run, code: int) -> list[ExecutorEvent]:
        run.ref = None
        self._idle.append((run.actor, run.node))
        events = self._read(run, final=True)
        kind: ErrorKind | None = None
        message = ""
        now = self.clock.now()
        if self.summary_file and not run.stop_requested and not run.timed_out:
            summary = read_summary_file(Path(run.spec.trial_dir) / self.summary_file)
            if summary:
                events.append(ReportEvent(run.spec.trial_id, None, summary, now))
                if summary.get("finished") == 0:
                    kind, message = ErrorKind.NO_METRIC, f"{self.summary_file} says finished 0"
        if run.timed_out:
            kind = ErrorKind.TIMEOUT
            message = f"ran past its timeout of {run.spec.timeout:g} s and was killed"
        events.append(ExitEvent(run.spec.trial_id, code, now, kind, message,
                                stopped=run.stop_requested))
        return events

    def _enforce_deadlines(self) -> None:
        now = self.clock.now()
        for run in self._runs.values():
            if run.deadline is not None and now >= run.deadline and not run.timed_out:
                run.timed_out = True
                run.actor.stop.remote(self.kill_grace)

    # -- stopping --------------------------------------------------------------------------------
    def stop(self, trial_id: int) -> None:
        run = self._runs.get(trial_id)
        if run is None or run.stop_requested or run.actor is None:
            return
        run.stop_requested = True
        run.actor.stop.remote(self.kill_grace)

    def shutdown(self, *, kill: bool) -> None:
        """End every run (Ray ends an actor's process when its driver goes) and free the actors."""
        for trial_id in list(self._runs):
            self.stop(trial_id)
        deadline = self.clock.now() + self.kill_grace + 5.0
        while kill and self._runs and self.clock.now() < deadline:
            self.poll(0.1)
        actors = [r.actor for r in self._runs.values()] + [a for a, _ in self._idle]
        for actor in actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        self._runs.clear()
        self._idle.clear()
        if self._owns_ray:
            self._ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a ``HOST:PORT`` nobody listens on (Ray itself would retry for minutes)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or address.startswith(("ray://", "auto")):
        return
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return
    except OSError as exc:
        raise UsageError(f"--ray-address {address!r}: nothing answers there ({exc.strerror or exc});"
                         " start the head with 'ray start --head --port PORT'.") from None


def _append_chunks(trial_dir: Path, chunks: Mapping[str, bytes]) -> None:
    for rel, data in chunks.items():
        target = (trial_dir / rel).resolve()
        if trial_dir not in target.parents:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("ab") as fh:
            fh.write(data)
