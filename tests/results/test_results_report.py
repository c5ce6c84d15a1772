"""``hpsweep report`` and the ranking functions on real studies made by the engine."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hpsweep.cli.main import main
from hpsweep.results import best_trials, load_study_data, trials_frame
from hpsweep.trial import TrialState


def _by_hand(study: Path) -> list[tuple[float, int]]:
    """(final loss, trial id) computed from each trial's configuration, best first."""
    data = load_study_data(study)
    out = []
    for t in data.trials:
        a, b = t.config["a"], t.config["b"]
        out.append((4.0 * (a - 0.3) ** 2 + 3.0 * (b - 0.6) ** 2, t.trial_id))
    return sorted(out)


def test_best_trials_match_a_computation_by_hand(importance_study: Path) -> None:
    data = load_study_data(importance_study)
    expected = _by_hand(importance_study)
    best = best_trials(data, 5)
    assert [t.trial_id for t in best] == [tid for _, tid in expected[:5]]
    assert best[0].value("loss") == pytest.approx(expected[0][0])


def test_report_table_names_the_best_trial(importance_study: Path, capsys) -> None:
    assert main(["report", str(importance_study), "--top", "3"]) == 0
    out = capsys.readouterr().out
    best_id = _by_hand(importance_study)[0][1]
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rank"))
    first = lines[header + 1].split()
    assert first[0] == "1" and first[1] == str(best_id)
    assert "30 completed" in out and str(importance_study / "results.csv") in out


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
def test_report_formats_carry_the_same_ranking(importance_study: Path, capsys, fmt: str) -> None:
    assert main(["report", str(importance_study), "--top", "4", "--format", fmt]) == 0
    out = capsys.readouterr().out
    expected = [tid for _, tid in _by_hand(importance_study)[:4]]
    if fmt == "csv":
        ids = [int(r["trial_id"]) for r in csv.DictReader(io.StringIO(out))]
    elif fmt == "json":
        doc = json.loads(out)
        ids = [r["trial_id"] for r in doc["ranked"]]
        assert doc["counts"] == {"completed": 30}
    else:
        rows = [line for line in out.splitlines() if line.startswith("| ") and "rank" not in line]
        ids = [int(r.split("|")[2]) for r in rows]
    assert ids == expected


def test_sort_by_another_metric_and_direction(importance_study: Path, capsys) -> None:
    assert main(["report", str(importance_study), "--sort", "acc:max", "--top", "1",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    data = load_study_data(importance_study)
    best_acc = max(data.trials, key=lambda t: t.last_metrics["acc"])
    assert doc["ranked"][0]["trial_id"] == best_acc.trial_id


def test_state_filter_and_bad_state(importance_study: Path, capsys) -> None:
    assert main(["report", str(importance_study), "--state", "failed", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ranked"] == []
    assert main(["report", str(importance_study), "--state", "finished"]) == 2
    assert "--state 'finished'" in capsys.readouterr().err


def test_decision_log_and_its_csv(importance_study: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "decisions.csv"
    assert main(["report", str(importance_study), "--decisions", "--format", "json",
                 "--decisions-csv", str(target)]) == 0
    rows = json.loads(capsys.readouterr().out)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("start") == 30 and kinds.count("end") == 30
    ends = [r for r in rows if r["kind"] == "end"]
    assert all(r["data"]["state"] == "completed" for r in ends)
    with target.open() as fh:
        written = list(csv.DictReader(fh))
    assert len(written) == len(rows)
    assert {"event_id", "time", "trial_id", "kind", "state"} <= set(written[0]) | set(written[-1])


def test_multi_objective_report_shows_the_pareto_front(multi_study: Path, capsys) -> None:
    assert main(["report", str(multi_study), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["title"].startswith("Pareto front")
    trials = load_study_data(multi_study).trials
    points = {t.trial_id: (t.last_metrics["m"], t.last_metrics["cost"]) for t in trials}

    def dominated(p: tuple[float, float]) -> bool:
        return any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in points.values())

    front = sorted(tid for tid, p in points.items() if not dominated(p))
    assert sorted(r["trial_id"] for r in doc["ranked"]) == front
    assert all(r["x"] != 3 for r in doc["ranked"])


def test_frame_has_one_row_per_trial(importance_study: Path) -> None:
    frame = trials_frame(load_study_data(importance_study).trials)
    assert len(frame) == 30
    assert {"a", "b", "c", "loss", "acc", "state", "trial_dir"} <= set(frame.columns)
    assert (frame["state"] == TrialState.COMPLETED.value).all()
    assert frame["n_reports"].eq(3).all()


def test_trial_manager_reads_an_engine_study(importance_study: Path) -> None:
    from hpsweep.api.manager import TrialManager

    tm = TrialManager(importance_study)
    assert tm.get_best_trials(1)[0].trial_id == _by_hand(importance_study)[0][1]
    assert len(tm.dataframe()) == 30


def test_report_starts_without_pandas_or_the_plotting_stack(importance_study: Path,
                                                            multi_study: Path) -> None:
    """The report path, run as the command line runs it, in a fresh interpreter: the ranking
    (single and multi-objective) and the decision log load none of the heavy libraries."""
    import subprocess
    import sys

    probe = (
        "import sys, io, contextlib\n"
        "from hpsweep.cli.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    codes = [main(['report', {str(importance_study)!r}]),\n"
        f"             main(['report', {str(importance_study)!r}, '--decisions']),\n"
        f"             main(['report', {str(multi_study)!r}, '--format', 'json'])]\n"
        "heavy = ('pandas', 'optuna', 'matplotlib', 'plotly', 'sklearn', 'scipy')\n"
        "print(codes, sorted(m for m in heavy if m in sys.modules), 'best ' in out.getvalue())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[0,", "0,", "0]", "[]", "True"], done.stdout
