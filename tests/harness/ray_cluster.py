"""Start and stop a real two-node Ray cluster on this machine.

The head node carries the custom resource ``head`` and the second node ``worker``, so a test can
tell where a trial ran and can kill the second node to simulate a lost machine. Each node gets a
few CPUs and a small object store; the dashboard is off. ``start_ray_cluster`` also connects this
process as the driver (so a :class:`~hpsweep.executors.ray.RayExecutor` created in the test reuses
the connection); ``address`` is what ``hpsweep run --ray-address`` takes.

Example::

    with start_ray_cluster(cpus_per_node=2) as cluster:
        ...
        cluster.kill_worker()
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RayCluster", "start_ray_cluster"]

_OBJECT_STORE = 80 * 1024 * 1024
# Notice a dead node within about two seconds instead of the default half minute.
_SYSTEM_CONFIG = {"health_check_period_ms": 500, "health_check_failure_threshold": 3,
                  "health_check_initial_delay_ms": 1000}


@dataclass
class RayCluster:
    """A running local Ray cluster (head + one worker node) and its start-up time in seconds."""

    cluster: Any
    worker: Any
    address: str
    startup_s: float
    cpus_per_node: int
    extra_workers: list[Any] = field(default_factory=list)

    def kill_worker(self) -> None:
        """Kill the worker node's processes at once (as if its machine went away)."""
        self.cluster.remove_node(self.worker, allow_graceful=False)

    def add_worker(self) -> None:
        """Add a fresh worker node (with the ``worker`` resource) and wait until it is up."""
        node = self.cluster.add_node(num_cpus=self.cpus_per_node, resources={"worker": 1},
                                     object_store_memory=_OBJECT_STORE)
        self.cluster.wait_for_nodes()
        self.worker = node

    def node_ids(self) -> set[str]:
        import ray

        return {n["NodeID"] for n in ray.nodes() if n["Alive"]}


@contextlib.contextmanager
def start_ray_cluster(*, cpus_per_node: int = 2, connect: bool = True) -> Iterator[RayCluster]:
    """Start a head and a worker node; tear both down (and the driver connection) afterwards."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    from ray.cluster_utils import Cluster

    t0 = time.monotonic()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": cpus_per_node, "resources": {"head": 1},
                        "object_store_memory": _OBJECT_STORE, "include_dashboard": False,
                        "_system_config": _SYSTEM_CONFIG},
    )
    try:
        worker = cluster.add_node(num_cpus=cpus_per_node, resources={"worker": 1},
                                  object_store_memory=_OBJECT_STORE)
        cluster.wait_for_nodes()
        if connect:
            ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        handle = RayCluster(cluster=cluster, worker=worker, address=cluster.address,
                            startup_s=time.monotonic() - t0, cpus_per_node=cpus_per_node)
        yield handle
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
