"""FunctionExecutor: objectives in child processes, reports over a pipe, pruning, timeouts."""

from __future__ import annotations

import operator
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hpsweep.errors import UsageError
from hpsweep.executors.base import ExecutorEvent, ExitEvent, LaunchSpec, ReportEvent
from hpsweep.executors.function import FunctionExecutor, TrialHandle, TrialPruned, accepts_trial
from hpsweep.trial import ErrorKind


def run_all(executor: FunctionExecutor, specs: list[LaunchSpec], *, stop_after_report: set[int]
            = frozenset(), limit: float = 30.0) -> list[ExecutorEvent]:  # type: ignore[assignment]
    """Launch every spec (as slots free up) and collect events until all have exited."""
    queue = list(specs)
    events: list[ExecutorEvent] = []
    deadline = time.monotonic() + limit
    while queue or executor.running():
        while queue:
            slot = executor.reserve()
            if slot is None:
                break
            executor.launch(slot, queue.pop(0))
        for event in executor.poll(0.05):
            events.append(event)
            if isinstance(event, ReportEvent) and event.trial_id in stop_after_report:
                executor.stop(event.trial_id)
        assert time.monotonic() < deadline, f"trials still running: {executor.running()}"
    return events


def spec(trial_id: int, config: dict[str, Any], tmp: Path, timeout: float | None = None
         ) -> LaunchSpec:
    return LaunchSpec(trial_id=trial_id, argv=(), trial_dir=str(tmp / f"{trial_id:04d}"),
                      config=config, timeout=timeout, resource=5)


def exits(events: list[ExecutorEvent]) -> dict[int, ExitEvent]:
    return {e.trial_id: e for e in events if isinstance(e, ExitEvent)}


def square(params: dict[str, Any]) -> float:
    return float(params["x"]) ** 2


def test_a_plain_objective_reports_its_value_and_exits_cleanly(tmp_path: Path) -> None:
    executor = FunctionExecutor(square, n_workers=2, metric="loss")
    events = run_all(executor, [spec(0, {"x": 3.0}, tmp_path), spec(1, {"x": -2.0}, tmp_path)])
    reports = {e.trial_id: e.metrics for e in events if isinstance(e, ReportEvent)}
    assert reports == {0: {"loss": 9.0}, 1: {"loss": 4.0}}
    assert {t: (e.exit_code, e.stopped, e.error_kind) for t, e in exits(events).items()} == \
        {0: (0, False, None), 1: (0, False, None)}
    assert executor.running() == set()


def reporting(params: dict[str, Any], trial: TrialHandle) -> dict[str, float]:
    for step in range(1, 6):
        trial.report({"loss": 10.0 - step, "step_seen": float(trial.resource or 0)}, step)
        if trial.should_prune():
            raise TrialPruned()
    return {"loss": 0.0, "acc": 1.0}


def test_reports_flow_with_their_steps_and_a_dict_result(tmp_path: Path) -> None:
    executor = FunctionExecutor(reporting, metric="loss")
    events = run_all(executor, [spec(0, {}, tmp_path)])
    steps = [e.step for e in events if isinstance(e, ReportEvent)]
    assert steps == [1, 2, 3, 4, 5, None]
    final = [e for e in events if isinstance(e, ReportEvent)][-1]
    assert final.metrics == {"loss": 0.0, "acc": 1.0}
    assert next(e for e in events if isinstance(e, ReportEvent)).metrics["step_seen"] == 5.0


def test_stop_makes_should_prune_true_right_after_the_report(tmp_path: Path) -> None:
    executor = FunctionExecutor(reporting, metric="loss")
    events = run_all(executor, [spec(0, {}, tmp_path)], stop_after_report={0})
    reports = [e for e in events if isinstance(e, ReportEvent)]
    assert [r.step for r in reports] == [1]  # the trial saw the stop before its second report
    end = exits(events)[0]
    assert end.stopped and end.exit_code == 0 and end.error_kind is None


def stubborn(params: dict[str, Any], trial: TrialHandle) -> float:
    trial.report(1.0, 1)
    time.sleep(60)
    return 0.0


