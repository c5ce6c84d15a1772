"""The conformance suite against the Ray executor on a real two-node local Ray cluster."""

from __future__ import annotations

import pytest

from hpsweep.executors.base import Executor
from hpsweep.testing.executors import ExecutorConformance, Target
from tests.harness.ray_cluster import RayCluster

pytestmark = [pytest.mark.ray, pytest.mark.slow]


class RayTarget(Target):
    name = "ray"

    def __init__(self, cluster: RayCluster) -> None:
        self.cluster = cluster

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        from hpsweep.executors.ray import RayExecutor

        # on_worker: each run needs a bit of the second node's "worker" resource, so it lands there
        resources = {"worker": 0.1} if on_worker else None
        return RayExecutor(address=self.cluster.address, max_concurrent=slots,
                           resources=resources, kill_grace=2.0)

    def lose(self, executor: Executor, trial_id: int) -> None:
        from hpsweep.executors.ray import RayExecutor

        assert isinstance(executor, RayExecutor)
        assert executor.node_of(trial_id), "the run has started on a node"
        self.cluster.kill_worker()

    def after_loss(self) -> None:
        self.cluster.add_worker()


class TestRayConformance(ExecutorConformance):
    @pytest.fixture
    def target(self, ray_cluster: RayCluster) -> Target:
        return RayTarget(ray_cluster)
