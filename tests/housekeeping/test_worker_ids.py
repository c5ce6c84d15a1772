"""4 slots, 12 trials on TCP ports ``base + worker_id``: ids never collide; manifests; rerun."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from hpsweep.store import Store
from hpsweep.trial import TrialState
from tests.conftest import PY
from tests.housekeeping import scripts


def _free_block(size: int) -> int:
    """A base port such that base .. base+size-1 can all be bound right now."""
    for base in range(41000, 60000, 97):
        socks = []
        try:
            for port in range(base, base + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free block of ports")


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.fixture(scope="module")
def port_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("ports")
    (root / "ports.py").write_text(scripts.PORTS)
    base = _free_block(4)
    run_cli("run", "--out", "study", "--parallel", "4", "--metric", "loss", "--seed", "11",
            "--seed-arg", "seed", "--plain", "--", PY, "ports.py", "--x", "range(0, 12)",
            "--base", str(base), "--worker-id={worker_id}", cwd=root, check=True, timeout=120)
    return root / "study", base


def test_twelve_trials_on_four_slots_never_share_a_port(port_study: tuple[Path, int]) -> None:
    study, base = port_study
    store = Store.open(study / "study.db", readonly=True)
    trials = store.trials()
    store.close()
    assert len(trials) == 12
    assert all(t.state is TrialState.COMPLETED for t in trials), [(t.trial_id, t.error) for t in trials]
    assert sorted(int(t.config["x"]) for t in trials) == list(range(12))
    for t in trials:
        assert t.worker_id is not None and t.worker_id in range(4)
        assert t.last_metrics["port"] == base + t.worker_id
    # the script's own hold times and the controller's start/end times: running at the same time
    # means distinct worker ids
    held = {t.trial_id: (t.last_metrics["t0"], t.last_metrics["t1"]) for t in trials}
    ran = {t.trial_id: (t.started or 0.0, t.finished or 0.0) for t in trials}
    pairs = 0
    for a in trials:
        for b in trials:
            if a.trial_id < b.trial_id and (_overlaps(held[a.trial_id], held[b.trial_id])
                                            or _overlaps(ran[a.trial_id], ran[b.trial_id])):
                pairs += 1
                assert a.worker_id != b.worker_id, (a.trial_id, b.trial_id)
    assert pairs >= 6  # the four slots really ran side by side
    assert {t.worker_id for t in trials} == {0, 1, 2, 3}


def test_every_trial_has_a_manifest(port_study: tuple[Path, int]) -> None:
    study, _ = port_study
    store = Store.open(study / "study.db", readonly=True)
    trials = store.trials()
    store.close()
    for t in trials:
        manifest = json.loads((Path(t.trial_dir) / "manifest.json").read_text())
        assert manifest["trial_id"] == t.trial_id
        assert manifest["config"] == t.config
        assert manifest["seed"] == t.seed
        assert f"--worker-id={t.worker_id}" in manifest["argv"]
        assert f"--seed={t.seed}" in manifest["argv"]
        assert manifest["state"] == "completed"
        assert manifest["metrics"]["loss"] == t.last_metrics["loss"]
        assert manifest["finished"] >= manifest["started"]
        for key in ("cwd", "hostname", "python", "hpsweep", "git"):
            assert key in manifest


def test_rerun_reproduces_every_trial_without_touching_the_store(
        port_study: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    from hpsweep.cli.main import main
    from hpsweep.store import StudyDir

    study, _ = port_study
    before = (study / "study.db").read_bytes()
    store = Store.open(study / "study.db", readonly=True)
    trials = store.trials()
    store.close()
    holder = StudyDir(study)
    holder.acquire()  # as if a controller held the study
    try:
        for t in trials:
            assert main(["rerun", str(study), str(t.trial_id)]) == 0
            stdout = capsys.readouterr().out
            folder = study / "reruns" / f"{t.trial_id:04d}-1"
            assert str(folder) in stdout
            line = next(ln for ln in stdout.splitlines() if ln.startswith("loss"))
            assert line.split()[-1] == "same", stdout
            manifest = json.loads((folder / "manifest.json").read_text())
            assert manifest["metrics"]["loss"] == t.last_metrics["loss"]
            assert manifest["rerun_of"]["trial_id"] == t.trial_id
            assert manifest["seed"] == t.seed and manifest["worker_id"] == t.worker_id
            assert manifest["env"]["HPSWEEP_TRIAL_DIR"] == str(folder)
            seen = json.loads((folder / "seen.json").read_text())
            assert seen["seed"] == t.seed and seen["trial_dir"] == str(folder)
            assert (folder / "checkpoint").is_dir()
    finally:
        holder.release()
    assert (study / "study.db").read_bytes() == before


def test_rerun_numbering_out_and_gpu(port_study: tuple[Path, int], tmp_path: Path) -> None:
    from hpsweep.cli.main import main
    from tests.conftest import run_cli

    study, _ = port_study
    assert main(["rerun", str(study), "2"]) == 0
    assert main(["rerun", str(study), "2"]) == 0
    assert (study / "reruns" / "0002-2").is_dir() and (study / "reruns" / "0002-3").is_dir()
    out = tmp_path / "mine"
    run_cli("rerun", str(study), "3", "--out", str(out), "--gpu", "7", cwd=study.parent, check=True)
    assert json.loads((out / "seen.json").read_text())["gpu"] == "7"
    assert json.loads((out / "manifest.json").read_text())["gpu"] == "7"


@pytest.mark.parametrize("args,message", [
    (["99"], "trial 99 has no manifest"),
    (["x"], "TRIAL 'x': give a trial id"),
    (["1", "--timeout", "0"], "--timeout must be > 0"),
])
def test_rerun_bad_input(port_study: tuple[Path, int], args: list[str], message: str,
                         capsys: pytest.CaptureFixture[str]) -> None:
    from hpsweep.cli.main import main

    study, _ = port_study
    assert main(["rerun", str(study), *args]) == 2
    assert message in capsys.readouterr().err