def test_a_trial_that_ignores_the_stop_is_killed_after_the_grace(tmp_path: Path) -> None:
    executor = FunctionExecutor(stubborn, stop_grace=0.3)
    start = time.monotonic()
    events = run_all(executor, [spec(0, {}, tmp_path)], stop_after_report={0})
    assert time.monotonic() - start < 10
    assert exits(events)[0].stopped


def crash(params: dict[str, Any]) -> float:
    print("about to fail")
    raise ValueError(f"bad x={params['x']}")


def test_an_exception_is_a_crash_with_its_message_and_traceback(tmp_path: Path) -> None:
    executor = FunctionExecutor(crash)
    events = run_all(executor, [spec(0, {"x": 1}, tmp_path)])
    end = exits(events)[0]
    assert end.exit_code == 1 and not end.stopped
    assert "ValueError: bad x=1" in end.message
    trial_dir = tmp_path / "0000"
    assert "Traceback" in (trial_dir / "stderr.log").read_text()
    assert "about to fail" in (trial_dir / "stdout.log").read_text()


def hang_with_child(params: dict[str, Any]) -> float:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    Path(params["pidfile"]).write_text(f"{os.getpid()} {child.pid}")
    time.sleep(60)
    return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0: look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_timeout_kills_a_stuck_trial_and_what_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    executor = FunctionExecutor(hang_with_child)
    start = time.monotonic()
    events = run_all(executor, [spec(0, {"pidfile": str(pidfile)}, tmp_path, timeout=1.0)])
    took = time.monotonic() - start
    end = exits(events)[0]
    assert end.error_kind is ErrorKind.TIMEOUT and "timeout" in end.message
    assert 0.9 <= took < 8
    worker, grandchild = (int(p) for p in pidfile.read_text().split())
    deadline = time.monotonic() + 5
    while (_alive(worker) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker) and not _alive(grandchild)


def sleeper(params: dict[str, Any]) -> dict[str, float]:
    start = time.time()
    time.sleep(float(params["s"]))
    return {"objective": float(os.getpid()), "start": start, "end": time.time()}


def test_trials_run_in_parallel_processes(tmp_path: Path) -> None:
    executor = FunctionExecutor(sleeper, n_workers=2)
    events = run_all(executor, [spec(i, {"s": 1.0}, tmp_path) for i in range(2)])
    results = [e.metrics for e in events if isinstance(e, ReportEvent)]
    pids = {m["objective"] for m in results}
    assert len(pids) == 2 and os.getpid() not in pids
    first, second = sorted((m["start"], m["end"]) for m in results)
    assert second[0] < first[1], "the two trials did not overlap in time"


def test_slots_are_limited_to_n_workers(tmp_path: Path) -> None:
    executor = FunctionExecutor(sleeper, n_workers=2)
    first, second = executor.reserve(), executor.reserve()
    assert first is not None and second is not None and first.worker_id != second.worker_id
    assert executor.reserve() is None
    executor.release(second)
    assert executor.reserve() is not None
    executor.shutdown(kill=True)


def test_a_none_result_without_pruning_is_an_error(tmp_path: Path) -> None:
    executor = FunctionExecutor(lambda p: None)
    end = exits(run_all(executor, [spec(0, {}, tmp_path)]))[0]
    assert end.exit_code == 1 and "returned None" in end.message


def test_accepts_trial_reads_the_signature() -> None:
    assert not accepts_trial(square)
    assert accepts_trial(reporting)
    assert accepts_trial(lambda p, t=None: 0.0)
    assert not accepts_trial(lambda p: 0.0)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"n_workers": 0}, "n_workers"),
    ({"stop_grace": -1.0}, "stop_grace"),
    ({"start_method": "teleport"}, "start_method"),
])
def test_bad_options_are_usage_errors(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        FunctionExecutor(square, **kwargs)


def test_spawn_runs_an_importable_objective(tmp_path: Path) -> None:
    executor = FunctionExecutor(operator.itemgetter("x"), start_method="spawn", metric="y")
    events = run_all(executor, [spec(0, {"x": 3.5}, tmp_path)], limit=60.0)
    reports = [e for e in events if isinstance(e, ReportEvent)]
    assert [r.metrics for r in reports] == [{"y": 3.5}]
    assert exits(events)[0].exit_code == 0
