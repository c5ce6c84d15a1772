"""The simulated executor: reports at the benchmark's times, resumes continue, stops drop events."""

from __future__ import annotations

import pytest

from hpsweep.bench.functions import CrossingCurves
from hpsweep.errors import UsageError
from hpsweep.executors.base import ExitEvent, LaunchSpec, ReportEvent
from hpsweep.executors.simulated import SimulatedExecutor, SimulatedLauncher
from hpsweep.trial import TrialRecord, TrialState

BENCH = CrossingCurves(dim=2, max_resource=10)
SLOW = {"x0": 1.0, "x1": 0.5}  # 2 s per epoch
FAST = {"x0": 0.0, "x1": 0.5}  # 1 s per epoch


def _spec(trial_id: int, config: dict, resource: int | None) -> LaunchSpec:
    return LaunchSpec(trial_id=trial_id, argv=(), trial_dir="", resource=resource, config=config)


def _drain(ex: SimulatedExecutor) -> list[tuple[float, str, int, int | None]]:
    out = []
    while events := ex.poll(0):
        for e in events:
            kind = "report" if isinstance(e, ReportEvent) else "exit"
            out.append((e.time, kind, e.trial_id, e.step if isinstance(e, ReportEvent) else None))
    return out


def test_reports_arrive_at_the_benchmarks_times() -> None:
    ex = SimulatedExecutor(BENCH, n_workers=2, seed=0)
    ex.launch(ex.reserve(), _spec(0, SLOW, 2))  # type: ignore[arg-type]
    ex.launch(ex.reserve(), _spec(1, FAST, 3))  # type: ignore[arg-type]
    assert ex.reserve() is None  # both workers busy
    assert _drain(ex) == [
        (1.0, "report", 1, 1), (2.0, "report", 0, 1), (2.0, "report", 1, 2),
        (3.0, "report", 1, 3), (3.0, "exit", 1, None), (4.0, "report", 0, 2), (4.0, "exit", 0, None),
    ]
    assert ex.clock.now() == 4.0 and ex.running() == set()
    assert ex.reserve() is not None


def test_poll_returns_every_event_of_one_time_stamp() -> None:
    ex = SimulatedExecutor(BENCH, n_workers=2)
    ex.launch(ex.reserve(), _spec(0, FAST, 1))  # type: ignore[arg-type]
    ex.launch(ex.reserve(), _spec(1, FAST, 1))  # type: ignore[arg-type]
    first = ex.poll(0)
    assert {e.time for e in first} == {1.0} and len(first) == 4
    assert ex.poll(0) == []


def test_resume_continues_the_curve_and_charges_only_new_epochs() -> None:
    ex = SimulatedExecutor(BENCH, n_workers=1)
    ex.launch(ex.reserve(), _spec(0, SLOW, 2))  # type: ignore[arg-type]
    first = _drain(ex)
    assert first[-1][0] == 4.0 and ex.trained(0) == 2
    ex.launch(ex.reserve(), _spec(0, SLOW, 4))  # type: ignore[arg-type]
    events = [e for e in ex.poll(0)]
    assert isinstance(events[0], ReportEvent) and events[0].step == 3
    assert events[0].time == pytest.approx(6.0)  # 4 s so far + one 2 s epoch
    assert events[0].metrics["loss"] == pytest.approx(BENCH.loss(SLOW, 3))


def test_stop_drops_future_events_and_exits_now() -> None:
    ex = SimulatedExecutor(BENCH, n_workers=1)
    ex.launch(ex.reserve(), _spec(0, FAST, 10))  # type: ignore[arg-type]
    assert [e.step for e in ex.poll(0)] == [1]  # type: ignore[union-attr]
    ex.stop(0)
    events = ex.poll(0)
    assert events == [ExitEvent(trial_id=0, exit_code=None, time=1.0, stopped=True)]
    assert ex.poll(0) == [] and ex.running() == set() and ex.trained(0) == 1
    ex.stop(0)  # stopping an ended trial does nothing
    assert ex.poll(0) == []


def test_launcher_copies_progress_for_checkpoint_from() -> None:
    ex = SimulatedExecutor(BENCH, n_workers=1)
    ex.launch(ex.reserve(), _spec(0, FAST, 3))  # type: ignore[arg-type]
    _drain(ex)
    launcher = SimulatedLauncher(ex)
    donor = TrialRecord(0, FAST, TrialState.PAUSED, resource=3)
    trial = TrialRecord(1, SLOW, TrialState.RUNNING, resource=5)
    spec = launcher.build(trial, ex.reserve(), resume=True, checkpoint_from=donor)  # type: ignore[arg-type]
    assert ex.trained(1) == 3 and spec.resource == 5 and spec.config == SLOW


def test_validation() -> None:
    with pytest.raises(UsageError, match="n_workers"):
        SimulatedExecutor(BENCH, n_workers=0)
    ex = SimulatedExecutor(BENCH, n_workers=2)
    ex.launch(ex.reserve(), _spec(0, FAST, 2))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="already running"):
        ex.launch(ex.reserve(), _spec(0, FAST, 2))  # type: ignore[arg-type]


def test_noise_is_seeded() -> None:
    bench = CrossingCurves(dim=2, max_resource=5, noise=0.1)
    a = bench.evaluate(FAST, [1, 2], seed=3)
    assert a == bench.evaluate(FAST, [1, 2], seed=3)
    assert a != bench.evaluate(FAST, [1, 2], seed=4)



def test_the_queue_holds_one_entry_per_run_however_many_runs_were_stopped() -> None:
    """Only each run's next event is queued: stopped runs leave at most their one entry, so the
    queue (and a poll) does not grow with the number of trials a study has stopped."""
    ex = SimulatedExecutor(BENCH, n_workers=4, seed=0)
    started = 0
    while started < 400:
        while started < 400 and (slot := ex.reserve()) is not None:
            ex.launch(slot, _spec(started, FAST, 10))
            started += 1
        for event in ex.poll(0):
            if isinstance(event, ReportEvent):
                ex.stop(event.trial_id)  # 9 of its 10 reports never arrive
        assert len(ex._queue) <= 2 * ex.n_workers
        assert ex.pending() <= 11 * ex.n_workers
    assert _drain(ex) and ex.running() == set() and ex.pending() == 0
