"""Seeds of repetitions: distinct, reproducible for a study seed, passed as argument and in the
environment; repetitions run in laps."""

from __future__ import annotations

from pathlib import Path

from hpsweep.cli.main import main
from hpsweep.store import Store
from hpsweep.trial import TrialRecord, TrialState
from tests.conftest import PY
from tests.housekeeping import scripts


def _sweep(root: Path, name: str, seed: int) -> list[TrialRecord]:
    assert main(["run", "--out", str(root / name), "--metric", "loss", "--seed", str(seed),
                 "--seed-arg", "seed", "--repetitions", "3", "--quiet", "--",
                 PY, str(root / "seeded.py"), "--x", "[1, 2, 3]"]) == 0
    store = Store.open(root / name / "study.db", readonly=True)
    try:
        return store.trials()
    finally:
        store.close()


def test_repetition_seeds_distinct_stable_and_in_laps(tmp_path: Path) -> None:
    (tmp_path / "seeded.py").write_text(scripts.SEEDED)
    first = _sweep(tmp_path, "a", 7)
    again = _sweep(tmp_path, "b", 7)
    other = _sweep(tmp_path, "c", 8)
    for trials in (first, again, other):
        assert len(trials) == 9
        assert all(t.state is TrialState.COMPLETED for t in trials)
        assert all(t.last_metrics["seed_seen"] == t.seed for t in trials)  # argument == env == store
    by_run = {(t.config["x"], t.repetition): t.seed for t in first}
    assert len(by_run) == 9
    for x in (1, 2, 3):
        assert len({by_run[(x, r)] for r in range(3)}) == 3  # repetitions differ
    assert {(t.config["x"], t.repetition): t.seed for t in again} == by_run  # same study seed
    assert set(by_run.values()).isdisjoint({t.seed for t in other})  # another study seed
    # laps: by start time, every configuration once, then the next lap
    ordered = sorted(first, key=lambda t: t.started or 0.0)
    assert [t.repetition for t in ordered] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [t.config["x"] for t in ordered] == [1, 2, 3] * 3
    assert [t.trial_id for t in ordered] == list(range(9))
    for t in first:
        if t.repetition:
            origin = t.run_info.get("lap_of")
            assert origin is not None and next(o for o in first if o.trial_id == origin).config == t.config
