"""Fixtures that start real clusters on this machine: Slurm (slurm-wlm) and Ray (two nodes).

Each starts once per test session (on first use) and is torn down at its end, leaving no
daemon behind. A test that needs one is skipped, with the reason, only when it cannot start here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.ray_cluster import RayCluster, start_ray_cluster
from tests.harness.slurm import SlurmCluster, SlurmUnavailable, start_slurm


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    base = Path(tempfile.mkdtemp(prefix="hpsweep-slurm-"))
    try:
        with start_slurm(base, cpus=4) as cluster:
            old = os.environ.get("SLURM_CONF")
            os.environ["SLURM_CONF"] = str(cluster.conf)
            try:
                yield cluster
            finally:
                if old is None:
                    os.environ.pop("SLURM_CONF", None)
                else:
                    os.environ["SLURM_CONF"] = old
    except SlurmUnavailable as exc:
        pytest.skip(f"Slurm cannot start on this machine: {exc}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.skip("Ray is not installed: pip install 'hpsweep[ray]'")
    with start_ray_cluster(cpus_per_node=2) as cluster:
        yield cluster
