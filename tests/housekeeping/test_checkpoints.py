"""``CheckpointKeeper``: checkpoints go as soon as nothing can read them; paused trials keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpsweep.cli.main import build_parser
from hpsweep.cli.run import options_from_args
from hpsweep.errors import UsageError
from hpsweep.store import Store, StudyDir
from hpsweep.trial import TrialRecord, TrialState
from hpsweep.tuner import Tuner
from hpsweep.tuner.housekeeping import CheckpointKeeper
from hpsweep.tuner.session import create_study, load_study
from tests.conftest import PY
from tests.housekeeping import scripts


class Probe:
    """Runs after the keeper: what was on disk right after each trial ended."""

    def __init__(self) -> None:
        self.at_end: list[tuple[int, TrialState, bool]] = []

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind == "end" and trial is not None:
            self.at_end.append((trial.trial_id, trial.state, (Path(trial.trial_dir) / "checkpoint").exists()))


class StopAfterPauses:
    """Stops the sweep the way Ctrl-C does once ``n`` runs have paused (running trials finish):
    the paused trials stay resumable."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind == "end" and trial is not None and trial.state is TrialState.PAUSED:
            self.n -= 1
            if self.n == 0:
                tuner.request_stop(kill=False, reason="interrupted by the user")


def _sweep(tmp_path: Path, scheduler: str, keeper: CheckpointKeeper, *, finish: bool = True,
           extra: tuple[str, ...] = ("--num-trials", "9"), stop_after_pauses: int | None = None,
           parallel: int = 2) -> tuple[list[TrialRecord], Probe]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "mf.py").write_text(scripts.CHECKPOINTING)
    command = [PY, str(tmp_path / "mf.py"), "--x", "uniform(0, 1)"]
    args = build_parser("run").parse_args([
        "run", "--parallel", str(parallel), "--metric", "loss", "--seed", "5", "--scheduler", scheduler,
        "--resource-arg", "epochs", "--max-resource", "9", "--min-resource", "1", *extra])
    options, sweep = options_from_args(args, command)
    options.cwd = str(tmp_path)
    study = StudyDir(tmp_path / "study")
    probe = Probe()
    study.acquire()
    try:
        create_study(study, options, sweep)
        callbacks: list = [keeper, probe]
        if stop_after_pauses is not None:
            callbacks.append(StopAfterPauses(stop_after_pauses))
        tuner, store, _, _ = load_study(study, callbacks=callbacks)
        try:
            tuner.run()
            if finish:
                keeper.finish(tuner)
        finally:
            store.close()
    finally:
        study.release()
    store = Store.open(study.db, readonly=True)
    try:
        return store.trials(), probe
    finally:
        store.close()


def _has_checkpoint(trial: TrialRecord) -> bool:
    return (Path(trial.trial_dir) / "checkpoint").exists()


def test_none_removes_stopped_checkpoints_at_once(tmp_path: Path) -> None:
    keeper = CheckpointKeeper(keep="none")
    trials, probe = _sweep(tmp_path, "asha", keeper, parallel=1)  # rung order = trial order
    stopped = [t for t in trials if t.state is TrialState.STOPPED]
    assert stopped and all(t.state.is_final for t in trials)
    assert not any(_has_checkpoint(t) for t in trials)
    assert all(not exists for _, state, exists in probe.at_end if state.is_final)  # right at the end
    assert sorted(keeper.removed) == sorted(t.trial_id for t in trials)
    store = Store.open(tmp_path / "study" / "study.db", readonly=True)
    logged = {e.trial_id for e in store.events("checkpoint_removed")}
    store.close()
    assert logged == {t.trial_id for t in trials}
    assert all((Path(t.trial_dir) / "manifest.json").is_file() for t in trials)  # only checkpoints go


