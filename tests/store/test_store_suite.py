"""The store runs its public conformance suite (``hpsweep.testing.store``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpsweep.errors import StudyError
from hpsweep.store import SCHEMA_VERSION, Store
from hpsweep.testing import store as suite


def test_round_trip(tmp_path: Path) -> None:
    suite.check_round_trip(lambda path: Store.create(path, name="t", spec={}), tmp_path)


def test_readers_in_other_processes_see_whole_steps(tmp_path: Path) -> None:
    suite.check_concurrent_readers(tmp_path)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_a_committed_store_of_each_schema_version_opens(tmp_path: Path, version: int) -> None:
    expected = json.loads((suite.DATA / f"study-v{version}.json").read_text())
    suite.check_opens_version(suite.DATA / f"study-v{version}.db", expected, tmp_path)


def test_every_schema_version_has_its_committed_file() -> None:
    suite.check_every_version_kept()


def test_the_example_written_today_matches_the_newest_committed_file(tmp_path: Path) -> None:
    store = suite.write_example(tmp_path / "today.db")
    try:
        today = suite.contents(store)
    finally:
        store.close()
    newest = json.loads((suite.DATA / f"study-v{SCHEMA_VERSION}.json").read_text())
    assert today == newest


def test_the_check_fails_on_a_store_that_lost_a_report(tmp_path: Path) -> None:
    expected = json.loads((suite.DATA / "study-v1.json").read_text())
    expected["trials"][0]["reports"].append([3, 10, {"loss": 0.2}, 9.5])
    with pytest.raises(AssertionError, match="contents differ"):
        suite.check_opens_version(suite.DATA / "study-v1.db", expected, tmp_path)


def test_a_newer_schema_is_refused_by_name(tmp_path: Path) -> None:
    store = suite.write_example(tmp_path / "newer.db")
    store.set_meta("schema_version", SCHEMA_VERSION + 1)
    store.close()
    with pytest.raises(StudyError, match="newer hpsweep"):
        Store.open(tmp_path / "newer.db")
