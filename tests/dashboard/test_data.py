"""What the study page draws, computed from a study written through the store."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from hpsweep.dashboard._data import clean, learning_marks, seed_groups, study_bundle, timeline
from hpsweep.results import load_study_data
from hpsweep.store import Event


def test_clean_makes_strict_json() -> None:
    value = clean({"a": math.nan, "b": (1, math.inf), "c": {"d": -math.inf, 2: "x"}})
    assert value == {"a": None, "b": [1, None], "c": {"d": None, "2": "x"}}
    json.dumps(value, allow_nan=False)


def test_summary_counts_and_best(synthetic_study: Path) -> None:
    bundle = study_bundle(load_study_data(synthetic_study), "0")
    summary = bundle["summary"]
    assert summary["counts"] == {"completed": 3, "stopped": 1, "failed": 1}
    assert summary["n_trials"] == 5
    # trials 0 and 2 are one configuration (0.4 and 0.3): it ranks by its mean, 0.35, never by
    # its luckier run; it ties with trial 4's 0.35 and its first run came first
    best = summary["best"]
    assert best["trial_ids"] == [0, 2] and best["n"] == 2 and best["value"] == pytest.approx(0.35)
    assert best["sd"] == pytest.approx(0.0707107, abs=1e-6)
    assert bundle["params"] == {"lr": "number", "opt": "category"}
    assert [t["trial_id"] for t in bundle["trials"]] == [0, 1, 2, 3, 4]
    assert bundle["trials"][3]["error_kind"] == "crash"
    assert [r["step"] for r in bundle["trials"][4]["reports"]] == [1, 2, 3]
    json.dumps(bundle, allow_nan=False)


def test_timeline_has_one_segment_per_run_on_its_lane(synthetic_study: Path) -> None:
    segments = timeline(load_study_data(synthetic_study))
    assert len(segments) == 6  # five starts and one resume
    by_trial = {(s["trial_id"], s["kind"]): s for s in segments}
    assert by_trial[(0, "start")]["lane"] == "slot 0"
    assert by_trial[(0, "start")]["end"] - by_trial[(0, "start")]["start"] == 4.0
    assert by_trial[(4, "start")]["state"] == "paused"
    assert by_trial[(4, "resume")]["lane"] == "GPU 0 · slot 1"
    assert by_trial[(4, "resume")]["state"] == "completed"
    assert [s["start"] for s in segments] == sorted(s["start"] for s in segments)


def test_learning_marks_at_stops_pauses_and_resumes(synthetic_study: Path) -> None:
    found = learning_marks(load_study_data(synthetic_study))
    marks = {(m["trial_id"], m["kind"]): m for m in found}
    assert set(marks) == {(1, "stopped"), (4, "paused"), (4, "resumed")}
    assert (marks[(1, "stopped")]["step"], marks[(1, "stopped")]["value"]) == (1, 1.5)
    assert (marks[(4, "paused")]["step"], marks[(4, "paused")]["value"]) == (2, 0.5)
    assert marks[(4, "resumed")]["step"] == 2  # resumed from where it paused


def test_seed_groups_spread(synthetic_study: Path) -> None:
    groups = seed_groups(load_study_data(synthetic_study))
    assert len(groups) == 1
    group = groups[0]
    assert group["config"] == {"lr": 0.1, "opt": "sgd"}
    assert sorted(r["seed"] for r in group["runs"]) == [11, 13]
    assert group["n"] == 2
    assert math.isclose(group["mean"], 0.35)
    assert math.isclose(group["sd"], math.sqrt(2) * 0.05)
    assert math.isclose(group["sem"], 0.05)


def test_seed_study_groups_by_config_without_the_seed_parameter(synthetic_study: Path) -> None:
    (synthetic_study / "seeds.json").write_text(json.dumps({"seed_arg": "opt"}))
    groups = seed_groups(load_study_data(synthetic_study))
    configs = sorted(json.dumps(g["config"], sort_keys=True) for g in groups)
    assert configs == ['{"lr": 0.1}']
    assert sorted(r["seed"] for r in groups[0]["runs"]) == ["sgd", "sgd"]


def test_mark_keeps_the_step_the_scheduler_decided_at(synthetic_study: Path) -> None:
    data = load_study_data(synthetic_study)
    start, end = [e for e in data.events if e.trial_id == 1]
    others = tuple(e for e in data.events if e.trial_id != 1)
    decision = Event(99, 100.6, 1, "decision", {"decision": "stop", "resource": 1})
    marks = learning_marks(replace(data, events=(*others, start, decision, end)))
    by_kind = {(m["trial_id"], m["kind"]): m for m in marks}
    assert by_kind[(1, "stopped")]["decided_at"] == 1
    assert by_kind[(4, "paused")]["decided_at"] is None


def test_a_trial_advanced_step_by_step_keeps_only_its_stop_mark(tmp_path: Path) -> None:
    """DyHPO pauses and resumes a trial at every step: a mark at each would hide its curve."""
    from hpsweep.results import StudyData
    from hpsweep.trial import Report, TrialRecord, TrialState

    reports = [Report(0, step, {"loss": 1.0 / step}, float(10 * step), step - 1) for step in range(1, 8)]
    trial = TrialRecord(trial_id=0, config={"lr": 0.1}, state=TrialState.STOPPED, reports=reports,
                        last_metrics={"loss": 1.0 / 7})
    events, eid = [], 0
    for step in range(1, 7):  # paused after each step, resumed for the next one
        events.append(Event(eid, 10.0 * step + 1, 0, "end", {"state": "paused"}))
        events.append(Event(eid + 1, 10.0 * step + 2, 0, "resume", {}))
        eid += 2
    events.append(Event(eid, 71.0, 0, "end", {"state": "stopped"}))
    data = StudyData(root=tmp_path, name="dyhpo", metrics=("loss",), modes=("min",),
                     trials=(trial,), events=tuple(events), sweep={}, live=False)
    marks = learning_marks(data)
    assert [(m["kind"], m["step"]) for m in marks] == [("stopped", 7)]
    few = dataclasses.replace(data, events=(*events[:2], events[-1]))
    assert [m["kind"] for m in learning_marks(few)] == ["paused", "resumed", "stopped"]
