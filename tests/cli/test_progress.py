"""The plain display shows what the trial reported: ``inf`` as ``inf``."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from hpsweep.cli.progress import Display
from hpsweep.trial import TrialRecord, TrialState


@pytest.mark.parametrize(("raw", "shown"), [(math.inf, "inf"), (-math.inf, "-inf"),
                                            (math.nan, "nan"), ("oops", "nan"), (0.5, "0.5")])
def test_the_end_line_shows_the_reported_value(raw: Any, shown: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    display = Display(quiet=False)
    display.options = SimpleNamespace(metric="loss", mode="min")  # type: ignore[assignment]
    trial = TrialRecord(trial_id=3, config={"x": 1}, state=TrialState.COMPLETED,
                        last_metrics={"loss": raw})
    display.on_event("end", trial, None)  # type: ignore[arg-type]
    assert f" loss={shown} " in capsys.readouterr().out
