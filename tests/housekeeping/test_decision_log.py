"""The decision log of a promotion-Hyperband sweep agrees with the trials' report histories."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from hpsweep.cli.main import main
from hpsweep.store import Event, Store
from hpsweep.trial import Report, TrialRecord, TrialState
from tests.conftest import PY
from tests.housekeeping import scripts

RUNG_STEPS = (1, 3, 9)


def _runs(events: list[Event], trial_id: int) -> list[tuple[Event, Event]]:
    """(start-or-resume event, end event) of every run of one trial, in order."""
    mine = [e for e in events if e.trial_id == trial_id and e.kind in ("start", "resume", "end")]
    assert mine[0].kind == "start"
    pairs = list(zip(mine[0::2], mine[1::2], strict=True))
    assert all(a.kind in ("start", "resume") and b.kind == "end" for a, b in pairs)
    return pairs


def _check_trial(trial: TrialRecord, events: list[Event], trial_dir: Path) -> dict[str, int]:
    counts = {"pause": 0, "stop": 0, "resume": 0}
    decisions = [e for e in events if e.trial_id == trial.trial_id and e.kind == "decision"]
    reports: list[Report] = trial.reports
    assert [r.step for r in reports] == list(range(1, len(reports) + 1))  # no step lost or repeated
    runs = _runs(events, trial.trial_id)
    assert len(runs) == trial.runs
    previous_rung = 0
    for launch, end in runs:
        target = launch.data["resource"]
        assert target in RUNG_STEPS
        in_run = [r for r in reports if launch.time <= r.time <= end.time]
        assert in_run, f"trial {trial.trial_id}: a run without reports"
        if launch.kind == "resume":
            counts["resume"] += 1
            assert in_run[0].step == previous_rung + 1  # continues from its checkpoint
        else:
            assert in_run[0].step == 1
        last = in_run[-1].step
        assert last is not None
        state = end.data["state"]
        if state == "paused":
            counts["pause"] += 1
            assert last == target == end.data["resource"]  # paused at the rung
            pause = [d for d in decisions if d.data["decision"] == "pause" and launch.time <= d.time <= end.time]
            assert len(pause) == 1 and pause[0].data["resource"] == target
        elif state == "stopped":
            counts["stop"] += 1
            assert any(d.data["decision"] == "stop" and launch.time <= d.time <= end.time for d in decisions)
        else:
            assert state == "completed" and last == target == 9
        previous_rung = last
    retired = [e for e in events if e.trial_id == trial.trial_id and e.kind == "retire"]
    if retired:  # stopped after its last run, when it could no longer be promoted
        assert len(retired) == 1 and trial.state is TrialState.STOPPED
        assert retired[0].data["reason"] == trial.error
        assert any(d.data["decision"] == "stop" and d.time >= runs[-1][1].time for d in decisions)
        counts["stop"] += 1
    starts_from = [line.split() for line in (trial_dir / "runs.txt").read_text().splitlines()]
    assert [(int(a), int(b)) for a, b in starts_from] == \
        [(0 if i == 0 else runs[i - 1][1].data["resource"], launch.data["resource"])
         for i, (launch, _) in enumerate(runs)]
    return counts


def test_promotion_decision_log_matches_report_histories(tmp_path: Path) -> None:
    (tmp_path / "mf.py").write_text(scripts.CHECKPOINTING)
    assert main(["run", "--out", str(tmp_path / "s"), "--parallel", "2", "--metric", "loss",
                 "--seed", "3", "--scheduler", "promotion", "--resource-arg", "epochs",
                 "--max-resource", "9", "--min-resource", "1", "--reduction-factor", "3",
                 "--num-trials", "9", "--quiet", "--", PY, str(tmp_path / "mf.py"),
                 "--x", "uniform(0, 1)"]) == 0
    store = Store.open(tmp_path / "s" / "study.db", readonly=True)
    trials, events = store.trials(), store.events()
    store.close()
    assert len(trials) == 9
    totals: dict[str, int] = defaultdict(int)
    for trial in trials:
        for key, n in _check_trial(trial, events, Path(trial.trial_dir)).items():
            totals[key] += n
    logged = [e.data["decision"] for e in events if e.kind == "decision"]
    assert logged.count("pause") == totals["pause"] >= 9  # every trial paused at least once
    assert logged.count("stop") == totals["stop"]
    assert sum(1 for e in events if e.kind == "resume") == totals["resume"] >= 2
    assert any(t.state is TrialState.COMPLETED for t in trials)
    # the same log, exported as CSV
    assert main(["report", str(tmp_path / "s"), "--decisions-csv", str(tmp_path / "log.csv")]) == 0
    with (tmp_path / "log.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert sum(1 for r in rows if r["kind"] == "decision" and r["decision"] == "pause") == totals["pause"]
    assert sum(1 for r in rows if r["kind"] == "resume") == totals["resume"]
