"""GPU placement: which GPU a trial gets, and whether a GPU may take one more.

Free GPUs first, at most ``jobs_per_gpu`` trials per GPU. With a probe, a GPU is also admitted
only while its load and used-memory fraction are under the limits, and not during the warm-up
delay after a launch on it (hypnettorch's ``allowed_load``, ``allowed_memory`` and
``sim_startup_time``). The probe is injectable: NVML on real machines, a fake one in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hpsweep.errors import UsageError

__all__ = ["FakeProbe", "GpuAllocator", "GpuInfo", "GpuProbe", "NvmlProbe", "parse_gpus"]


@dataclass(frozen=True)
class GpuInfo:
    index: str
    load: float  # 0..1
    memory_used: float  # fraction 0..1


class GpuProbe(Protocol):
    def read(self) -> list[GpuInfo]: ...


class NvmlProbe:
    """Reads GPU load and memory through NVML (``pip install hpsweep[gpu]``)."""

    def __init__(self) -> None:
        try:
            import pynvml
        except ImportError as exc:
            raise UsageError(
                "GPU probing needs NVML bindings: pip install 'hpsweep[gpu]' (nvidia-ml-py)."
            ) from exc
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            raise UsageError(f"NVML could not start ({exc}); is an NVIDIA driver installed?") from exc
        self._nvml = pynvml

    def read(self) -> list[GpuInfo]:
        nv = self._nvml
        out = []
        for i in range(nv.nvmlDeviceGetCount()):
            handle = nv.nvmlDeviceGetHandleByIndex(i)
            util = nv.nvmlDeviceGetUtilizationRates(handle)
            mem = nv.nvmlDeviceGetMemoryInfo(handle)
            out.append(GpuInfo(str(i), util.gpu / 100.0, mem.used / max(mem.total, 1)))
        return out


class FakeProbe:
    """A probe with settable readings, for tests and dry runs."""

    def __init__(self, count: int, *, load: float = 0.0, memory_used: float = 0.0) -> None:
        self.readings = {str(i): GpuInfo(str(i), load, memory_used) for i in range(count)}

    def set(self, index: str, *, load: float, memory_used: float) -> None:
        self.readings[index] = GpuInfo(index, load, memory_used)

    def read(self) -> list[GpuInfo]:
        return list(self.readings.values())


def parse_gpus(spec: str | None, probe_factory: Callable[[], GpuProbe] = NvmlProbe) -> list[str]:
    """``--gpus``: ``"0,1,3"`` or ``"all"`` (every GPU the probe sees); None/empty: no GPUs."""
    if not spec:
        return []
    if spec.strip() == "all":
        gpus = [g.index for g in probe_factory().read()]
        if not gpus:
            raise UsageError("--gpus all: no GPU was found on this machine; drop --gpus to use CPU slots.")
        return gpus
    ids = [part.strip() for part in spec.split(",") if part.strip()]
    for gid in ids:
        if not gid.isdigit():
            raise UsageError(f"--gpus {spec!r}: {gid!r} is not a GPU index; write e.g. --gpus 0,1 or --gpus all.")
    if len(set(ids)) != len(ids):
        raise UsageError(f"--gpus {spec!r} names a GPU twice.")
    return ids


class GpuAllocator:
    """Chooses the GPU for the next trial."""

    def __init__(
        self,
        gpus: Sequence[str],
        *,
        jobs_per_gpu: int = 1,
        probe: GpuProbe | None = None,
        allowed_load: float | None = None,
        allowed_memory: float | None = None,
        warmup: float = 0.0,
    ) -> None:
        if jobs_per_gpu < 1:
            raise UsageError(f"--jobs-per-gpu must be >= 1, got {jobs_per_gpu}.")
        for name, limit in (("allowed load", allowed_load), ("allowed memory", allowed_memory)):
            if limit is not None and not 0.0 < limit <= 1.0:
                raise UsageError(f"{name} must be a fraction in (0, 1], got {limit}.")
        self.gpus = list(gpus)
        self.jobs_per_gpu = jobs_per_gpu
        self.probe = probe
        self.allowed_load = allowed_load
        self.allowed_memory = allowed_memory
        self.warmup = warmup
        self.jobs: dict[str, int] = dict.fromkeys(self.gpus, 0)
        self._last_launch: dict[str, float] = {}

    @property
    def capacity(self) -> int:
        return len(self.gpus) * self.jobs_per_gpu

    def choose(self, now: float) -> str | None:
        """The least-loaded admissible GPU, or None."""
        readings = {}
        if self.probe is not None and (self.allowed_load is not None or self.allowed_memory is not None):
            readings = {g.index: g for g in self.probe.read()}
        candidates = []
        for gpu in self.gpus:
            if self.jobs[gpu] >= self.jobs_per_gpu:
                continue
            if now - self._last_launch.get(gpu, -1e18) < self.warmup:
                continue
            info = readings.get(gpu)
            if info is not None:
                if self.allowed_load is not None and info.load > self.allowed_load:
                    continue
                if self.allowed_memory is not None and info.memory_used > self.allowed_memory:
                    continue
            candidates.append((self.jobs[gpu], self.gpus.index(gpu), gpu))
        return min(candidates)[2] if candidates else None

    def take(self, gpu: str, now: float) -> None:
        self.jobs[gpu] += 1
        self._last_launch[gpu] = now

    def give(self, gpu: str) -> None:
        self.jobs[gpu] = max(0, self.jobs[gpu] - 1)