def test_none_keeps_paused_checkpoints_for_their_resume(tmp_path: Path) -> None:
    trials, probe = _sweep(tmp_path, "promotion", CheckpointKeeper(keep="none"))
    resumed = [t for t in trials if t.runs > 1]
    assert resumed
    for t in resumed:  # every later run started from the epoch its checkpoint held
        starts = [int(line.split()[0]) for line in (Path(t.trial_dir) / "runs.txt").read_text().splitlines()]
        assert starts[0] == 0 and all(s > 0 for s in starts[1:])
    assert all(t.state.is_final for t in trials)  # the study ended: nothing can be resumed
    assert not any(_has_checkpoint(t) for t in trials)
    # while trials were paused, their checkpoints stayed for their resume
    assert all(exists for _, state, exists in probe.at_end if state is TrialState.PAUSED)


def test_a_stopped_sweep_keeps_the_paused_checkpoints(tmp_path: Path) -> None:
    trials, probe = _sweep(tmp_path, "promotion", CheckpointKeeper(keep="none"), stop_after_pauses=4)
    paused = [t for t in trials if t.state is TrialState.PAUSED]
    assert paused and all(_has_checkpoint(t) for t in paused)  # kept at the end by default
    assert not any(_has_checkpoint(t) for t in trials if t.state.is_final)
    assert all(exists for _, state, exists in probe.at_end if state is TrialState.PAUSED)


def test_best_keeps_only_the_best_completed(tmp_path: Path) -> None:
    keeper = CheckpointKeeper(keep="best")
    trials, _ = _sweep(tmp_path, "asha", keeper, parallel=1)  # rung order = trial order
    completed = [t for t in trials if t.state is TrialState.COMPLETED]
    assert len(completed) >= 2
    best = min(completed, key=lambda t: t.last_metrics["loss"])
    assert keeper.best == best.trial_id
    assert [t.trial_id for t in trials if _has_checkpoint(t)] == [best.trial_id]


def test_all_keeps_everything_and_paused_can_go_at_the_end(tmp_path: Path) -> None:
    trials, _ = _sweep(tmp_path / "a", "promotion", CheckpointKeeper(keep="all"))
    assert all(_has_checkpoint(t) for t in trials)
    trials, _ = _sweep(tmp_path / "b", "promotion",
                       CheckpointKeeper(keep="none", remove_paused_at_end=True), stop_after_pauses=4)
    assert any(t.state is TrialState.PAUSED for t in trials)
    assert not any(_has_checkpoint(t) for t in trials)


def test_bad_keep_mode() -> None:
    with pytest.raises(UsageError, match="--keep-checkpoints 'some': use one of all, best, none"):
        CheckpointKeeper(keep="some")


def test_finish_cleans_a_study_that_ran_without_a_keeper(tmp_path: Path) -> None:
    trials, _ = _sweep(tmp_path, "promotion", CheckpointKeeper(keep="all"))
    assert all(_has_checkpoint(t) for t in trials)
    study = StudyDir(tmp_path / "study")
    keeper = CheckpointKeeper(keep="none")
    study.acquire()
    try:
        tuner, store, _, _ = load_study(study, callbacks=[keeper])
        try:
            tuner.run()  # nothing left to run: no event reaches the keeper
            keeper.finish(tuner)
        finally:
            store.close()
    finally:
        study.release()
    for t in trials:
        assert _has_checkpoint(t) == (t.state is TrialState.PAUSED)


def test_pbt_donors_keep_their_checkpoints_until_the_end(tmp_path: Path) -> None:
    keeper = CheckpointKeeper(keep="none")
    trials, probe = _sweep(tmp_path, "pbt", keeper,
                           extra=("--num-trials", "4", "--perturbation-interval", "3"))
    assert all(t.state.is_final for t in trials)
    assert probe.at_end and all(exists for _, _, exists in probe.at_end)  # kept during the sweep
    assert sorted(keeper.removed) == [t.trial_id for t in trials]  # gone at finish()
    assert not any(_has_checkpoint(t) for t in trials)
