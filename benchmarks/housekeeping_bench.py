#!/usr/bin/env python3
"""Costs of study housekeeping.

- rerun: ``hpsweep rerun`` of a trivial trial (in-process, so without the CLI's import time)
  against running the same command with ``subprocess.run``;
- keeper: a sweep of N trials that each write a checkpoint of ``--checkpoint-mb`` MiB, with
  ``CheckpointKeeper(keep="none")`` against ``keep="all"``: wall time and bytes left on disk;
- gc: planning over a store of ``--gc-trials`` trials (read-only load included), and deleting
  ``--gc-folders`` real trial folders of 10 small files each.

    python benchmarks/housekeeping_bench.py --trials 40 --reruns 10
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hpsweep.cli.main import main
from hpsweep.results import load_study_data
from hpsweep.space import parse_inline
from hpsweep.store import Store, StudyDir
from hpsweep.trial import TrialRecord, TrialState
from hpsweep.tuner.housekeeping import (
    CheckpointKeeper,
    GcRule,
    delete_trial_folders,
    folder_size,
    plan_gc,
)
from hpsweep.tuner.session import SweepOptions, create_study, load_study

_SCRIPT = """
import json, os, sys
size = int(sys.argv[sys.argv.index("--mb") + 1]) << 20
with open(os.path.join(os.environ["HPSWEEP_CHECKPOINT_DIR"], "state.bin"), "wb") as fh:
    fh.write(b"\\0" * size)
print("[hpsweep] " + json.dumps({"loss": float(sys.argv[sys.argv.index("--x") + 1])}))
"""


def _sweep(root: Path, n: int, mb: int, keep: str) -> tuple[float, int]:
    script = root / "ckpt.py"
    script.write_text(_SCRIPT)
    command = [sys.executable, "-S", str(script), "--x", f"range(0, {n})", "--mb", str(mb)]
    options = SweepOptions(command=command, parallel=2, seed=0, cwd=str(root))
    study = StudyDir(root / f"study-{keep}")
    study.acquire()
    try:
        create_study(study, options, parse_inline(command, seed=0))
        keeper = CheckpointKeeper(keep=keep)
        tuner, store, _, _ = load_study(study, callbacks=[keeper])
        t0 = time.perf_counter()
        tuner.run()
        keeper.finish(tuner)
        wall = time.perf_counter() - t0
        store.close()
    finally:
        study.release()
    return wall, folder_size(study.trials_root)


def bench_keeper(n: int, mb: int, repeats: int) -> dict[str, float]:
    out: dict[str, list[float]] = {"all": [], "none": []}
    left: dict[str, int] = {}
    for _ in range(repeats):
        for keep in ("all", "none"):
            with tempfile.TemporaryDirectory() as tmp:
                wall, size = _sweep(Path(tmp), n, mb, keep)
            out[keep].append(wall)
            left[keep] = size
    return {"all_s": statistics.median(out["all"]), "none_s": statistics.median(out["none"]),
            "all_mb": left["all"] / 2**20, "none_mb": left["none"] / 2**20}


def bench_rerun(reruns: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _sweep(root, 1, 0, "all")
        study = root / "study-all"
        argv = [sys.executable, "-S", str(root / "ckpt.py"), "--x", "0", "--mb", "0"]
        direct, rerun = [], []
        for _ in range(reruns):
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True,
                           env={"HPSWEEP_CHECKPOINT_DIR": tmp})
            direct.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["rerun", str(study), "0"]) == 0
            rerun.append(time.perf_counter() - t0)
    return {"direct_ms": 1e3 * statistics.median(direct), "rerun_ms": 1e3 * statistics.median(rerun)}


def bench_gc(n_trials: int, n_folders: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    states = [TrialState.COMPLETED, TrialState.STOPPED, TrialState.FAILED]
    with tempfile.TemporaryDirectory() as tmp:
        study = StudyDir(Path(tmp) / "big")
        study.root.mkdir()
        study.write_sweep({"format": 1, "options": {"metrics": ["loss"], "modes": ["min"]}})
        store = Store.create(study.db, name="big", spec={})
        for i in range(n_trials):
            folder = study.trial_dir(i)
            if i < n_folders:
                folder.mkdir(parents=True)
                for k in range(10):
                    (folder / f"f{k}.txt").write_text("x" * 100)
            store.add_trial(TrialRecord(
                trial_id=i, config={"x": float(rng.random())}, state=states[i % 3],
                last_metrics={"loss": float(rng.random())}, trial_dir=str(folder),
                created=time.time() - 86400, finished=time.time() - 3600))
        store.close()
        t0 = time.perf_counter()
        data = load_study_data(study.root, with_events=False)
        plan = plan_gc(data, GcRule(failed=True, keep_best=10))
        plan_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        removed = delete_trial_folders(study.root, plan.delete)
        delete_s = time.perf_counter() - t0
    return {"plan_s": plan_s, "chosen": len(plan.delete), "removed": len(removed),
            "delete_s": delete_s}


def main_bench() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--checkpoint-mb", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reruns", type=int, default=10)
    ap.add_argument("--gc-trials", type=int, default=20000)
    ap.add_argument("--gc-folders", type=int, default=2000)
    a = ap.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}")
    k = bench_keeper(a.trials, a.checkpoint_mb, a.repeats)
    print(f"keeper: {a.trials} trials x {a.checkpoint_mb} MiB on 2 slots: keep=all {k['all_s']:.2f} s "
          f"({k['all_mb']:.0f} MiB left), keep=none {k['none_s']:.2f} s ({k['none_mb']:.1f} MiB left)")
    r = bench_rerun(a.reruns)
    print(f"rerun: direct {r['direct_ms']:.0f} ms, hpsweep rerun {r['rerun_ms']:.0f} ms "
          f"(median of {a.reruns})")
    g = bench_gc(a.gc_trials, a.gc_folders)
    print(f"gc: plan over {a.gc_trials} trials {g['plan_s']:.2f} s ({g['chosen']} chosen); "
          f"deleting {g['removed']} folders {g['delete_s']:.2f} s")


if __name__ == "__main__":
    main_bench()
