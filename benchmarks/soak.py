#!/usr/bin/env python3
"""Soak: thousands of trivial trials, the controller killed with SIGKILL mid-way, then resumed.

Runs ``hpsweep run`` (the real command line) over a grid of ``--trials`` trivial trials on
``--parallel`` slots. The first run kills itself right after the ``--kill-at``-th trial end is
stored (``HPSWEEP_TEST_KILL_AT=stored:N``); ``hpsweep resume`` then finishes the sweep. It
reports trials per second of each phase, the controller's peak resident memory (sampled from
``/proc`` every 0.2 s), and checks that every configuration completed exactly once, that
``results.csv`` lists exactly the completed trials, that no trial process is left and that
``PRAGMA integrity_check`` is ok.

    nice -n 19 python benchmarks/soak.py --trials 5000 --parallel 2 --kill-at 2500
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def phase(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, return code) of one controller run."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, rss_kib(proc.pid))
        time.sleep(0.2)
    err = proc.stderr.read() if proc.stderr else ""
    if "Traceback" in err:
        raise SystemExit(f"traceback from {argv[3]}:\n{err}")
    return time.monotonic() - start, peak, proc.returncode


def completed(db: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT trial_id, config FROM trials WHERE state='completed'").fetchall()
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=5000)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--kill-at", type=int, default=2500)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="hpsweep-soak-"))
    try:
        script = base / "trivial.py"
        script.write_text("import sys\nx = int(sys.argv[sys.argv.index('--x') + 1])\n"
                          "print('[hpsweep] {\"loss\": %d}' % x)\n")
        study = base / "study"
        env = {**os.environ, "HPSWEEP_TEST_KILL_AT": f"stored:{args.kill_at}"}
        run = [sys.executable, "-m", "hpsweep", "run", "--out", str(study), "--metric", "loss",
               "--parallel", str(args.parallel), "--plain", "-q", "--", sys.executable, "-S",
               str(script), "--x", f"range(0, {args.trials})"]
        wall1, peak1, code1 = phase(run, env, base)
        done1 = len(completed(study / "study.db"))
        env.pop("HPSWEEP_TEST_KILL_AT")
        resume = [sys.executable, "-m", "hpsweep", "resume", str(study), "--plain", "-q"]
        wall2, peak2, code2 = phase(resume, env, base)
        rows = completed(study / "study.db")
        configs = [json.loads(c)["x"] for _, c in rows]
        with (study / "results.csv").open() as fh:
            csv_ids = sorted(int(r["trial_id"]) for r in csv.DictReader(fh)
                             if r["state"] == "completed")
        conn = sqlite3.connect(f"file:{study / 'study.db'}?mode=ro", uri=True)
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
        checks = {
            "first run killed (-9)": code1 == -9,
            "resume exit 0": code2 == 0,
            "every configuration completed once": sorted(configs) == list(range(args.trials)),
            "results.csv == store": csv_ids == sorted(t for t, _ in rows),
            "integrity_check ok": integrity == "ok",
        }
        print("| phase | trials completed | wall s | trials/s | controller peak RSS MiB |")
        print("|---|---|---|---|---|")
        print(f"| run, killed at end {args.kill_at} | {done1} | {wall1:.1f} | "
              f"{done1 / wall1:.1f} | {peak1 / 1024:.0f} |")
        print(f"| resume | {len(rows) - done1} | {wall2:.1f} | {(len(rows) - done1) / wall2:.1f} | "
              f"{peak2 / 1024:.0f} |")
        for name, ok in checks.items():
            print(f"- {name}: {'yes' if ok else 'NO'}")
        if not all(checks.values()):
            raise SystemExit(1)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
