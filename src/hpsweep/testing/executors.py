"""The executor contract (see :mod:`hpsweep.executors.base`), as one set of pytest tests.

Subclass :class:`ExecutorConformance` in a test module and give it a ``target`` fixture: a
:class:`Target` that makes the executor under test and says what it can do::

    from hpsweep.testing.executors import ExecutorConformance, Target

    class MyTarget(Target):
        name = "mine"

        def make(self, *, slots, on_worker=False):
            return MyExecutor(slots=slots)

    class TestMine(ExecutorConformance):
        @pytest.fixture
        def target(self):
            return MyTarget()

The trials are runs of a small training program (:data:`PROGRAM`, standard library only): it
trains epochs from its checkpoint to ``--epochs``, reporting ``loss = lr / epoch`` through the
report file or a stdout marker, and can crash with an exit code. An executor that does not run
command lines (Python functions, a simulation) maps the program onto what it runs in
:meth:`Target.adapt` (see :class:`FunctionTarget` and :class:`SimulatedTarget`). The tests:
reports in order then the exit, slots limited and released, two trials side by side, a stop
ends the whole run, pause and resume to a larger budget from the checkpoint, resume after a
normal exit, a crash's exit code, a timeout, a launch failure, a lost worker, and a shutdown that
leaves no process behind. A test of something a target cannot do is skipped, with the reason.
This module needs pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hpsweep.bench.base import Benchmark
from hpsweep.executors.base import Executor, ExecutorEvent, ExitEvent, LaunchSpec, ReportEvent
from hpsweep.executors.fake import FakeExecutor, FakeScript, FakeStep, SimClock
from hpsweep.executors.function import FunctionExecutor, TrialHandle, TrialPruned
from hpsweep.executors.simulated import SimulatedExecutor
from hpsweep.space import Float
from hpsweep.trial import ErrorKind

__all__ = [
    "PROGRAM",
    "ExecutorConformance",
    "FakeTarget",
    "FunctionTarget",
    "SimulatedTarget",
    "Target",
    "collect",
    "exited",
    "exits",
    "make_spec",
    "reports",
]

PROGRAM = str(Path(__file__).with_name("_program.py"))


class Target(ABC):
    """One executor under test. Subclasses define :meth:`make`; where they can, :meth:`lose`."""

    name = "executor"
    real_processes = True  # runs real processes (pids can be checked after a stop)
    sets_environment = True  # the run sees HPSWEEP_* variables (checked in the program's env.json)
    exit_codes = True  # a run's own exit code comes back
    timeouts = True  # LaunchSpec.timeout is enforced
    launch_errors = True  # a program that cannot start ends as an exit
    final_report = False  # the run's result comes last as a report without a step
    wait = 60.0  # seconds (of the executor's clock) a test waits for an event before it fails

    @abstractmethod
    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        """A fresh executor with ``slots`` parallel slots (``on_worker``: runs go where
        :meth:`lose` can reach them)."""

    def adapt(self, spec: LaunchSpec) -> LaunchSpec:
        """The program's launch as this executor runs it (the default: the command line)."""
        return spec

    def trained(self, executor: Executor, spec: LaunchSpec) -> int:
        """The epochs the trial has trained (its checkpoint)."""
        ckpt = Path(spec.trial_dir) / "checkpoint" / "state.json"
        return int(json.loads(ckpt.read_text())["epoch"])

    def lose(self, executor: Executor, trial_id: int) -> None:
        """Make the worker running ``trial_id`` disappear (the default: not possible here)."""
        pytest.skip(f"the {self.name} executor has no worker that can be lost")

    def after_loss(self) -> None:
        """Bring the lost worker back for later tests."""


