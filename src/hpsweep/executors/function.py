"""Run a Python objective function per trial, each call in its own process.

``FunctionExecutor(objective, n_workers=4)`` implements :class:`~hpsweep.executors.base.Executor`
for the Python API: every trial is a fresh child process (``fork`` where the platform has it,
else ``spawn``) in its own process group, so trials run in parallel without the GIL, a timeout
really kills a stuck trial (and whatever it started), and a crash cannot take the controller down.

The objective is ``f(params) -> float | dict`` or ``f(params, trial) -> float | dict``. Through
``trial`` it reports intermediate values (``trial.report(value_or_metrics, step)``) and asks
``trial.should_prune()``. Reports travel over a pipe; each one waits until the controller has
seen it (the next :meth:`FunctionExecutor.poll`), so ``should_prune()`` answers for the report just
made: True when the scheduler stopped the trial. A pruned objective raises :class:`TrialPruned`
or returns; one that ignores the request is killed after ``stop_grace`` seconds.
"""

from __future__ import annotations

import contextlib
import inspect
import multiprocessing as mp
import os
import signal
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.executors.base import (
    Clock,
    Executor,
    ExecutorEvent,
    ExitEvent,
    LaunchSpec,
    ReportEvent,
    Slot,
    WallClock,
)
from hpsweep.trial import ErrorKind

__all__ = ["FunctionExecutor", "TrialHandle", "TrialPruned", "accepts_trial"]

_ACK_TIMEOUT = 60.0  # a report waits at most this long for the controller (then goes on)
_PRUNED_EXIT = 0
_ERROR_EXIT = 1


class TrialPruned(Exception):
    """Raise from an objective to end the trial early (after ``should_prune()`` said so)."""


