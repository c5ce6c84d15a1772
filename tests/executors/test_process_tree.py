"""A trial's whole process tree dies with the trial and with its controller.

The trial (``escaper.py``) starts three processes that detach in the ways a script can: a new
session with a cleared environment, a double fork, the ``setsid`` program. Each writes its pid;
the test then ends the trial (it exits, it is stopped, its controller is killed with SIGKILL)
and waits, with a generous bound that only a failure reaches, for every one to be gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from hpsweep.executors.base import ExitEvent, LaunchSpec
from hpsweep.executors.local import LocalExecutor
from hpsweep.executors.metrics import MetricParser
from hpsweep.executors.recovery import settle
from tests.conftest import PY, cli_env

ESCAPER = str(Path(__file__).with_name("escaper.py"))
NAMES = ("session.pid", "double.pid", "setsid.pid")
BOUND = 60.0  # seconds; reached only when something is wrong

pytestmark = pytest.mark.skipif(shutil.which("setsid") is None, reason="needs the setsid program")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + BOUND
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def escaped_pids(piddir: Path) -> list[int]:
    wait_for(lambda: all((piddir / n).exists() for n in NAMES), "the escapers' pid files")
    return [int((piddir / n).read_text()) for n in NAMES]


def assert_all_die(pids: list[int]) -> None:
    wait_for(lambda: not any(alive(p) for p in pids), f"processes {pids} to die")


def children(pid: int) -> list[int]:
    """The live children of ``pid``, from the kernel's children lists."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return [c for c in found if alive(c)]


def spec(tmp_path: Path, mode: str) -> LaunchSpec:
    trial_dir = tmp_path / "trials" / "0"
    return LaunchSpec(trial_id=0, argv=(PY, ESCAPER, str(tmp_path / "pids"), mode),
                      trial_dir=str(trial_dir), cwd=str(tmp_path),
                      env={"HPSWEEP_REPORT_FILE": str(trial_dir / "reports.jsonl")})


def run_until_exit(executor: LocalExecutor) -> ExitEvent:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        for event in executor.poll(0.2):
            if isinstance(event, ExitEvent):
                return event
    raise AssertionError("the trial did not exit")


def test_escapers_die_when_the_trial_ends(tmp_path: Path) -> None:
    executor = LocalExecutor(slots=1, kill_grace=1.0)
    try:
        slot = executor.reserve()
        assert slot is not None
        executor.launch(slot, spec(tmp_path, "end"))
        end = run_until_exit(executor)
        assert end.exit_code == 0
        pids = escaped_pids(tmp_path / "pids")
        assert_all_die(pids)
        record = json.loads((tmp_path / "trials" / "0" / "exit.json").read_text())
        assert record["exit_code"] == 0 and record["signal"] is None
    finally:
        executor.shutdown(kill=True)


def test_escapers_die_when_the_trial_is_stopped(tmp_path: Path) -> None:
    executor = LocalExecutor(slots=1, kill_grace=1.0)
    try:
        slot = executor.reserve()
        assert slot is not None
        executor.launch(slot, spec(tmp_path, "wait"))
        pids = escaped_pids(tmp_path / "pids")
        executor.stop(0)
        end = run_until_exit(executor)
        assert end.stopped and end.exit_code == -signal.SIGTERM
        assert_all_die(pids)
        record = json.loads((tmp_path / "trials" / "0" / "exit.json").read_text())
        assert record == {**record, "exit_code": None, "signal": signal.SIGTERM}
    finally:
        executor.shutdown(kill=True)


