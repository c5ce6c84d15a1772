"""The conformance suite against the LSF executor, with a fake bsub/bjobs/bkill on PATH."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpsweep.executors.base import Executor
from hpsweep.executors.batch import BatchExecutor
from hpsweep.executors.lsf import lsf_executor
from hpsweep.testing.executors import ExecutorConformance, Target
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


def test_bsub_is_called_with_the_cluster_flags_and_jobs_can_be_found_again(
        fake_lsf: FakeLsf, tmp_path: Path) -> None:
    from hpsweep.testing.executors import collect, exited, make_spec

    executor = lsf_executor(max_jobs=1, resources="rusage[mem=8000]", time="1:30",
                            poll_interval=0.1, status_interval=0.3)
    spec = make_spec(tmp_path, 3, "--epochs", "1")
    executor.launch(executor.reserve() or pytest.fail("no slot"), spec)
    job_id = executor.job_id(3)
    collect(executor, exited(3), 30)
    (call,) = fake_lsf.calls("bsub")
    assert call[call.index("-W") + 1] == "1:30"
    assert call[call.index("-R") + 1] == "rusage[mem=8000]"
    assert call[call.index("-n") + 1] == "1"
    assert call[-1] == str(Path(spec.trial_dir).resolve() / "job.sh")
    name = call[call.index("-J") + 1]
    assert name.startswith("hpsweep-3-")
    backend = executor.backend
    assert backend.find(name) == job_id
    assert backend.find("hpsweep-unknown") is None
    assert fake_lsf.calls("bjobs"), "states come from bjobs"
