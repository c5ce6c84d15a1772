"""Screenshots in headless Chromium of the three studies a researcher opens most: a seed gathering,
a study with repetitions and a multi-fidelity (ASHA) study. On each: the winner is marked (the
best configuration by its mean, its curve drawn apart), no panel is left empty and nothing is
drawn over anything else."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hpsweep.dashboard import Dashboard, DashboardServer
from tests.conftest import run_cli
from tests.dashboard.test_browser import Page, _non_blank, browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PY = sys.executable

# loss falls over 3 epochs to a floor set by lr, shifted by the seed; reports every epoch.
SCRIPT = """
import argparse, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--epochs", type=int, default=3)
a = p.parse_args()
for epoch in range(1, a.epochs + 1):
    hpsweep.report(step=epoch, loss=abs(a.lr - 0.1) + (a.seed % 7) / 100 + 1.0 / epoch)
"""


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("screens")
    (root / "train.py").write_text(textwrap.dedent(SCRIPT))
    common = ["--metric", "loss", "--seed-arg", "seed", "--seed", "2", "--parallel", "2", "-q"]
    run_cli("run", "--out", "reps", *common, "--repetitions", "3", "--", PY, "train.py",
            "--lr", "[0.1, 0.3, 0.5]", cwd=root, check=True)
    run_cli("seeds", "reps", "--num-seeds", "4", "--out", "seeds", "-q", cwd=root, check=True)
    run_cli("run", "--out", "asha", *common, "--scheduler", "asha", "--resource-arg", "epochs",
            "--max-resource", "9", "--reduction-factor", "3", "--", PY, "train.py",
            "--lr", "[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]", cwd=root, check=True)
    return {name: root / name for name in ("seeds", "reps", "asha")}


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:  # noqa: F811
    tab = Page(browser)
    yield tab
    tab.close()


_LAYOUT = """() => {
  const visible = (n) => n.offsetParent !== null && getComputedStyle(n).display !== "none";
  const box = (n) => { const r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const cards = [...document.querySelectorAll("#main .card")].filter(visible);
  const charts = cards.flatMap((c) => [...c.querySelectorAll(":scope > .chart")]);
  return {
    cards: cards.map(box),
    empty: charts.filter((c) => !c.querySelector(".main-svg")).map((c) => c.id),
    notesOverCharts: charts.filter((c) => c.querySelector(".main-svg") && c.querySelector(":scope > p.note"))
      .map((c) => c.id),
    legends: charts.flatMap((c) => [...c.querySelectorAll(".legend")].map((l) => [c.id, box(l), box(c)])),
    charts: charts.map((c) => c.id),
    winner: ((document.getElementById("chart-curves") || {}).data || [])
      .filter((t) => t.name === "best configuration").map((t) => t.showlegend),
    best: document.getElementById("best-value").textContent,
    runs: document.getElementById("best-runs").textContent,
  };
}"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def _open(page: Page, study: Path, out: Path) -> dict[str, Any]:
    server = DashboardServer(app=Dashboard(studies=[study]), port=0).start()
    try:
        page.page.goto(server.url + "#/study/0")
        page.page.wait_for_selector("#trials tbody tr", timeout=20000)
        page.page.wait_for_function("document.querySelector('#chart-importance .main-svg, #chart-importance p.note')",
                                    timeout=20000)
        page.page.wait_for_timeout(500)
        layout = page.page.evaluate(_LAYOUT)
        png = page.page.screenshot()
        out.write_bytes(png)
        share, colours = _non_blank(png)
        assert share > 0.05 and colours > 50
    finally:
        server.close()
    assert page.errors == []
    assert layout["empty"] == [], f"empty panels: {layout['empty']}"
    assert layout["notesOverCharts"] == []
    cards = layout["cards"]
    for i, a in enumerate(cards):
        for b in cards[i + 1:]:
            assert not _overlap(a, b), (a, b)
    for chart, legend, frame in layout["legends"]:  # a legend stays inside its own chart
        assert frame[1] - 1 <= legend[1] and legend[3] <= frame[3] + 1, (chart, legend, frame)
    return layout


def test_seed_study_marks_the_mean_over_every_seed(page: Page, studies: dict[str, Path],
                                                   tmp_path: Path) -> None:
    layout = _open(page, studies["seeds"], tmp_path / "seeds.png")
    summary = json.loads((studies["seeds"] / "seeds_summary.json").read_text())["keys"]["loss"]
    assert summary["n"] == 4
    assert layout["best"].startswith(f"{summary['mean']:.4g}"[:4]) and "±" in layout["best"]
    assert "4 runs" in layout["runs"] and "reference run" in layout["runs"]
    assert "chart-importance" not in layout["charts"]  # one configuration: no importance panel
    assert layout["winner"] == [True, False, False]  # its three new seeds' curves, one legend entry


def test_repetitions_study_marks_the_best_mean(page: Page, studies: dict[str, Path],
                                               tmp_path: Path) -> None:
    layout = _open(page, studies["reps"], tmp_path / "reps.png")
    assert "±" in layout["best"] and "3 runs" in layout["runs"]
    assert layout["winner"] == [True, False, False]
    rows = page.page.locator("#trials tbody tr.best, #trials tbody tr.best-run").count()
    assert rows == 3  # the three runs of the winning configuration


def test_multi_fidelity_study_marks_the_winner(page: Page, studies: dict[str, Path],
                                               tmp_path: Path) -> None:
    layout = _open(page, studies["asha"], tmp_path / "asha.png")
    assert layout["winner"] == [True] and "±" not in layout["best"]
    steps = page.page.locator("#trials th[data-key='steps']").count()
    assert steps == 1  # how far each trial trained, beside its budget


def test_the_light_export_is_a_third_of_the_size_and_opens_offline(browser: Any, studies: dict[str, Path],  # noqa: F811
                                                                   tmp_path: Path) -> None:
    from hpsweep.dashboard import export_html

    app = Dashboard(studies=[studies["asha"]])
    full = export_html(app, tmp_path / "full.html")
    light = export_html(app, tmp_path / "light.html", light=True)
    assert light.stat().st_size < 0.45 * full.stat().st_size
    tab = Page(browser, offline=True)
    try:
        tab.page.goto(light.as_uri())
        tab.page.wait_for_selector("#trials tbody tr", timeout=30000)
        assert tab.page.locator("#trials tbody tr").count() == 6
        tab.page.wait_for_selector("#chart-curves .main-svg", timeout=20000)
        assert tab.blocked == [] and tab.errors == []
    finally:
        tab.close()
