"""Study housekeeping: checkpoints that can no longer be used, folders of poor trials, whole studies.

Three pieces, each careful never to touch what a controller may still need:

- :class:`CheckpointKeeper`, a tuner callback for ``--keep-checkpoints all|best|none``: removes
  ``<trial_dir>/checkpoint`` as soon as nothing will read it again;
- :func:`plan_gc` and :func:`delete_trial_folders` for ``hpsweep gc``: trial folders chosen by
  rule, never the store;
- :func:`remove_study` for ``hpsweep rm``: a whole study folder, only when no controller holds it.

When is a checkpoint still needed? hpsweep reads a trial's checkpoint in two cases only: when a
PAUSED trial is resumed, and when PBT continues another trial from it (``checkpoint_from``). So a
checkpoint is kept while its trial is RUNNING or PAUSED; a trial in a final state (completed,
stopped, failed, interrupted: an interrupted trial is re-run from scratch as a new trial, never
resumed) has a checkpoint nobody reads, except under PBT, whose donors may be any trial: there the
keeper waits for :meth:`CheckpointKeeper.finish`. Trials still PAUSED when a sweep ends keep their
checkpoint by default, because resuming the study can still promote them
(``remove_paused_at_end=True`` removes them at :meth:`~CheckpointKeeper.finish`).
"""

from __future__ import annotations

import math
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from hpsweep.errors import StudyError, UsageError
from hpsweep.store import StudyDir
from hpsweep.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hpsweep.results import StudyData
    from hpsweep.tuner._tuner import Tuner

__all__ = [
    "CHECKPOINT_DIR",
    "KEEP_CHECKPOINTS",
    "LIVE_GRACE",
    "CheckpointKeeper",
    "GcPlan",
    "GcRule",
    "check_is_study",
    "delete_trial_folders",
    "folder_size",
    "parse_age",
    "plan_gc",
    "remove_study",
]

CHECKPOINT_DIR = "checkpoint"
KEEP_CHECKPOINTS = ("all", "best", "none")
KeepMode = Literal["all", "best", "none"]
# While a controller holds the study, trials that ended less than this many seconds ago are left
# alone: the controller may still be writing their manifest and results.
LIVE_GRACE = 30.0


# -- checkpoints during a sweep ------------------------------------------------------------------
class CheckpointKeeper:
    """Tuner callback for ``--keep-checkpoints``.

    ``keep="all"`` removes nothing; ``"none"`` removes the checkpoint of every trial as soon as it
    reaches a final state; ``"best"`` does the same but keeps the checkpoint of the best COMPLETED
    trial by the study's objective (the previous best's goes when it is overtaken). Removals are
    recorded in the store as ``checkpoint_removed`` events.

    >>> keeper = CheckpointKeeper(keep="none")
    >>> # load_study(study, callbacks=[keeper]); tuner.run(); keeper.finish(tuner)
    """

    def __init__(self, *, keep: str = "all", remove_paused_at_end: bool = False) -> None:
        if keep not in KEEP_CHECKPOINTS:
            raise UsageError(f"--keep-checkpoints {keep!r}: use one of {', '.join(KEEP_CHECKPOINTS)}.")
        self.keep: KeepMode = keep  # type: ignore[assignment]
        self.remove_paused_at_end = remove_paused_at_end
        self.best: int | None = None  # trial id whose checkpoint "best" keeps
        self.removed: list[int] = []  # trial ids whose checkpoint was removed, in order
        self._caught_up = False

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if self.keep == "all":
            return
        if not self._caught_up:  # trials that ended under an earlier controller
            self._caught_up = True
            for old in sorted(tuner.trials.values(), key=lambda t: t.trial_id):
                if old is not trial:
                    self._consider(old, tuner)
        if kind == "end" and trial is not None:
            self._consider(trial, tuner)

    def finish(self, tuner: Tuner) -> None:
        """At the end of a sweep: what was deferred (PBT donors) and, when asked, paused trials."""
        if self.keep == "all":
            return
        for trial in sorted(tuner.trials.values(), key=lambda t: t.trial_id):
            if trial.state.is_final:
                self._consider(trial, tuner, at_end=True)
            elif trial.state is TrialState.PAUSED and self.remove_paused_at_end:
                self._remove(trial, tuner, "paused when the sweep ended")

    def _consider(self, trial: TrialRecord, tuner: Tuner, *, at_end: bool = False) -> None:
        if not trial.state.is_final or (_copies_checkpoints(tuner) and not at_end):
            return
        if self.keep == "best" and self._is_new_best(trial, tuner):
            previous, self.best = self.best, trial.trial_id
            if previous is not None and previous in tuner.trials:
                self._remove(tuner.trials[previous], tuner, f"overtaken by trial {trial.trial_id}")
            return
        if trial.trial_id != self.best:
            self._remove(trial, tuner, f"trial {trial.state.value}")

    def _is_new_best(self, trial: TrialRecord, tuner: Tuner) -> bool:
        if trial.state is not TrialState.COMPLETED:
            return False
        value = _finite(trial.value(tuner.metrics[0]))
        if value is None:
            return False
        if self.best is None or self.best not in tuner.trials:
            return True
        best = _finite(tuner.trials[self.best].value(tuner.metrics[0]))
        if best is None:
            return True
        return value < best if tuner.scheduler.mode == "min" else value > best

    def _remove(self, trial: TrialRecord, tuner: Tuner, reason: str) -> None:
        if not trial.trial_dir:
            return
        target = Path(trial.trial_dir) / CHECKPOINT_DIR
        if not (target.exists() or target.is_symlink()):
            return
        _remove_path(target)
        self.removed.append(trial.trial_id)
        tuner.store.add_event("checkpoint_removed", time=tuner.now, trial_id=trial.trial_id,
                              data={"path": str(target), "reason": reason, "keep": self.keep})


