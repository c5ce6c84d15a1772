"""The executor contract, as one set of tests every executor runs.

A test module subclasses :class:`ExecutorConformance` and provides a ``target`` fixture (a
:class:`Target`: how to make the executor under test and, where it can, how to lose a worker).
The trials are runs of ``trial_program.py``: start, report, stop, pause/resume (stop, then run
again to a larger budget from the same checkpoint), crash, timeout, lost worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hpsweep.executors.base import Executor, ExecutorEvent, ExitEvent, LaunchSpec, ReportEvent
from hpsweep.executors.fake import FakeScript, FakeStep
from hpsweep.trial import ErrorKind

PROGRAM = str(Path(__file__).with_name("trial_program.py"))


class Target(ABC):
    """One executor under test. Subclasses define :meth:`make` and, if they can, :meth:`lose`."""

    name = "executor"
    real_processes = True  # runs real processes (pids and environment can be checked)
    wait = 60.0  # seconds a test waits for an event before it fails

    @abstractmethod
    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        """A fresh executor with ``slots`` parallel slots (``on_worker``: runs go where
        :meth:`lose` can reach them)."""

    def lose(self, executor: Executor, trial_id: int) -> None:
        """Make the worker running ``trial_id`` disappear (the default: not possible here)."""
        pytest.skip(f"the {self.name} executor has no worker that can be lost")

    def after_loss(self) -> None:
        """Bring the lost worker back for later tests."""


def make_spec(base: Path, trial_id: int, *args: str, timeout: float | None = None,
              resource: int | None = None) -> LaunchSpec:
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


def fake_program(spec: LaunchSpec) -> FakeScript:
    """What ``trial_program.py`` does, as a :class:`FakeScript` (for the fake executor)."""
    from tests.executors.trial_program import build_parser

    if not spec.argv or not Path(spec.argv[0]).exists():
        return FakeScript(launch_error=f"cannot start {spec.argv[:1]!r}")
    args = build_parser().parse_args(list(spec.argv[2:]))
    trial_dir = Path(spec.trial_dir)
    ckpt = trial_dir / "checkpoint" / "state.json"
    start = json.loads(ckpt.read_text())["epoch"] if ckpt.exists() else 0
    steps = tuple(
        FakeStep(at=args.sleep * (i + 1), step=epoch,
                 metrics={"loss": args.lr / epoch, "epoch": epoch},
                 files={"checkpoint/state.json": json.dumps({"epoch": epoch})})
        for i, epoch in enumerate(range(start + 1, args.epochs + 1))
    )
    return FakeScript(steps=steps, exit_code=args.exit_code,
                      duration=args.sleep * (len(steps) + 1))


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

    def _launch(self, executor: Executor, spec: LaunchSpec) -> None:
        slot = executor.reserve()
        assert slot is not None, "a free executor must hand out a slot"
        executor.launch(slot, spec)

    def _assert_gone(self, target: Target, trial_dir: str) -> None:
        if not target.real_processes:
            return
        pids = [int(x) for x in (Path(trial_dir) / "pids").read_text().split()]
        deadline = 50
        while any(_alive(p) for p in pids) and deadline:
            import time

            time.sleep(0.1)
            deadline -= 1
        assert not any(_alive(p) for p in pids), f"processes {pids} outlived their stop"

    @pytest.mark.parametrize("channel", ["file", "stdout"])
    def test_reports_arrive_in_order_then_exit(self, target: Target, executor: Executor,
                                              tmp_path: Path, channel: str) -> None:
        spec = make_spec(tmp_path, 1, "--epochs", "3", "--lr", "0.6", "--channel", channel)
        self._launch(executor, spec)
        assert 1 in executor.running()
        events = collect(executor, exited(1), target.wait)
        got = reports(events, 1)
        assert [r.step for r in got] == [1, 2, 3]
        assert [r.metrics["loss"] for r in got] == pytest.approx([0.6, 0.3, 0.2])
        (end,) = exits(events, 1)
        assert (end.exit_code, end.error_kind, end.stopped) == (0, None, False)
        assert events.index(end) > events.index(got[-1]), "the exit comes after the reports"
        assert executor.running() == set()
        if target.real_processes:
            env = json.loads((Path(spec.trial_dir) / "env.json").read_text())
            assert env["HPSWEEP_TRIAL_ID"] == "1"
            assert env["HPSWEEP_CHECKPOINT_DIR"] == spec.env["HPSWEEP_CHECKPOINT_DIR"]
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
            self._launch(executor, make_spec(tmp_path, tid, "--epochs", "2", "--lr", str(tid)))
        events = collect(executor, lambda ev: len(exits(ev)) == 2, target.wait)
        for tid in (1, 2):
            assert [r.metrics["loss"] for r in reports(events, tid)] == pytest.approx(
                [tid / 1, tid / 2])
            assert exits(events, tid)[0].exit_code == 0

    def test_stop_ends_the_whole_run(self, target: Target, executor: Executor,
                                     tmp_path: Path) -> None:
        spec = make_spec(tmp_path, 1, "--epochs", "500", "--sleep", "0.1")
        self._launch(executor, spec)
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
        spec = make_spec(tmp_path, 1, "--epochs", "500", "--sleep", "0.1", resource=500)
        self._launch(executor, spec)
        collect(executor, lambda ev: bool(reports(ev, 1)), target.wait)
        executor.stop(1)  # a PAUSE verdict
        collect(executor, exited(1), target.wait)
        ckpt = Path(spec.trial_dir) / "checkpoint" / "state.json"
        reached = json.loads(ckpt.read_text())["epoch"]
        assert reached >= 1
        resumed = make_spec(tmp_path, 1, "--epochs", str(reached + 2), resource=reached + 2)
        self._launch(executor, resumed)
        events = collect(executor, exited(1), target.wait)
        assert [r.step for r in reports(events, 1)] == [reached + 1, reached + 2]
        assert exits(events, 1)[0].exit_code == 0

    def test_resume_after_a_normal_exit(self, target: Target, executor: Executor,
                                        tmp_path: Path) -> None:
        self._launch(executor, make_spec(tmp_path, 4, "--epochs", "1", resource=1))
        assert [r.step for r in reports(collect(executor, exited(4), target.wait), 4)] == [1]
        self._launch(executor, make_spec(tmp_path, 4, "--epochs", "3", resource=3))
        assert [r.step for r in reports(collect(executor, exited(4), target.wait), 4)] == [2, 3]

    def test_crash_reports_the_exit_code(self, target: Target, executor: Executor,
                                         tmp_path: Path) -> None:
        self._launch(executor, make_spec(tmp_path, 1, "--epochs", "1", "--exit-code", "3"))
        events = collect(executor, exited(1), target.wait)
        (end,) = exits(events, 1)
        assert (end.exit_code, end.error_kind, end.stopped) == (3, None, False)
        assert [r.step for r in reports(events, 1)] == [1]

    def test_timeout_kills_and_says_so(self, target: Target, executor: Executor,
                                       tmp_path: Path) -> None:
        spec = make_spec(tmp_path, 1, "--epochs", "500", "--sleep", "0.1", timeout=2.0)
        self._launch(executor, spec)
        events = collect(executor, exited(1), target.wait)
        (end,) = exits(events, 1)
        assert end.error_kind is ErrorKind.TIMEOUT
        assert end.stopped is False
        assert reports(events, 1), "reports before the timeout still arrive"
        self._assert_gone(target, spec.trial_dir)

    def test_launch_failure_is_an_exit(self, target: Target, executor: Executor,
                                       tmp_path: Path) -> None:
        spec = LaunchSpec(trial_id=1, argv=(str(tmp_path / "no-such-program"),),
                          trial_dir=str(tmp_path / "trials" / "1"), cwd=str(tmp_path))
        self._launch(executor, spec)
        (end,) = exits(collect(executor, exited(1), target.wait), 1)
        assert end.error_kind is ErrorKind.LAUNCH or end.exit_code not in (0, None)
        assert executor.running() == set()

    def test_lost_worker_ends_with_lost(self, target: Target, tmp_path: Path) -> None:
        executor = target.make(slots=2, on_worker=True)
        try:
            self._launch(executor, make_spec(tmp_path, 7, "--epochs", "500", "--sleep", "0.1"))
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
        spec = make_spec(tmp_path, 1, "--epochs", "500", "--sleep", "0.1")
        self._launch(executor, spec)
        collect(executor, lambda ev: bool(reports(ev, 1)), target.wait)
        executor.shutdown(kill=True)
        self._assert_gone(target, spec.trial_dir)
