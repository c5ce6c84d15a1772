"""The conformance suite against the Slurm executor on a real local slurmctld + slurmd."""

from __future__ import annotations

import pytest

from hpsweep.executors.base import Executor
from hpsweep.executors.batch import BatchExecutor
from hpsweep.executors.slurm import slurm_executor
from hpsweep.testing.executors import ExecutorConformance, Target
from tests.harness.slurm import SlurmCluster

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


class SlurmTarget(Target):
    name = "slurm"

    def __init__(self, cluster: SlurmCluster) -> None:
        self.cluster = cluster

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        return slurm_executor(max_jobs=slots, mem="100M", poll_interval=0.1, status_interval=0.5)

    def lose(self, executor: Executor, trial_id: int) -> None:
        assert isinstance(executor, BatchExecutor)
        assert executor.job_id(trial_id) is not None
        self.cluster.set_node_down("hpsweep test: node lost")

    def after_loss(self) -> None:
        self.cluster.resume_node()


class TestSlurmConformance(ExecutorConformance):
    @pytest.fixture
    def target(self, slurm_cluster: SlurmCluster) -> Target:
        return SlurmTarget(slurm_cluster)
