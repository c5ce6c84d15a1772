"""What a study has spent so far: configurations started, the resource each trial reached,
failures. Kept as trials change, so the loop never recounts the study."""

from __future__ import annotations

from collections.abc import Iterable

from hpsweep.trial import TrialRecord, TrialState

__all__ = ["Progress", "counts_as_configuration"]


def counts_as_configuration(trial: TrialRecord) -> bool:
    """Whether ``trial`` is a configuration of the first lap (what ``--num-trials`` counts)."""
    return trial.repetition == 0 and "rerun_of" not in trial.run_info


class Progress:
    """The study's spending: ``started`` configurations, ``spent`` resource (the sum over trials
    of the largest step each reported) and ``failures``."""

    def __init__(self) -> None:
        self.started = 0
        self.failures = 0
        self.spent = 0.0
        self._reached: dict[int, int] = {}

    @classmethod
    def of(cls, trials: Iterable[TrialRecord]) -> Progress:
        progress = cls()
        for trial in trials:
            if counts_as_configuration(trial):
                progress.started += 1
            if trial.state is TrialState.FAILED:
                progress.failures += 1
            progress.recount(trial)
        return progress

    def reported(self, trial_id: int) -> bool:
        """Whether the trial ever reported a step."""
        return trial_id in self._reached

    def started_trial(self, trial: TrialRecord) -> None:
        if counts_as_configuration(trial):
            self.started += 1

    def reach(self, trial_id: int, step: int | None) -> bool:
        """A report at ``step``; True when it moved the trial (and the study's spending) on."""
        if step is None or step <= self._reached.get(trial_id, 0):
            return False
        self.spent += step - self._reached.get(trial_id, 0)
        self._reached[trial_id] = step
        return True

    def recount(self, trial: TrialRecord) -> None:
        """The trial's reports changed (a run's reports were replaced): count it again."""
        self.spent -= self._reached.pop(trial.trial_id, 0)
        steps = [r.step for r in trial.reports if r.step is not None]
        if steps:
            self._reached[trial.trial_id] = max(steps)
            self.spent += max(steps)