def accepts_trial(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes a second positional argument (the trial handle)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    positional = [
        p for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    return len(positional) >= 2 or has_varargs


class TrialHandle:
    """What an objective with a second argument gets: report values, ask whether to stop."""

    def __init__(self, *, trial_id: int, trial_dir: str, resource: int | None, metric: str,
                 conn: Connection) -> None:
        self.trial_id = trial_id
        self.trial_dir = trial_dir
        self.resource = resource  # the target budget (e.g. epochs) a scheduler gave, or None
        self._metric = metric
        self._conn = conn
        self._pruned = False

    def report(self, value: float | Mapping[str, Any], step: int | None = None) -> None:
        """Report ``value`` (the objective, or a dict of metrics) at ``step``."""
        metrics = _as_metrics(value, self._metric)
        self._conn.send(("report", step, metrics))
        if self._conn.poll(_ACK_TIMEOUT):
            self._read()

    def should_prune(self) -> bool:
        """True when the scheduler has stopped this trial; end it (raise TrialPruned or return)."""
        while not self._pruned and self._conn.poll(0):
            self._read()
        return self._pruned

    def _read(self) -> None:
        try:
            message = self._conn.recv()
        except EOFError:
            return
        if message == "prune":
            self._pruned = True


def _as_metrics(value: Any, metric: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    numeric = isinstance(value, (int, float)) or hasattr(value, "__float__")
    if isinstance(value, bool) or not numeric:
        raise TypeError(
            f"the objective must return a number or a dict of metrics, got {type(value).__name__}"
        )
    return {metric: _plain(value)}


def _plain(value: Any) -> Any:
    """Numbers (NumPy and torch scalars included) as floats; other values unchanged."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _redirect(trial_dir: str) -> None:
    if not trial_dir:
        return
    path = Path(trial_dir)
    path.mkdir(parents=True, exist_ok=True)
    for fd, name in ((1, "stdout.log"), (2, "stderr.log")):
        target = os.open(path / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, fd)
        os.close(target)
    # The parent's sys.stdout may not write to fd 1 (a notebook, a test runner's capture).
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _child(fn: Callable[..., Any], config: dict[str, Any], trial_id: int, trial_dir: str,
           resource: int | None, metric: str, with_trial: bool, conn: Connection) -> None:
    """The body of a trial process."""
    with contextlib.suppress(OSError):
        os.setsid()  # own process group: a stop takes whatever the objective started with it
    _redirect(trial_dir)
    handle = TrialHandle(trial_id=trial_id, trial_dir=trial_dir, resource=resource,
                         metric=metric, conn=conn)
    code = 0
    try:
        result = fn(dict(config), handle) if with_trial else fn(dict(config))
        if result is not None:
            conn.send(("result", _as_metrics(result, metric)))
        elif not handle.should_prune():
            conn.send(("error", "the objective returned None; return a number or a dict"))
            code = _ERROR_EXIT
        else:
            conn.send(("pruned",))
            code = _PRUNED_EXIT
    except TrialPruned:
        conn.send(("pruned",))
        code = _PRUNED_EXIT
    except BaseException as exc:  # every failure of user code is reported
        text = "".join(traceback.format_exception(exc))
        sys.stderr.write(text)
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        code = _ERROR_EXIT
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        conn.close()
    os._exit(code)


@dataclass
class _Run:
    spec: LaunchSpec
    slot: Slot
    process: Any  # multiprocessing.Process (BaseProcess for the chosen context)
    conn: Connection
    deadline: float | None
    stop_at: float | None = None
    stopped: bool = False
    pruned: bool = False
    terminated: bool = False
    awaiting_ack: bool = False
    message: str = ""
    error: bool = False
    last_step: int | None = None


class FunctionExecutor(Executor):
    """Trials as child processes running ``objective``; ``n_workers`` at a time.

    ``metric`` names the value when the objective returns a plain number. ``start_method`` is
    ``fork`` (default where available: closures and lambdas work) or ``spawn`` (the objective
    must then be importable). ``stop_grace`` seconds after a stop, a trial that has not ended
    is killed with its process group.
    """

    def __init__(
        self,
        objective: Callable[..., Any],
        *,
        n_workers: int = 1,
        metric: str = "objective",
        start_method: str | None = None,
        stop_grace: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        if not callable(objective):
            raise UsageError(f"objective must be callable, got {objective!r}.")
        if not isinstance(n_workers, int) or isinstance(n_workers, bool) or n_workers < 1:
            raise UsageError(f"n_workers must be an integer >= 1, got {n_workers!r}.")
        if stop_grace < 0:
            raise UsageError(f"stop_grace must be >= 0 seconds, got {stop_grace!r}.")
        methods = mp.get_all_start_methods()
        method = start_method or ("fork" if "fork" in methods else "spawn")
        if method not in methods:
            raise UsageError(
                f"start_method {method!r} is not available here; choose one of {methods}."
            )
        self._objective = objective
        self._with_trial = accepts_trial(objective)
        self._ctx: Any = mp.get_context(method)
        self.n_workers = n_workers
        self.metric = metric
        self.stop_grace = stop_grace
        self.clock: Clock = clock or WallClock()
        self._free = list(range(n_workers))
        self._runs: dict[int, _Run] = {}

    # -- Executor contract ---------------------------------------------------------------------

    def reserve(self) -> Slot | None:
        if not self._free:
            return None
        return Slot(worker_id=self._free.pop(0))

    def release(self, slot: Slot) -> None:
        if slot.worker_id not in self._free:
            self._free.append(slot.worker_id)
            self._free.sort()

    def launch(self, slot: Slot, spec: LaunchSpec) -> None:
        if spec.trial_id in self._runs:
            raise UsageError(f"trial {spec.trial_id} is already running in this executor.")
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_child,
            args=(self._objective, dict(spec.config), spec.trial_id, spec.trial_dir,
                  spec.resource, self.metric, self._with_trial, child),
            daemon=True,
        )
        process.start()
        child.close()
        deadline = None if spec.timeout is None else self.clock.now() + float(spec.timeout)
        self._runs[spec.trial_id] = _Run(spec=spec, slot=slot, process=process, conn=parent,
                                         deadline=deadline)

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        self._acknowledge()
        events: list[ExecutorEvent] = []
        self._enforce_deadlines(events)
        if not events and self._runs:
            waitables: list[Any] = []
            for run in self._runs.values():
                waitables.extend((run.conn, run.process.sentinel))
            wait(waitables, timeout=self._wait_time(timeout))
        elif not self._runs and timeout > 0:
            wait([], timeout=0)
        for trial_id in list(self._runs):
            events.extend(self._collect(trial_id))
        self._enforce_deadlines(events)
        return events

    def stop(self, trial_id: int) -> None:
        run = self._runs.get(trial_id)
        if run is None or run.stopped:
            return
        run.stopped = True
        run.stop_at = self.clock.now() + self.stop_grace
        with contextlib.suppress(OSError, ValueError):
            run.conn.send("prune")
        run.awaiting_ack = False

    def running(self) -> set[int]:
        return set(self._runs)

    def shutdown(self, *, kill: bool) -> None:
        for run in list(self._runs.values()):
            if kill or run.stopped:
                self._kill(run)
            run.process.join(timeout=5.0 if not kill else 1.0)
            if run.process.is_alive():
                self._kill(run)
                run.process.join(timeout=1.0)
            with contextlib.suppress(OSError):
                run.conn.close()
        self._runs.clear()
        self._free = list(range(self.n_workers))

    # -- internals ------------------------------------------------------------------------------

    def _acknowledge(self) -> None:
        """Let trials whose reports the caller has now seen go on (see the module docstring)."""
        for run in self._runs.values():
            if run.awaiting_ack and not run.stopped:
                with contextlib.suppress(OSError, ValueError):
                    run.conn.send("ack")
                run.awaiting_ack = False

    def _wait_time(self, timeout: float) -> float:
        now = self.clock.now()
        limits = [timeout]
        for run in self._runs.values():
            for t in (run.deadline, run.stop_at):
                if t is not None:
                    limits.append(max(0.0, t - now))
        return max(0.0, min(limits))

    def _collect(self, trial_id: int) -> list[ExecutorEvent]:
        run = self._runs[trial_id]
        events: list[ExecutorEvent] = []
        events.extend(self._drain(run))
        if run.process.is_alive():
            return events
        run.process.join(timeout=1.0)
        events.extend(self._drain(run))
        events.append(self._exit_event(run))
        self._finish(trial_id)
        return events

    def _drain(self, run: _Run) -> list[ExecutorEvent]:
        events: list[ExecutorEvent] = []
        while True:
            try:
                if not run.conn.poll(0):
                    break
                message = run.conn.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            now = self.clock.now()
            if kind == "report":
                _, step, metrics = message
                run.last_step = step if step is not None else run.last_step
                run.awaiting_ack = True
                events.append(ReportEvent(run.spec.trial_id, step, metrics, now))
            elif kind == "result":
                metrics = message[1]
                events.append(ReportEvent(run.spec.trial_id, None, metrics, now))
            elif kind == "pruned":
                run.pruned = True
            elif kind == "error":
                run.error = True
                run.message = str(message[1])
        return events

    def _exit_event(self, run: _Run) -> ExitEvent:
        now = self.clock.now()
        code = run.process.exitcode
        if run.terminated and not run.stopped:
            return ExitEvent(run.spec.trial_id, code, now, error_kind=ErrorKind.TIMEOUT,
                             message=f"killed after the per-trial timeout of "
                                     f"{run.spec.timeout:g} s")
        stopped = run.stopped or run.pruned
        message = run.message
        if code is not None and code < 0 and not message:
            message = f"killed by signal {-code}"
        return ExitEvent(run.spec.trial_id, 0 if stopped and not run.error else code, now,
                         message=message, stopped=stopped)

    def _enforce_deadlines(self, events: list[ExecutorEvent]) -> None:
        now = self.clock.now()
        for trial_id, run in list(self._runs.items()):
            over_time = run.deadline is not None and now >= run.deadline and not run.stopped
            over_grace = run.stop_at is not None and now >= run.stop_at
            if (over_time or over_grace) and run.process.is_alive():
                run.terminated = True
                self._kill(run)
                run.process.join(timeout=2.0)
                events.extend(self._collect(trial_id))

    def _kill(self, run: _Run) -> None:
        pid = run.process.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError, ValueError):
            run.process.kill()

    def _finish(self, trial_id: int) -> None:
        run = self._runs.pop(trial_id)
        with contextlib.suppress(OSError):
            run.conn.close()
        self.release(run.slot)