def _copies_checkpoints(tuner: Tuner) -> bool:
    """True for schedulers that continue a trial from another one's checkpoint (PBT)."""
    from hpsweep.schedulers.pbt import PBTScheduler

    return isinstance(tuner.scheduler, PBTScheduler)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _remove_path(path: Path) -> None:
    """Remove a folder (or a link to one, without following it)."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


# -- hpsweep gc ----------------------------------------------------------------------------------
_AGE = re.compile(r"\s*(?P<n>\d+(?:\.\d*)?)\s*(?P<unit>s|m|h|d|w)?\s*\Z")
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_age(text: str) -> float:
    """``"90"``, ``"30s"``, ``"15m"``, ``"12h"``, ``"7d"``, ``"2w"`` as seconds."""
    match = _AGE.match(text)
    if match is None:
        raise UsageError(f"--older-than {text!r}: write a number and a unit s, m, h, d or w "
                         "(e.g. 12h or 7d).")
    return float(match["n"]) * _UNIT[match["unit"] or "s"]


@dataclass(frozen=True)
class GcRule:
    """Which trial folders ``hpsweep gc`` removes.

    The selectors ``failed``, ``stopped``, ``interrupted`` and ``keep_best`` (every trial not
    among the N best by the objective) add trials; ``older_than`` (seconds since the trial ended)
    narrows the selection, or alone selects every old trial. Only final trials are chosen unless
    ``include_paused``; running trials never are.
    """

    failed: bool = False
    stopped: bool = False
    interrupted: bool = False
    keep_best: int | None = None
    older_than: float | None = None
    include_paused: bool = False

    def validate(self) -> None:
        if self.keep_best is not None and self.keep_best < 0:
            raise UsageError(f"--keep-best must be >= 0, got {self.keep_best}.")
        if self.older_than is not None and self.older_than < 0:
            raise UsageError(f"--older-than must not be negative, got {self.older_than:g} s.")
        if not (self.failed or self.stopped or self.interrupted or self.keep_best is not None
                or self.older_than is not None):
            raise UsageError("nothing to collect by: give --failed, --stopped, --interrupted, "
                             "--keep-best N and/or --older-than AGE.")

    @property
    def touches_only_final(self) -> bool:
        return not self.include_paused


@dataclass(frozen=True)
class GcPlan:
    """The trial folders that go, and the candidates left alone (with why)."""

    delete: tuple[TrialRecord, ...]
    spared: tuple[tuple[TrialRecord, str], ...]


def plan_gc(data: StudyData, rule: GcRule, *, now: float | None = None) -> GcPlan:
    """The trial folders ``rule`` removes from the study in ``data``.

    While a controller holds the study (``data.live``) only final trials are touched (a rule with
    ``include_paused`` is refused), a PBT study is refused (any final trial may still be a
    checkpoint donor), and trials that ended less than :data:`LIVE_GRACE` seconds ago are spared.
    """
    rule.validate()
    if data.live and not rule.touches_only_final:
        raise StudyError(f"study {data.root} is held by a live controller: --include-paused could "
                         "remove a trial it is about to resume. Wait for it to finish or stop it.")
    if data.live and (data.sweep.get("options") or {}).get("scheduler") == "pbt":
        raise StudyError(f"study {data.root} is a PBT study held by a live controller: any ended "
                         "trial may still be continued from. Run gc after the sweep.")
    now = time.time() if now is None else now
    allowed = {TrialState.PAUSED} if rule.include_paused else set()
    best = _best_ids(data, rule.keep_best) if rule.keep_best is not None else None
    delete: list[TrialRecord] = []
    spared: list[tuple[TrialRecord, str]] = []
    for trial in data.trials:
        if not (trial.state.is_final or trial.state in allowed):
            continue
        if not _selected(trial, rule, best, now):
            continue
        folder = _trial_folder(data.root, trial)
        if folder is None:
            spared.append((trial, "no trial folder inside the study"))
        elif data.live and (trial.finished is None or now - trial.finished < LIVE_GRACE):
            spared.append((trial, f"ended less than {LIVE_GRACE:g} s ago under a live controller"))
        else:
            delete.append(trial)
    return GcPlan(delete=tuple(delete), spared=tuple(spared))


def _selected(trial: TrialRecord, rule: GcRule, best: set[int] | None, now: float) -> bool:
    by_kind = rule.failed or rule.stopped or rule.interrupted or best is not None
    picked = ((rule.failed and trial.state is TrialState.FAILED)
              or (rule.stopped and trial.state is TrialState.STOPPED)
              or (rule.interrupted and trial.state is TrialState.INTERRUPTED)
              or (best is not None and trial.trial_id not in best))
    if rule.older_than is not None:
        ended = trial.finished if trial.finished is not None else trial.created
        old = now - ended >= rule.older_than
        return old and (picked or not by_kind)
    return picked


def _best_ids(data: StudyData, n: int) -> set[int]:
    """The N best trials among the ended ones with a value (a trial that is not among them now
    never will be: ended values do not change, and later trials only push it further down)."""
    from hpsweep.results import sort_trials, trial_value

    ended = [t for t in data.trials if t.state.is_final and trial_value(t, data.metric) is not None]
    return {t.trial_id for t in sort_trials(ended, data.metric, data.mode)[:n]}


def _trial_folder(root: Path, trial: TrialRecord) -> Path | None:
    """The trial's folder when it exists and lies under ``<study>/trials/`` (else None)."""
    if not trial.trial_dir:
        return None
    folder = Path(trial.trial_dir)
    trials_root = StudyDir(root).trials_root.resolve()
    try:
        resolved = folder.resolve()
        resolved.relative_to(trials_root)
    except (ValueError, OSError):
        return None
    if resolved == trials_root or folder.is_symlink() or not folder.is_dir():
        return None
    return folder


