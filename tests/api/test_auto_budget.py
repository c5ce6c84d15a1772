"""The API tells the ``auto`` searcher the study's budget (``n_trials``), also on resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hpsweep.search
from hpsweep.api import SearchConfig, SearchEngine
from hpsweep.search import OptunaSearcher
from hpsweep.search.base import Searcher
from hpsweep.space import SearchSpace


def quadratic(params: dict[str, Any]) -> dict[str, float]:
    return {"loss": (params["x"] - 1.0) ** 2 + (params["y"] + 2.0) ** 2}


def test_search_and_resume_give_auto_the_number_of_trials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Searcher] = []
    original = hpsweep.search.make_searcher

    def recording(*args: Any, **kwargs: Any) -> Searcher:
        searcher = original(*args, **kwargs)
        built.append(searcher)
        return searcher

    monkeypatch.setattr(hpsweep.search, "make_searcher", recording)
    space = SearchSpace().add_float("x", -5.0, 5.0).add_float("y", -5.0, 5.0)
    engine = SearchEngine(SearchConfig(
        strategy="bayesian", sampler="auto", n_trials=4, metric="loss", direction="minimize",
        enable_pruning=False, study_dir=str(tmp_path), study_name="s", seed=0,
        timeout_per_trial=60))
    result = engine.search(quadratic, space)
    assert result.n_completed == 4
    first = built[-1]
    assert isinstance(first, OptunaSearcher) and first.sampler_name == "auto"
    assert first.budget == 4
    result = engine.resume(tmp_path / "s", n_trials=6)
    assert result.n_completed == 6
    again = built[-1]
    assert again is not first and isinstance(again, OptunaSearcher) and again.budget == 6