def make_spec(base: Path, trial_id: int, *args: str, timeout: float | None = None,
              resource: int | None = None) -> LaunchSpec:
    """A launch of the program with ``args`` for trial ``trial_id`` in study folder ``base``."""
    trial_dir = base / "trials" / str(trial_id)
    env = {
        "HPSWEEP_STUDY_DIR": str(base),
        "HPSWEEP_TRIAL_ID": str(trial_id),
        "HPSWEEP_TRIAL_DIR": str(trial_dir),
        "HPSWEEP_WORKER_ID": "0",
        "HPSWEEP_SEED": str(1000 + trial_id),
        "HPSWEEP_CHECKPOINT_DIR": str(trial_dir / "checkpoint"),
        "HPSWEEP_REPORT_FILE": str(trial_dir / "reports.jsonl"),
    }
    if resource is not None:
        env["HPSWEEP_RESOURCE"] = str(resource)
    return LaunchSpec(trial_id=trial_id, argv=(sys.executable, PROGRAM, *args),
                      trial_dir=str(trial_dir), env=env, cwd=str(base), resource=resource,
                      timeout=timeout)


def program_args(spec: LaunchSpec) -> argparse.Namespace | None:
    """The program's arguments in ``spec`` (None when ``spec`` does not run the program)."""
    from hpsweep.testing._program import build_parser

    if len(spec.argv) < 2 or spec.argv[1] != PROGRAM:
        return None
    return build_parser().parse_args(list(spec.argv[2:]))


# -- targets for the executors that do not run command lines -------------------------------------
class FakeTarget(Target):
    """The fake in-process executor (simulated time): the program as a :class:`FakeScript`."""

    name = "fake"
    real_processes = False
    sets_environment = False

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        return FakeExecutor(program=fake_program, slots=slots, clock=SimClock())

    def lose(self, executor: Executor, trial_id: int) -> None:
        assert isinstance(executor, FakeExecutor)
        worker = executor.worker_of(trial_id)
        assert worker is not None
        assert executor.lose_worker(worker) == [trial_id]


def fake_program(spec: LaunchSpec) -> FakeScript:
    """What the program does, as a :class:`FakeScript` (for the fake executor)."""
    args = program_args(spec)
    if args is None:
        return FakeScript(launch_error=f"cannot start {spec.argv[:1]!r}")
    ckpt = Path(spec.trial_dir) / "checkpoint" / "state.json"
    start = json.loads(ckpt.read_text())["epoch"] if ckpt.exists() else 0
    steps = tuple(
        FakeStep(at=args.sleep * (i + 1), step=epoch,
                 metrics={"loss": args.lr / epoch, "epoch": epoch},
                 files={"checkpoint/state.json": json.dumps({"epoch": epoch})})
        for i, epoch in enumerate(range(start + 1, args.epochs + 1))
    )
    return FakeScript(steps=steps, exit_code=args.exit_code, duration=args.sleep * (len(steps) + 1))


def program_objective(config: dict[str, Any], trial: TrialHandle) -> dict[str, float]:
    """The program as a Python objective (for the function executor)."""
    if "missing" in config:
        raise FileNotFoundError(f"cannot start {config['missing']!r}")
    trial_dir = Path(trial.trial_dir)
    with open(trial_dir / "pids", "a") as fh:
        fh.write(f"{os.getpid()}\n")
    ckpt = trial_dir / "checkpoint" / "state.json"
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    start = int(json.loads(ckpt.read_text())["epoch"]) if ckpt.exists() else 0
    lr, epochs = float(config["lr"]), int(config["epochs"])
    for epoch in range(start + 1, epochs + 1):
        time.sleep(float(config["sleep"]))
        ckpt.write_text(json.dumps({"epoch": epoch}))
        trial.report({"loss": lr / epoch, "epoch": epoch}, step=epoch)
        if trial.should_prune():
            raise TrialPruned
    print("done", flush=True)
    if int(config["exit_code"]):
        sys.stdout.flush()
        os._exit(int(config["exit_code"]))
    return {"loss": lr / max(epochs, 1)}