def test_escapers_die_with_a_sigkilled_controller(tmp_path: Path) -> None:
    study = tmp_path / "study"
    cmd = [PY, "-m", "hpsweep", "run", "--out", str(study), "--metric", "loss", "--plain",
           "--num-trials", "1", "--", PY, ESCAPER, str(tmp_path / "pids"), "wait"]
    controller = subprocess.Popen(cmd, cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    try:
        pids = escaped_pids(tmp_path / "pids")
        # the reaper, the trial's wrapper and the spare wrapper waiting for the next launch
        wait_for(lambda: len(children(controller.pid)) >= 3, "the controller's three children")
        helpers = children(controller.pid)
    finally:
        controller.send_signal(signal.SIGKILL)
        controller.wait()
    assert_all_die(pids + helpers)
    trial_dir = next((study / "trials").iterdir())
    # Ended by the controller's death, not by itself: no exit record, so it is not "finished".
    assert not (trial_dir / "exit.json").exists()
    assert settle(trial_dir, MetricParser(), None).finished is None


def test_a_trial_that_ended_as_its_controller_died_is_on_disk(tmp_path: Path) -> None:
    """The trial ends, then its controller is killed before it could record the end."""
    study = tmp_path / "study"
    script = tmp_path / "quick.py"
    script.write_text(
        "import os, pathlib, hpsweep\n"
        "hpsweep.report(step=1, loss=0.25)\n"
        "print('[hpsweep] {\"step\": 2, \"loss\": 0.125}', flush=True)\n"
        "pathlib.Path(os.environ['HPSWEEP_TRIAL_DIR'], 'summary.json').write_text('{\"acc\": 1}')\n"
        # the controller is stopped (not killed) so it cannot record the exit
        "os.kill(int(pathlib.Path(os.environ['CONTROLLER_PID_FILE']).read_text()), 19)\n"
    )
    pid_file = tmp_path / "controller.pid"
    env = {**cli_env(), "CONTROLLER_PID_FILE": str(pid_file)}
    cmd = [PY, "-m", "hpsweep", "run", "--out", str(study), "--metric", "loss", "--plain",
           "--num-trials", "1", "--", PY, str(script)]
    controller = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    pid_file.write_text(str(controller.pid))
    try:
        trial_dir = study / "trials" / "0000"
        wait_for(lambda: (trial_dir / "exit.json").exists(), "the exit record")
    finally:
        controller.send_signal(signal.SIGKILL)
        controller.wait()
    settled = settle(trial_dir, MetricParser(), "summary.json")
    assert settled.exit_code == 0 and settled.finished is not None
    assert [(s, m) for s, m, _ in settled.reports] == [
        (1, {"loss": 0.25}), (2, {"loss": 0.125}), (None, {"acc": 1})]
    # resume settles the trial from its folder instead of running it again
    done = subprocess.run([PY, "-m", "hpsweep", "resume", str(study), "--plain"], cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from hpsweep.store import Store
    from hpsweep.trial import TrialState

    store = Store.open(study / "study.db", readonly=True)
    (trial,) = store.trials()
    recovered = store.events("recovered")
    store.close()
    assert trial.state is TrialState.COMPLETED and trial.runs == 1
    assert [r.step for r in trial.reports] == [1, 2] and trial.last_metrics["loss"] == 0.125
    assert len(recovered) == 1 and recovered[0].data["ended"] is True


def test_a_carriage_return_flood_does_not_grow_the_reader(tmp_path: Path) -> None:
    from hpsweep.executors.metrics import FileTail

    log = tmp_path / "stdout.log"
    with log.open("wb") as fh:
        for _i in range(40):
            fh.write(b"".join(b"\r%d%% |####      |" % j for j in range(100_000)))
        fh.write(b"\r[hpsweep] {\"step\": 9, \"loss\": 0.5}\n")
    tail = FileTail(log)
    total = 0
    while True:
        chunk = tail.read_lines()
        if not chunk:
            break
        total += 1
        assert len(chunk) <= FileTail.per_call // 10  # bounded per call
        last = chunk[-1]
    assert tail.offset == log.stat().st_size and total > 1
    assert MetricParser().parse_stdout_line(last) is not None
    os.sync()


def test_escapers_die_even_when_their_wrapper_is_killed(tmp_path: Path) -> None:
    """With a writable cgroup v2 folder each trial has a cgroup of its own, which outlives a
    wrapper killed with SIGKILL and is emptied by the controller."""
    from hpsweep.executors._wrap import CGROUP_PREFIX, cgroup_base

    if cgroup_base() is None:
        pytest.skip("no writable cgroup v2 folder here")
    executor = LocalExecutor(slots=1, kill_grace=1.0)
    try:
        slot = executor.reserve()
        assert slot is not None
        executor.launch(slot, spec(tmp_path, "wait"))
        pids = escaped_pids(tmp_path / "pids")
        assert all(CGROUP_PREFIX in Path(f"/proc/{p}/cgroup").read_text() for p in pids)
        wrapper = executor.pid_of(0)
        assert wrapper is not None
        os.kill(wrapper, signal.SIGKILL)
        run_until_exit(executor)
        assert_all_die(pids)
    finally:
        executor.shutdown(kill=True)


def test_a_spare_wrapper_waits_for_the_next_launch_and_ends_with_the_executor(tmp_path: Path) -> None:
    """After a launch one wrapper is started ahead of need; killed before its launch, it is
    replaced (the launch still runs its trial); shutdown ends the one still waiting."""
    executor = LocalExecutor(slots=1, kill_grace=1.0)
    script = tmp_path / "hello.py"
    script.write_text("import os, sys\nprint('[hpsweep] {\"loss\": 0.5}')\n"
                      "print(os.getcwd(), os.environ['MARK'], file=sys.stderr)\n")
    try:
        for trial_id in range(3):
            slot = executor.reserve()
            assert slot is not None
            spare = executor._spare
            if trial_id == 1:  # the spare dies before its launch
                assert spare is not None and spare.poll() is None
                spare.kill()
                spare.wait()
            trial_dir = tmp_path / "trials" / str(trial_id)
            executor.launch(slot, LaunchSpec(
                trial_id=trial_id, argv=(PY, str(script)), trial_dir=str(trial_dir),
                cwd=str(tmp_path), env={"MARK": f"m{trial_id}",
                                        "HPSWEEP_REPORT_FILE": str(trial_dir / "reports.jsonl")}))
            end = run_until_exit(executor)
            assert end.exit_code == 0
            assert (trial_dir / "stderr.log").read_text().split() == [str(tmp_path), f"m{trial_id}"]
            assert executor._spare is not None and executor._spare is not spare
        waiting = executor._spare
        assert waiting.poll() is None
    finally:
        executor.shutdown(kill=True)
    assert waiting.returncode == 0 and executor._spare is None
    from hpsweep.executors._wrap import cgroup_base, trial_cgroup

    base = cgroup_base()
    if base is not None:  # every wrapper's cgroup, used or not, is gone with the executor
        assert not [p for p in (spare.pid, waiting.pid) if os.path.isdir(trial_cgroup(base, p))]
