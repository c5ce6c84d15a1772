"""What the study page draws, computed from a study written through the store."""

from __future__ import annotations

import dataclasses
import itertools
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


def test_thin_reports_keeps_first_last_and_best_evenly_in_order() -> None:
    from hpsweep.dashboard._data import thin_reports
    from hpsweep.trial import Report

    # a noisy descending curve whose best value is at step 613 (not a spaced point); step 0
    # carries no loss, the last report carries only an accuracy
    reports = [Report(0, 0, {"acc": 0.0}, 0.0, 0)]
    reports += [Report(0, s, {"loss": (0.01 if s == 613 else 1.0 + 1.0 / s)}, float(s), s)
                for s in range(1, 1000)]
    reports.append(Report(0, 1000, {"acc": 1.0}, 1000.0, 1000))
    kept = thin_reports(reports, "loss", "min", 50)
    steps = [r.step for r in kept]
    assert len(kept) == 50 and steps == sorted(steps)
    assert {0, 1, 613, 999, 1000} <= set(steps)
    gaps = [b - a for a, b in itertools.pairwise(steps)]
    assert max(gaps) <= 2 * 1000 / 45  # the rest spread over the curve, no long hole
    best_max = thin_reports(reports, "loss", "max", 10)
    assert 1 in [r.step for r in best_max] and len(best_max) == 10  # 1 + 1/1 is the largest
    assert thin_reports(reports[:30], "loss", "min", 50) == reports[:30]


def test_export_bounds_the_curves_and_keeps_the_live_answers(tmp_path: Path) -> None:
    """One trial with 3,000 reports among short ones: its curve on the study page and its trial
    page are thinned (first, last, best kept, ``n_reports`` the full count); the short trials'
    pages are the live server's answers unchanged."""
    from hpsweep.dashboard import Dashboard, export_html
    from hpsweep.dashboard._data import CURVE_MAX, DETAIL_MAX
    from hpsweep.store import Store, StudyDir
    from hpsweep.trial import Report, TrialRecord, TrialState

    study = StudyDir(tmp_path / "long")
    study.root.mkdir()
    study.write_sweep({"format": 1, "options": {"metrics": ["loss"], "modes": ["min"]}})
    store = Store.create(study.db, name="long", spec={})
    with store.batch():
        for tid, n in enumerate([3000, 4, 5, 6]):
            trial = TrialRecord(trial_id=tid, config={"lr": 0.1 * (tid + 1)},
                                state=TrialState.COMPLETED, created=1.0, started=1.0,
                                finished=2.0 + n)
            store.add_trial(trial)
            for step in range(1, n + 1):
                loss = 0.001 if (tid, step) == (0, 1777) else 1.0 + 1.0 / step
                store.add_report(Report(tid, step, {"loss": loss, "lr_now": 0.1}, 1.0 + step,
                                        step - 1))
            trial.last_metrics = {"loss": 1.0 + 1.0 / n}
            store.update_trial(trial, event="end", time=2.0 + n, data={"state": "completed"})
    store.close()
    app = Dashboard(studies=[study.root])
    html = export_html(app, tmp_path / "out.html").read_text()
    start = html.index("window.HPSWEEP_EMBED = ") + len("window.HPSWEEP_EMBED = ")
    answers = json.loads(html[start:html.index(";</script>", start)])["answers"]
    rows = {t["trial_id"]: t for t in answers["/api/studies/0"]["trials"]}
    curve = [r["step"] for r in rows[0]["reports"]]
    assert len(curve) == CURVE_MAX and {1, 1777, 3000} <= set(curve) and rows[0]["n_reports"] == 3000
    assert all(set(r["metrics"]) == {"loss"} for r in rows[0]["reports"])  # the objective only
    assert [r["step"] for r in rows[1]["reports"]] == [1, 2, 3, 4]
    page = answers["/api/studies/0/trials/0"]["trial"]
    assert len(page["reports"]) == DETAIL_MAX and page["n_reports"] == 3000
    assert {1, 1777, 3000} <= {r["step"] for r in page["reports"]}
    assert set(page["reports"][0]["metrics"]) == {"loss", "lr_now"}
    for tid in (1, 2, 3):
        path = f"/api/studies/0/trials/{tid}"
        assert answers[path] == json.loads(app.get(path, {}).body)
    live = json.loads(app.get("/api/studies/0", {}).body)
    assert len(live["trials"][0]["reports"]) == 3000  # the live page is not thinned


def test_every_exported_answer_is_the_live_servers(real_study: Path, tmp_path: Path) -> None:
    """A real study (trial folders with logs and manifests, short curves that need no
    thinning): the study list, the importance and every trial page in the file are the answers
    the live server gives, built in one pass instead of one request each."""
    from hpsweep.dashboard import Dashboard, export_html

    app = Dashboard(studies=[real_study])
    html = export_html(app, tmp_path / "out.html").read_text()
    start = html.index("window.HPSWEEP_EMBED = ") + len("window.HPSWEEP_EMBED = ")
    answers = json.loads(html[start:html.index(";</script>", start)])["answers"]
    pages = [p for p in answers if "/trials/" in p]
    assert pages and len(pages) == len(answers["/api/studies/0"]["trials"])
    for path in ["/api/studies", "/api/studies/0/importance", *pages]:
        assert answers[path] == json.loads(app.get(path, {}).body), path
    page = answers[pages[0]]
    assert page["argv"] and page["files"] and page["history"]