class FunctionTarget(Target):
    """The function executor of the Python API: the program as :func:`program_objective`."""

    name = "function"
    sets_environment = False
    final_report = True

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        return FunctionExecutor(program_objective, n_workers=slots, metric="loss", stop_grace=2.0)

    def adapt(self, spec: LaunchSpec) -> LaunchSpec:
        Path(spec.trial_dir).mkdir(parents=True, exist_ok=True)
        args = program_args(spec)
        if args is None:
            return replace(spec, config={"missing": spec.argv[0] if spec.argv else ""})
        return replace(spec, config={"lr": args.lr, "epochs": args.epochs, "sleep": args.sleep,
                                     "exit_code": args.exit_code})


class _ProgramCurves(Benchmark):
    """The program's curves (loss = lr / epoch, ``sleep`` seconds an epoch) as a benchmark."""

    metric = "loss"
    mode = "min"
    max_resource = 500

    @property
    def params(self) -> tuple[Float, ...]:
        return (Float("lr", 0.0, 100.0), Float("sleep", 0.0, 10.0))

    def evaluate(self, config: dict[str, Any], epochs: Sequence[int], *,
                 seed: int | None = None) -> list[dict[str, float]]:
        lr, sleep = float(config["lr"]), float(config["sleep"])
        return [{"loss": lr / e, "epoch": float(e), "time": sleep * e} for e in epochs]


class SimulatedTarget(Target):
    """The simulated executor of the benchmarks: the program's curves in simulated time."""

    name = "simulated"
    real_processes = False
    sets_environment = False
    exit_codes = False
    timeouts = False
    launch_errors = False

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        return SimulatedExecutor(_ProgramCurves(), n_workers=slots, seed=0)

    def adapt(self, spec: LaunchSpec) -> LaunchSpec:
        args = program_args(spec)
        assert args is not None, "the simulation runs the program's curves only"
        return replace(spec, resource=min(args.epochs, spec.resource or args.epochs),
                       config={"lr": args.lr, "sleep": args.sleep})

    def trained(self, executor: Executor, spec: LaunchSpec) -> int:
        assert isinstance(executor, SimulatedExecutor)
        return executor.trained(spec.trial_id)


# -- helpers ----------------------------------------------------------------------------------------
def collect(executor: Executor, done: Callable[[list[ExecutorEvent]], bool],
            wait: float) -> list[ExecutorEvent]:
    """Poll until ``done(events)`` holds; fail after ``wait`` seconds of the executor's clock."""
    events: list[ExecutorEvent] = []
    start = executor.clock.now()
    while not done(events):
        if executor.clock.now() - start > wait:
            pytest.fail(f"no expected event within {wait} s; got {events}")
        events.extend(executor.poll(0.5))
    return events


def exits(events: list[ExecutorEvent], trial_id: int | None = None) -> list[ExitEvent]:
    return [e for e in events if isinstance(e, ExitEvent)
            and (trial_id is None or e.trial_id == trial_id)]


def reports(events: list[ExecutorEvent], trial_id: int) -> list[ReportEvent]:
    return [e for e in events if isinstance(e, ReportEvent) and e.trial_id == trial_id]


def exited(trial_id: int) -> Callable[[list[ExecutorEvent]], bool]:
    return lambda events: bool(exits(events, trial_id))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    return True


