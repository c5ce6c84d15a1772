"""``hpsweep gc`` and ``hpsweep rm``: list by default, delete exactly the chosen folders, refuse
what a live controller may need and folders that are not studies."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hpsweep.cli.main import main
from hpsweep.errors import StudyError, UsageError
from hpsweep.results import load_study_data
from hpsweep.store import Store, StudyDir
from hpsweep.trial import TrialRecord, TrialState
from hpsweep.tuner.housekeeping import GcRule, parse_age, plan_gc
from tests.conftest import PY
from tests.housekeeping import scripts


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """Six trials: x=0..3 complete with loss (x-1)^2, x=4 crashes, x=5 reports NaN."""
    (tmp_path / "mixed.py").write_text(scripts.MIXED)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--out", "s", "--parallel", "2", "--metric", "loss", "--quiet", "--",
                 PY, "mixed.py", "--x", "range(0, 6)"]) == 0
    capsys.readouterr()
    return tmp_path / "s"


def _trials(root: Path) -> list[TrialRecord]:
    store = Store.open(root / "study.db", readonly=True)
    try:
        return store.trials()
    finally:
        store.close()


def _folders(root: Path) -> set[int]:
    return {int(p.name) for p in (root / "trials").iterdir()}


def test_gc_lists_then_deletes_exactly_the_chosen_folders(study: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    trials = _trials(study)
    by_x = {int(t.config["x"]): t.trial_id for t in trials}
    failed = {t.trial_id for t in trials if t.state is TrialState.FAILED}
    assert failed == {by_x[4], by_x[5]}
    db = (study / "study.db").read_bytes()
    assert main(["gc", str(study), "--failed"]) == 0
    listed = capsys.readouterr().out
    assert "would delete 2 trial folders" in listed and "--yes" in listed
    assert _folders(study) == set(range(6))  # the dry run deleted nothing
    assert main(["gc", str(study), "--failed", "--dry-run"]) == 0
    assert _folders(study) == set(range(6))
    assert main(["gc", str(study), "--failed", "--yes"]) == 0
    assert "deleted 2 trial folders" in capsys.readouterr().out
    assert _folders(study) == set(range(6)) - failed
    # keep the 2 best of the ended trials with a value: x=1 (loss 0) and x=0 or x=2 (loss 1)
    assert main(["gc", str(study), "--keep-best", "2", "--yes"]) == 0
    assert _folders(study) == {by_x[1], by_x[0]}  # ties go by trial id
    assert (study / "study.db").read_bytes() == db and (study / "sweep.json").is_file()
    assert len(_trials(study)) == 6


def test_gc_older_than_and_paused(study: Path) -> None:
    data = load_study_data(study)
    now = time.time()
    assert plan_gc(data, GcRule(older_than=3600.0), now=now).delete == ()
    later = plan_gc(data, GcRule(older_than=3600.0), now=now + 7200.0)
    assert len(later.delete) == 6
    narrowed = plan_gc(data, GcRule(failed=True, older_than=3600.0), now=now + 7200.0)
    assert {t.state for t in narrowed.delete} == {TrialState.FAILED}


def test_gc_under_a_live_controller(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = StudyDir(study)
    holder.acquire()
    try:
        assert main(["gc", str(study), "--failed", "--include-paused", "--yes"]) == 2
        assert "held by a live controller" in capsys.readouterr().err
        # ended trials only, but ones that ended just now are spared
        assert main(["gc", str(study), "--failed", "--yes"]) == 0
        out = capsys.readouterr().out
        assert "spared trial" in out and "no trial folder to delete" in out
        assert _folders(study) == set(range(6))
        data = load_study_data(study)
        assert data.live
        plan = plan_gc(data, GcRule(failed=True), now=time.time() + 60.0)
        assert {t.state for t in plan.delete} == {TrialState.FAILED} and len(plan.delete) == 2
        with pytest.raises(StudyError, match="include-paused"):
            plan_gc(data, GcRule(failed=True, include_paused=True))
    finally:
        holder.release()


def test_gc_never_touches_running_or_paused(study: Path) -> None:
    data = load_study_data(study)
    trials = list(data.trials)
    trials[0].state = TrialState.PAUSED
    trials[1].state = TrialState.RUNNING
    from dataclasses import replace

    changed = replace(data, trials=tuple(trials))
    ids = {t.trial_id for t in plan_gc(changed, GcRule(older_than=0.0)).delete}
    assert trials[0].trial_id not in ids and trials[1].trial_id not in ids and len(ids) == 4
    ids = {t.trial_id for t in plan_gc(changed, GcRule(older_than=0.0, include_paused=True)).delete}
    assert trials[0].trial_id in ids and trials[1].trial_id not in ids


@pytest.mark.parametrize("args,message", [
    ([], "nothing to collect by"),
    (["--keep-best", "-1"], "--keep-best must be >= 0, got -1"),
    (["--older-than", "3 days"], "--older-than '3 days': write a number and a unit"),
])
def test_gc_bad_input(tmp_path: Path, args: list[str], message: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("text,seconds", [("90", 90.0), ("30s", 30.0), ("15m", 900.0),
                                          ("12h", 43200.0), ("7d", 604800.0), ("2w", 1209600.0),
                                          ("1.5h", 5400.0)])
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


def test_parse_age_rejects() -> None:
    with pytest.raises(UsageError, match="unit s, m, h, d or w"):
        parse_age("-3h")


def test_rm_refuses_a_held_study_then_removes_it(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = StudyDir(study)
    holder.acquire()
    try:
        assert main(["rm", str(study), "--yes"]) == 2
        assert "held by a live controller" in capsys.readouterr().err
        assert (study / "study.db").is_file()
    finally:
        holder.release()
    assert main(["rm", str(study)]) == 0
    assert "would remove study" in capsys.readouterr().out and (study / "study.db").is_file()
    assert main(["rm", str(study), "--yes"]) == 0
    assert not study.exists()


def test_rm_refuses_what_is_not_a_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("keep me")
    assert main(["rm", str(plain), "--yes"]) == 2
    assert "not an hpsweep study folder" in capsys.readouterr().err
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "study.db").write_text("not a database")
    assert main(["rm", str(fake), "--yes"]) == 2
    assert "not a readable hpsweep study store" in capsys.readouterr().err
    assert (plain / "notes.txt").is_file() and (fake / "study.db").is_file()
    assert main(["rm", str(tmp_path / "missing"), "--yes"]) == 2


def test_rm_refuses_a_link(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = study.parent / "link"
    link.symlink_to(study)
    assert main(["rm", str(link), "--yes"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert (study / "study.db").is_file()
