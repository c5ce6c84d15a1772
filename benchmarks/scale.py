"""Controller throughput: many trivial trials through ``hpsweep run``, local vs. a Ray cluster.

Each trial is ``sh -c 'echo "[hpsweep] {\\"loss\\": 1}"'``: it does nothing, so the figures
measure what the controller and the executor cost per trial (launch, report, exit, store, CSV).
Without ``--ray-address`` a two-node Ray cluster (head + worker, ``--cpus-per-node`` each) is
started on this machine for the run and torn down afterwards.

    python benchmarks/scale.py --trials 1000 --parallel 4
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

TRIAL = ["sh", "-c", 'echo "[hpsweep] {\\"loss\\": 1}"']


@contextlib.contextmanager
def local_ray_cluster(cpus_per_node: int) -> Iterator[str]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": cpus_per_node, "resources": {"head": 1}, "include_dashboard": False,
        "object_store_memory": 80 * 1024 * 1024})
    try:
        cluster.add_node(num_cpus=cpus_per_node, resources={"worker": 1},
                         object_store_memory=80 * 1024 * 1024)
        cluster.wait_for_nodes()
        yield str(cluster.address)
    finally:
        cluster.shutdown()


def run_sweep(out: Path, trials: int, parallel: int, executor: list[str]) -> dict[str, float]:
    argv = [sys.executable, "-m", "hpsweep.cli.main", "run", "-q", "--out", str(out),
            "--parallel", str(parallel), "--metric", "loss", *executor, "--", *TRIAL,
            "--x", f"range(0, {trials})"]
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"sweep failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    from hpsweep.store import Store

    store = Store.open(out / "study.db", readonly=True)
    records = store.trials(with_reports=False)
    store.close()
    completed = [t for t in records if t.state.value == "completed"]
    first = min(t.started for t in records if t.started is not None)
    last = max(t.finished for t in records if t.finished is not None)
    span = last - first
    busy = sum((t.finished or 0) - (t.started or 0) for t in completed)
    return {"trials": len(records), "completed": len(completed), "wall_s": wall,
            "sweep_s": span, "trials_per_s": len(records) / span,
            "slot_s_per_trial_ms": 1000 * span * parallel / len(records),
            "mean_trial_ms": 1000 * busy / max(1, len(completed))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--ray-address", help="an existing cluster (default: start a local one)")
    p.add_argument("--cpus-per-node", type=int, default=2)
    p.add_argument("--skip-local", action="store_true")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    base = Path(tempfile.mkdtemp(prefix="hpsweep-scale-"))
    results: dict[str, dict[str, float]] = {}
    try:
        if not args.skip_local:
            results["local"] = run_sweep(base / "local", args.trials, args.parallel,
                                         ["--executor", "local"])
        with contextlib.ExitStack() as stack:
            address = args.ray_address or stack.enter_context(
                local_ray_cluster(args.cpus_per_node))
            results["ray"] = run_sweep(base / "ray", args.trials, args.parallel,
                                       ["--executor", "ray", "--executor-option",
                                        f"ray_address={address}"])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"{'executor':8} {'trials':>6} {'sweep s':>8} {'trials/s':>9} "
          f"{'slot-ms/trial':>13} {'run ms':>7} {'wall s':>7}")
    for name, r in results.items():
        print(f"{name:8} {r['trials']:6.0f} {r['sweep_s']:8.2f} {r['trials_per_s']:9.1f} "
              f"{r['slot_s_per_trial_ms']:13.1f} {r['mean_trial_ms']:7.1f} {r['wall_s']:7.2f}")
    if "local" in results:
        extra = results["ray"]["slot_s_per_trial_ms"] - results["local"]["slot_s_per_trial_ms"]
        print(f"ray overhead per trial vs local: {extra:+.1f} slot-ms")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