class ExecutorConformance:
    """The contract tests; a subclass supplies the ``target`` fixture."""

    @pytest.fixture
    def executor(self, target: Target) -> Iterator[Executor]:
        executor = target.make(slots=2)
        yield executor
        executor.shutdown(kill=True)

    def _launch(self, target: Target, executor: Executor, spec: LaunchSpec) -> LaunchSpec:
        slot = executor.reserve()
        assert slot is not None, "a free executor must hand out a slot"
        spec = target.adapt(spec)
        executor.launch(slot, spec)
        return spec

    def _steps(self, target: Target, events: list[ExecutorEvent], trial_id: int) -> list[int | None]:
        got = reports(events, trial_id)
        if target.final_report and exits(events, trial_id) and got:
            assert got[-1].step is None, "the run's result comes last, without a step"
            got = got[:-1]
        return [r.step for r in got]

    def _assert_gone(self, target: Target, trial_dir: str) -> None:
        if not target.real_processes:
            return
        pids = [int(x) for x in (Path(trial_dir) / "pids").read_text().split()]
        for _ in range(200):  # up to 20 s for the kernel to reap a killed tree
            if not any(_alive(p) for p in pids):
                break
            time.sleep(0.1)
        assert not any(_alive(p) for p in pids), f"processes {pids} outlived their stop"

    @pytest.mark.parametrize("channel", ["file", "stdout"])
    def test_reports_arrive_in_order_then_exit(self, target: Target, executor: Executor,
                                              tmp_path: Path, channel: str) -> None:
        spec = self._launch(target, executor, make_spec(tmp_path, 1, "--epochs", "3", "--lr",
                                                        "0.6", "--channel", channel))
        assert 1 in executor.running()
        events = collect(executor, exited(1), target.wait)
        assert self._steps(target, events, 1) == [1, 2, 3]
        got = [r for r in reports(events, 1) if r.step is not None]
        assert [r.metrics["loss"] for r in got] == pytest.approx([0.6, 0.3, 0.2])
        (end,) = exits(events, 1)
        assert (end.exit_code, end.error_kind, end.stopped) == (0, None, False)
        assert events.index(end) > events.index(got[-1]), "the exit comes after the reports"
        assert executor.running() == set()
        if target.sets_environment:
            env = json.loads((Path(spec.trial_dir) / "env.json").read_text())
            assert env["HPSWEEP_TRIAL_ID"] == "1"
            assert env["HPSWEEP_CHECKPOINT_DIR"] == spec.env["HPSWEEP_CHECKPOINT_DIR"]
        if target.real_processes:
            assert "done" in (Path(spec.trial_dir) / "stdout.log").read_text()

    def test_slots_are_limited_and_released(self, executor: Executor) -> None:
        first, second = executor.reserve(), executor.reserve()
        assert first is not None and second is not None
        assert first.worker_id != second.worker_id
        assert executor.reserve() is None, "two slots: the third reserve must wait"
        executor.release(first)
        again = executor.reserve()
        assert again is not None
        executor.release(again)
        executor.release(second)

    def test_two_trials_run_side_by_side(self, target: Target, executor: Executor,
                                         tmp_path: Path) -> None:
        for tid in (1, 2):
            self._launch(target, executor, make_spec(tmp_path, tid, "--epochs", "2", "--lr", str(tid)))
        events = collect(executor, lambda ev: len(exits(ev)) == 2, target.wait)
        for tid in (1, 2):
            got = [r for r in reports(events, tid) if r.step is not None]
            assert [r.metrics["loss"] for r in got] == pytest.approx([tid / 1, tid / 2])
            assert exits(events, tid)[0].exit_code == 0

    def test_stop_ends_the_whole_run(self, target: Target, executor: Executor,
                                     tmp_path: Path) -> None:
        spec = self._launch(target, executor, make_spec(tmp_path, 1, "--epochs", "500", "--sleep", "0.1"))
        collect(executor, lambda ev: bool(reports(ev, 1)), target.wait)
        executor.stop(1)
        events = collect(executor, exited(1), target.wait)
        (end,) = exits(events, 1)
        assert end.stopped is True
        assert end.error_kind is None
        assert executor.running() == set()
        self._assert_gone(target, spec.trial_dir)

    def test_pause_then_resume_to_a_larger_budget(self, target: Target, executor: Executor,
                                                  tmp_path: Path) -> None:
        spec = self._launch(target, executor, make_spec(tmp_path, 1, "--epochs", "500", "--sleep",
                                                        "0.1", resource=500))
        collect(executor, lambda ev: bool(reports(ev, 1)), target.wait)
        executor.stop(1)  # a PAUSE verdict
        collect(executor, exited(1), target.wait)
        reached = target.trained(executor, spec)
        assert reached >= 1
        self._launch(target, executor, make_spec(tmp_path, 1, "--epochs", str(reached + 2),
                                                 resource=reached + 2))
        events = collect(executor, exited(1), target.wait)
        assert self._steps(target, events, 1) == [reached + 1, reached + 2]
        assert exits(events, 1)[0].exit_code == 0

    def test_resume_after_a_normal_exit(self, target: Target, executor: Executor,
                                        tmp_path: Path) -> None:
        self._launch(target, executor, make_spec(tmp_path, 4, "--epochs", "1", resource=1))
        assert self._steps(target, collect(executor, exited(4), target.wait), 4) == [1]
        self._launch(target, executor, make_spec(tmp_path, 4, "--epochs", "3", resource=3))
        assert self._steps(target, collect(executor, exited(4), target.wait), 4) == [2, 3]

    def test_crash_reports_the_exit_code(self, target: Target, executor: Executor,
                                         tmp_path: Path) -> None:
        if not target.exit_codes:
            pytest.skip(f"runs of the {target.name} executor have no exit code of their own")
        self._launch(target, executor, make_spec(tmp_path, 1, "--epochs", "1", "--exit-code", "3"))
        events = collect(executor, exited(1), target.wait)
        (end,) = exits(events, 1)
        assert (end.exit_code, end.error_kind, end.stopped) == (3, None, False)
        assert [r.step for r in reports(events, 1)] == [1]

    def test_timeout_kills_and_says_so(self, target: Target, executor: Executor,
                                       tmp_path: Path) -> None:
        if not target.timeouts:
            pytest.skip(f"the {target.name} executor does not enforce timeouts")
        spec = self._launch(target, executor, make_spec(tmp_path, 1, "--epochs", "500", "--sleep",
                                                        "0.1", timeout=2.0))
        events = collect(executor, exited(1), target.wait)
        (end,) = exits(events, 1)
        assert end.error_kind is ErrorKind.TIMEOUT
        assert end.stopped is False
        assert reports(events, 1), "reports before the timeout still arrive"
        self._assert_gone(target, spec.trial_dir)

    def test_launch_failure_is_an_exit(self, target: Target, executor: Executor,
                                       tmp_path: Path) -> None:
        if not target.launch_errors:
            pytest.skip(f"the {target.name} executor runs no program that could fail to start")
        spec = LaunchSpec(trial_id=1, argv=(str(tmp_path / "no-such-program"),),
                          trial_dir=str(tmp_path / "trials" / "1"), cwd=str(tmp_path))
        self._launch(target, executor, spec)
        (end,) = exits(collect(executor, exited(1), target.wait), 1)
        assert end.error_kind is ErrorKind.LAUNCH or end.exit_code not in (0, None)
        assert executor.running() == set()

    def test_lost_worker_ends_with_lost(self, target: Target, tmp_path: Path) -> None:
        executor = target.make(slots=2, on_worker=True)
        try:
            self._launch(target, executor, make_spec(tmp_path, 7, "--epochs", "500", "--sleep", "0.1"))
            collect(executor, lambda ev: bool(reports(ev, 7)), target.wait)
            target.lose(executor, 7)
            (end,) = exits(collect(executor, exited(7), target.wait), 7)
            assert end.error_kind is ErrorKind.LOST
            assert executor.running() == set()
        finally:
            executor.shutdown(kill=True)
            target.after_loss()

    def test_shutdown_with_kill_stops_everything(self, target: Target, tmp_path: Path) -> None:
        executor = target.make(slots=2)
        spec = self._launch(target, executor, make_spec(tmp_path, 1, "--epochs", "500", "--sleep", "0.1"))
        collect(executor, lambda ev: bool(reports(ev, 1)), target.wait)
        executor.shutdown(kill=True)
        assert executor.running() == set()
        self._assert_gone(target, spec.trial_dir)
