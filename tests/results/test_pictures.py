"""What the pictures say: the winner marked on the learning curves, no curves plot for studies that
report once, the slice plot's colour bar beside (not over) its panels, importance with its caveat
or none where it does not apply."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import PY, run_cli

from hpsweep.results import load_study_data, mpl_figure, param_importance
from hpsweep.results._importance import importance_note
from hpsweep.results._plots import available_kinds


def test_learning_curves_mark_the_winner(importance_study: Path) -> None:
    data = load_study_data(importance_study)
    ax = mpl_figure("curves", data).axes[0]
    winners = [line for line in ax.get_lines() if line.get_label() == "best configuration"]
    assert len(winners) == 1 and winners[0].get_linewidth() > 2
    best = min((t for t in data.trials if t.state.value == "completed"),
               key=lambda t: t.value("loss") or 0.0)
    assert list(winners[0].get_ydata()) == [r.metrics["loss"] for r in best.reports]
    assert all(line.get_marker() in (None, "None", "") for line in ax.get_lines())  # no dots


def test_a_study_that_reports_once_has_no_curves_plot(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import argparse, json, os\n"
        "p = argparse.ArgumentParser(); p.add_argument('--x', type=float); p.add_argument('--out')\n"
        "a = p.parse_args()\n"
        "json.dump({'loss': a.x ** 2}, open(os.path.join(a.out, 'summary.json'), 'w'))\n")
    run_cli("run", "--out", "s", "--summary-file", "summary.json", "--out-dir-arg", "out", "-q",
            "--", PY, "train.py", "--x", "[1, 2, 3]", cwd=tmp_path, check=True)
    kinds = available_kinds(load_study_data(tmp_path / "s"))
    assert "curves" not in kinds and "history" in kinds


def test_the_slice_colour_bar_covers_no_panel(importance_study: Path) -> None:
    fig = mpl_figure("slice", load_study_data(importance_study))
    fig.canvas.draw()
    boxes = [ax.get_position() for ax in fig.axes]
    panels, bars = boxes[:-1], boxes[-1:]
    assert len(panels) == 3
    for bar in bars:
        for panel in panels:
            assert bar.x0 >= panel.x1 or bar.x1 <= panel.x0, (bar, panel)


def test_importance_caveats(importance_study: Path, seeded_study: Path) -> None:
    few = load_study_data(seeded_study)  # three completed trials
    assert param_importance(few) and "only 3 completed trials" in importance_note(few, {"x": 1.0})
    title = mpl_figure("importance", few).axes[0].get_title()
    assert "rough guide" in title
    many = load_study_data(importance_study)
    assert importance_note(many, param_importance(many)) == ""
    options = {**many.sweep["options"], "scheduler": "pbt"}
    pbt = dataclasses.replace(many, sweep={**many.sweep, "options": options})
    assert param_importance(pbt) == {} and "PBT" in importance_note(pbt, {})


@pytest.mark.parametrize("kind", ["curves", "slice"])
def test_pictures_are_written(importance_study: Path, tmp_path: Path, kind: str) -> None:
    done = run_cli("plot", str(importance_study), "--kind", kind, "--format", "png", "--out",
                   str(tmp_path), cwd=tmp_path, check=True)
    assert (tmp_path / f"{kind}.png").stat().st_size > 10_000, done.stdout


def test_slices_show_each_parameter_against_the_objective(lr_study: Path) -> None:
    from hpsweep.results import html_figure
    from hpsweep.results._series import slices

    data = load_study_data(lr_study)
    found = slices(data)
    done = sorted((t for t in data.trials if t.state.value == "completed"),
                  key=lambda t: t.trial_id)
    assert [s.param for s in found] == ["lr", "opt", "width"]
    lr, opt, width = found
    assert lr.log and not width.log and opt.choices == ("sgd", "adam", "adamw")
    assert lr.x.tolist() == [t.config["lr"] for t in done]
    assert lr.y.tolist() == [t.last_metrics["loss"] for t in done]
    assert lr.trial_ids.tolist() == [t.trial_id for t in done]
    assert [opt.choices[int(i)] for i in opt.x] == [t.config["opt"] for t in done]
    fig = mpl_figure("slice", data)
    panels = fig.axes[:3]
    assert panels[0].get_xscale() == "log" and panels[2].get_xscale() == "linear"
    assert [t.get_text() for t in panels[1].get_xticklabels()] == ["sgd", "adam", "adamw"]
    assert [len(p.collections[0].get_offsets()) for p in panels] == [len(done)] * 3
    html = html_figure("slice", data)
    assert [trace.x.tolist()[:3] for trace in html.data][1] == [t.config["opt"] for t in done[:3]]
    assert html.layout.xaxis.type == "log" and html.layout.xaxis2.type == "category"
    assert list(html.layout.xaxis2.categoryarray) == ["sgd", "adam", "adamw"]


def test_plots_of_a_large_study_build_no_optuna_study(lr_study: Path, tmp_path: Path) -> None:
    code = ("import sys\nfrom hpsweep.results import load_study_data, write_plots\n"
            f"paths = write_plots(load_study_data({str(lr_study)!r}), {str(tmp_path)!r})\n"
            "print(len(paths), sorted(m for m in ('optuna', 'sklearn', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.stdout.split("\n")[0] == "10 []"  # five kinds, PNG and HTML each


def test_slices_of_one_parameter_and_of_none(seeded_study: Path) -> None:
    from hpsweep.results._html import html_slice
    from hpsweep.results._mpl import mpl_slice

    data = load_study_data(seeded_study)  # x in [1, 2, 3.5]; the seed argument is a constant
    fig = mpl_figure("slice", data)
    assert fig.axes[0].get_xlabel() == "x" and len(fig.axes) == 2  # one panel, its colour bar
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2", "3.5"]
    empty = mpl_slice(data, found=[])
    assert "no searched parameter varies" in [t.get_text() for t in empty.axes[0].texts]
    assert len(html_slice(data, found=[]).data) == 0