def delete_trial_folders(root: Path, trials: Sequence[TrialRecord]) -> list[Path]:
    """Remove the folders of ``trials`` (each checked again to lie under the study's trials/)."""
    removed: list[Path] = []
    for trial in trials:
        folder = _trial_folder(root, trial)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def folder_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (links not followed)."""
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
        except OSError:
            continue
    return total


# -- hpsweep rm ----------------------------------------------------------------------------------
def remove_study(path: str | Path) -> Path:
    """Delete a whole study folder; refuses a folder that is not a study and a held study.

    The controller lock is taken for the removal, so no controller can start on it meanwhile.
    """
    given = Path(path)
    if given.is_symlink():
        raise UsageError(f"{given} is a symbolic link; give the study folder itself.")
    study = StudyDir(given)
    check_is_study(study)
    study.acquire()  # raises StudyLockedError when a live controller holds it
    try:
        shutil.rmtree(study.root)
    finally:
        study.release()
    return study.root


def check_is_study(study: StudyDir) -> None:
    """Raise StudyError unless ``study`` is a folder hpsweep made (a readable store in it)."""
    from hpsweep.store import Store

    study.require()
    store = Store.open(study.db, readonly=True)  # raises StudyError for a foreign file
    store.close()
    if not study.sweep_file.is_file() and not study.trials_root.is_dir():
        raise StudyError(f"{study.root} has a study.db but neither sweep.json nor trials/: "
                         "not removing a folder that does not look like an hpsweep study.")
