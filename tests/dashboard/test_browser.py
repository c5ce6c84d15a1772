"""The dashboard in a real browser: Playwright driving Debian's headless Chromium.

Needs ``pip install playwright`` and ``apt-get install chromium`` (no browser download: the tests
launch /usr/bin/chromium); skipped with the reason when either is missing.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hpsweep.dashboard import Dashboard, DashboardServer, export_html
from tests.dashboard.conftest import hpsweep_run, write_toy

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHARTS = ["chart-history", "chart-importance", "chart-parallel", "chart-curves", "chart-timeline"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install playwright (no browser download)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """A page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any, *, offline: bool = False) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.blocked: list[str] = []
        if offline:
            self.context.route("**/*", self._only_files)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _only_files(self, route: Any) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


def _non_blank(png: bytes) -> tuple[float, int]:
    """(share of pixels that are not near-white, number of distinct colours) of a screenshot."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    inked = int((pixels.min(axis=1) < 235).sum())
    return inked / len(pixels), len(np.unique(pixels, axis=0))


def _assert_charts_drawn(page: Any) -> None:
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart} .main-svg", timeout=20000)
    page.wait_for_timeout(500)
    for chart in CHARTS:
        share, colours = _non_blank(page.locator(f"#{chart}").screenshot())
        assert share > 0.005 and colours > 20, (chart, share, colours)


@pytest.fixture
def served(real_study: Path) -> Iterator[DashboardServer]:
    server = DashboardServer(app=Dashboard(studies=[real_study]), port=0).start()
    yield server
    server.close()


def test_study_page_loads_lists_trials_and_draws_charts(browser: Any, served: DashboardServer
                                                        ) -> None:
    tab = Page(browser)
    try:
        tab.page.goto(served.url)
        tab.page.wait_for_selector("#trials tbody tr", timeout=20000)
        assert tab.page.locator("#trials tbody tr").count() == 8
        assert tab.page.locator("#n-trials").inner_text() == "8"
        _assert_charts_drawn(tab.page)
        tab.page.fill("#filter", "state=stopped")
        stopped = tab.page.locator("#trials tbody tr").count()
        assert 0 < stopped < 8
        tab.page.fill("#filter", "")
        tab.page.click("#trials th[data-key='m:loss']")
        first = tab.page.locator("#trials tbody tr").first.get_attribute("data-trial")
        best = tab.page.locator("#trials tbody tr.best").get_attribute("data-trial")
        assert first == best
        tab.page.click(f"#trials tbody tr[data-trial='{best}'] a")
        tab.page.wait_for_selector("#reports tbody tr", timeout=10000)
        tab.page.wait_for_function(
            "document.getElementById('log-stdout').textContent.includes('epoch 1 loss')")
        assert "toy.py" in tab.page.locator("#argv").inner_text()
        assert tab.errors == []
    finally:
        tab.close()


def test_trial_finishing_while_the_page_is_open_appears(browser: Any, tmp_path: Path) -> None:
    write_toy(tmp_path)
    out = tmp_path / "live"
    proc = hpsweep_run(tmp_path, out, "--parallel", "1", "--", sys.executable, "toy.py",
                       "--lr", "[0.01, 0.001, 0.1]", "--width", "32", "--epochs", "8",
                       "--pause", "0.4", background=True)
    assert isinstance(proc, subprocess.Popen)
    tab = None
    server = None
    try:
        deadline = time.time() + 30
        while not (out / "study.db").exists() and time.time() < deadline:
            time.sleep(0.1)
        server = DashboardServer(app=Dashboard(studies=[out]), port=0).start()
        tab = Page(browser)
        tab.page.goto(server.url)
        tab.page.wait_for_selector("#trials", timeout=20000)
        done = "document.querySelectorAll('#trials tbody .badge.completed').length"
        at_load = tab.page.evaluate(done)
        assert at_load < 3, "the sweep ended before the page opened; the test proves nothing"
        tab.page.evaluate("window.__sameDocument = true")
        tab.page.wait_for_function(f"{done} === 3", timeout=60000)
        assert tab.page.evaluate("window.__sameDocument === true")  # no reload happened
        # a chart drawn once its data came never keeps the note it showed while it waited
        left = ("[...document.querySelectorAll('.chart')].filter((c) => c.querySelector('.main-svg')"
                " && c.querySelector(':scope > p.note')).length")
        tab.page.wait_for_function("document.querySelector('#chart-parallel .main-svg')", timeout=20000)
        assert tab.page.evaluate(left) == 0
        assert tab.page.locator("#trials tbody tr").count() == 3
        assert tab.errors == []
    finally:
        if tab is not None:
            tab.close()
        if server is not None:
            server.close()
        proc.wait(timeout=60)


def test_exported_html_opens_offline(browser: Any, real_study: Path, tmp_path: Path) -> None:
    target = export_html(Dashboard(studies=[real_study]), tmp_path / "report.html")
    tab = Page(browser, offline=True)
    try:
        tab.page.goto(target.as_uri())
        tab.page.wait_for_selector("#trials tbody tr", timeout=30000)
        assert tab.page.locator("#trials tbody tr").count() == 8
        _assert_charts_drawn(tab.page)
        assert tab.blocked == []  # it never even asked for anything but itself
        tab.page.click("#trials tbody tr a >> nth=0")
        tab.page.wait_for_selector("#reports tbody tr", timeout=10000)
        assert tab.errors == []
    finally:
        tab.close()


def test_seed_gathering_view_shows_the_spread(browser: Any, synthetic_study: Path) -> None:
    server = DashboardServer(app=Dashboard(studies=[synthetic_study]), port=0).start()
    tab = Page(browser)
    try:
        tab.page.goto(server.url + "#/study/0/seeds")
        tab.page.wait_for_selector("#seeds tbody tr", timeout=20000)
        cells = tab.page.locator("#seeds tbody tr").first.locator("td").all_inner_texts()
        assert cells[1].split() == ["lr=0.1", "opt=sgd"] and cells[2] == "2" and cells[3] == "0.35"
        assert "seed 11: 0.4" in cells[8] and "seed 13: 0.3" in cells[8]
        tab.page.wait_for_selector("#chart-seeds .main-svg", timeout=20000)
        share, colours = _non_blank(tab.page.locator("#chart-seeds").screenshot())
        assert share > 0.005 and colours > 20
        assert tab.errors == []
    finally:
        tab.close()
        server.close()
