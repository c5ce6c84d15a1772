"""How fast the dashboard answers on studies of growing size.

Writes synthetic studies through the store (N trials, R reports each, 2 slots), then measures the
server's answers over HTTP: the study page's one answer (cold, then cached), the live poll, the
importance, and the HTML export; with ``--browser`` also the time Chromium takes to show the page.

    .venv/bin/python benchmarks/dashboard_bench.py --sizes 100x20 1000x50 [--browser]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from hpsweep.dashboard import Dashboard, DashboardServer, export_html
from hpsweep.store import Store, StudyDir
from hpsweep.trial import Report, TrialRecord, TrialState


def make_study(root: Path, n_trials: int, n_reports: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    study = StudyDir(root)
    root.mkdir(parents=True)
    study.write_sweep({"format": 1, "options": {"metrics": ["loss"], "modes": ["min"]}})
    store = Store.create(study.db, name=f"bench-{n_trials}x{n_reports}", spec={})
    clock = 1000.0
    for tid in range(n_trials):
        config = {"lr": float(10 ** rng.uniform(-4, -1)), "width": int(rng.choice([16, 32, 64])),
                  "opt": str(rng.choice(["sgd", "adam"]))}
        trial = TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING, created=clock)
        store.add_trial(trial)
        trial.worker_id, trial.started = tid % 2, clock
        store.update_trial(trial, event="start", time=clock, data={"worker_id": tid % 2})
        floor = 0.1 + 0.2 * abs(math.log10(config["lr"]) + 2.5) + 2.0 / config["width"]
        for step in range(1, n_reports + 1):
            loss = floor + math.exp(-0.2 * step) + float(rng.normal(0, 0.01))
            store.add_report(Report(tid, step, {"loss": loss}, clock + step, step - 1))
            trial.last_metrics = {"loss": loss}
        clock += n_reports + 1
        trial.state, trial.finished = TrialState.COMPLETED, clock
        store.update_trial(trial, event="end", time=clock, data={"state": "completed"})
    store.close()
    return root


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return bytes(response.read())


def timed(url: str, repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` GETs of ``url`` and the answer's size in bytes."""
    times, size = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        size = len(fetch(url))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), size


def browser_load(url: str) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#trials tbody tr", timeout=120000)
        for chart in ("chart-history", "chart-parallel", "chart-curves", "chart-timeline"):
            page.wait_for_selector(f"#{chart} .main-svg", timeout=120000)
        elapsed = time.perf_counter() - t0
        browser.close()
    return elapsed


def bench(size: str, folder: Path, *, browser: bool) -> dict[str, object]:
    n_trials, n_reports = (int(x) for x in size.split("x"))
    t0 = time.perf_counter()
    root = make_study(folder / size, n_trials, n_reports)
    build = time.perf_counter() - t0
    app = Dashboard(studies=[root])
    server = DashboardServer(app=app, port=0).start()
    try:
        base = server.url
        t0 = time.perf_counter()
        cold_size = len(fetch(base + "api/studies/0"))
        cold = time.perf_counter() - t0
        cached, _ = timed(base + "api/studies/0", 5)
        poll, _ = timed(base + "api/studies/0/events?since=0", 20)
        last = json.loads(fetch(base + "api/studies"))["studies"][0]["last_event"]
        poll_idle, _ = timed(base + f"api/studies/0/events?since={last}", 20)
        t0 = time.perf_counter()
        fetch(base + "api/studies/0/importance")
        importance = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = export_html(app, folder / f"{size}.html")
        export = time.perf_counter() - t0
        page = browser_load(base) if browser else None
    finally:
        server.close()
    return {"size": size, "build_s": build, "bundle_cold_s": cold, "bundle_mb": cold_size / 1e6,
            "bundle_cached_s": cached, "poll_all_events_s": poll, "poll_nothing_new_s": poll_idle,
            "importance_s": importance, "export_s": export,
            "export_mb": out.stat().st_size / 1e6, "browser_s": page}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100x20", "1000x50"],
                        help="studies as TRIALSxREPORTS")
    parser.add_argument("--browser", action="store_true", help="also time Chromium's page load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(size, Path(tmp), browser=args.browser) for size in args.sizes]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
