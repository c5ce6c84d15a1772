"""The fake executor's own promises: simulated time, files written by steps, launch errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpsweep.errors import UsageError
from hpsweep.executors.base import ExitEvent, LaunchSpec, ReportEvent
from hpsweep.executors.fake import FakeExecutor, FakeScript, FakeStep, SimClock
from hpsweep.trial import ErrorKind


def _program(spec: LaunchSpec) -> FakeScript:
    if spec.config.get("broken"):
        return FakeScript(launch_error="no such program")
    steps = tuple(FakeStep(at=10.0 * i, step=i, metrics={"loss": 1.0 / i},
                           files={"last.txt": str(i)}) for i in (1, 2, 3))
    return FakeScript(steps=steps, exit_code=0, duration=35.0)


def test_simulated_time_jumps_to_each_event(tmp_path: Path) -> None:
    clock = SimClock()
    executor = FakeExecutor(program=_program, slots=1, clock=clock)
    spec = LaunchSpec(trial_id=1, argv=("x",), trial_dir=str(tmp_path / "1"))
    executor.launch(executor.reserve() or pytest.fail("no slot"), spec)
    times, steps = [], []
    while executor.running():
        for event in executor.poll(100.0):
            times.append(event.time)
            if isinstance(event, ReportEvent):
                steps.append(event.step)
    assert steps == [1, 2, 3]
    assert times == [10.0, 20.0, 30.0, 35.0]
    assert (tmp_path / "1" / "last.txt").read_text() == "3"
    assert executor.launches == [spec]


def test_timeout_and_launch_error_in_simulated_time(tmp_path: Path) -> None:
    executor = FakeExecutor(program=_program, slots=2, clock=SimClock())
    executor.launch(executor.reserve() or pytest.fail("no slot"),
                    LaunchSpec(trial_id=1, argv=("x",), trial_dir="", timeout=15.0))
    executor.launch(executor.reserve() or pytest.fail("no slot"),
                    LaunchSpec(trial_id=2, argv=("x",), trial_dir="", config={"broken": True}))
    events = []
    while executor.running():
        events.extend(executor.poll(100.0))
    ends = {e.trial_id: e for e in events if isinstance(e, ExitEvent)}
    assert ends[1].error_kind is ErrorKind.TIMEOUT and ends[1].time == 15.0
    assert ends[2].error_kind is ErrorKind.LAUNCH and ends[2].message == "no such program"
    assert [e.step for e in events if isinstance(e, ReportEvent)] == [1]


def test_bad_arguments() -> None:
    with pytest.raises(UsageError, match="slots must be >= 1"):
        FakeExecutor(program=_program, slots=0)
    with pytest.raises(ValueError, match="cannot go back"):
        SimClock().advance(-1.0)
