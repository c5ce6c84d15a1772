"""The conformance suite against the LSF executor, with a fake bsub/bjobs/bkill on PATH."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpsweep.executors.base import Executor
from hpsweep.executors.batch import BatchExecutor
from hpsweep.executors.lsf import lsf_executor
from tests.executors.conformance import ExecutorConformance, Target
from tests.harness.fake_lsf import FakeLsf, install_fake_lsf


class LsfTarget(Target):
    name = "lsf"
    wait = 30.0

    def __init__(self, lsf: FakeLsf) -> None:
        self.lsf = lsf

    def make(self, *, slots: int, on_worker: bool = False) -> Executor:
        return lsf_executor(max_jobs=slots, resources="rusage[mem=8000]", poll_interval=0.1,
                            status_interval=0.3)

    def lose(self, executor: Executor, trial_id: int) -> None:
        assert isinstance(executor, BatchExecutor)
        job_id = executor.job_id(trial_id)
        assert job_id is not None
        self.lsf.lose(job_id)


@pytest.fixture
def fake_lsf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLsf]:
    lsf = install_fake_lsf(tmp_path / "lsf")
    monkeypatch.setenv("PATH", f"{lsf.bin_dir}{os.pathsep}{os.environ['PATH']}")
    yield lsf


class TestLsfConformance(ExecutorConformance):
    @pytest.fixture
    def target(self, fake_lsf: FakeLsf) -> Target:
        return LsfTarget(fake_lsf)
