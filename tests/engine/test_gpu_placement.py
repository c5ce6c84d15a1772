"""GPU placement: free GPUs first, at most K trials per GPU, one CUDA_VISIBLE_DEVICES id each."""

from __future__ import annotations

import json

import pytest

from hpsweep.errors import UsageError
from hpsweep.executors.gpu import FakeProbe, GpuAllocator, parse_gpus
from tests.conftest import PY

SCRIPT = """
import argparse, json, os, time, hpsweep
p = argparse.ArgumentParser(); p.add_argument("--x", type=int); p.add_argument("--log")
a = p.parse_args()
start = time.time()
time.sleep(0.4)
with open(a.log, "a") as fh:
    fh.write(json.dumps({"x": a.x, "gpu": os.environ.get("CUDA_VISIBLE_DEVICES"),
                         "start": start, "end": time.time()}) + "\\n")
hpsweep.report(loss=float(a.x))
"""


def test_four_fake_gpus_two_jobs_each(tmp_path, cli, write_script):
    write_script("gpu.py", SCRIPT)
    log = tmp_path / "log.jsonl"
    cli("run", "--out", "s", "--gpus", "0,1,2,3", "--jobs-per-gpu", "2", "--plain", "--",
        PY, "gpu.py", "--x", "range(0, 16)", "--log", str(log), check=True)
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(runs) == 16
    assert all(r["gpu"] in {"0", "1", "2", "3"} for r in runs)  # exactly one id each
    events = sorted([(r["start"], 1, r["gpu"]) for r in runs] + [(r["end"], -1, r["gpu"]) for r in runs])
    load = dict.fromkeys("0123", 0)
    peak = 0
    for _, delta, gpu in events:
        load[gpu] += delta
        assert load[gpu] <= 2
        peak = max(peak, sum(load.values()))
    assert peak >= 5  # the 8 slots were really used in parallel
    assert {r["gpu"] for r in runs} == {"0", "1", "2", "3"}


def test_allocator_prefers_free_gpus_and_caps_jobs():
    alloc = GpuAllocator(["0", "1", "2"], jobs_per_gpu=2)
    picks = []
    for _ in range(6):
        gpu = alloc.choose(now=0.0)
        assert gpu is not None
        alloc.take(gpu, now=0.0)
        picks.append(gpu)
    assert picks[:3] == ["0", "1", "2"]  # every GPU gets one before any gets two
    assert sorted(picks) == ["0", "0", "1", "1", "2", "2"]
    assert alloc.choose(now=0.0) is None
    alloc.give("1")
    assert alloc.choose(now=0.0) == "1"


def test_allocator_admission_by_load_memory_and_warmup():
    probe = FakeProbe(2)
    alloc = GpuAllocator(["0", "1"], jobs_per_gpu=4, probe=probe, allowed_load=0.5,
                         allowed_memory=0.6, warmup=10.0)
    probe.set("0", load=0.9, memory_used=0.1)  # busy
    probe.set("1", load=0.1, memory_used=0.9)  # full
    assert alloc.choose(now=0.0) is None
    probe.set("1", load=0.1, memory_used=0.2)
    assert alloc.choose(now=0.0) == "1"
    alloc.take("1", now=0.0)
    assert alloc.choose(now=5.0) is None  # GPU 1 warms up, GPU 0 is busy
    assert alloc.choose(now=10.5) == "1"
    probe.set("0", load=0.0, memory_used=0.0)
    assert alloc.choose(now=10.5) == "0"  # fewer jobs first


@pytest.mark.parametrize("spec,message", [
    ("0,x", "not a GPU index"), ("1,1", "twice"),
])
def test_bad_gpu_lists(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_gpus(spec)


def test_gpus_all_uses_the_probe():
    assert parse_gpus("all", probe_factory=lambda: FakeProbe(3)) == ["0", "1", "2"]
    with pytest.raises(UsageError, match="no GPU"):
        parse_gpus("all", probe_factory=lambda: FakeProbe(0))
