"""The scheduler contract: when to stop, pause or resume trials, and what runs next.

The tuner calls, in this order of a trial's life: :meth:`Scheduler.suggest` (start a new
configuration or resume a paused trial), :meth:`Scheduler.on_trial_start`, :meth:`Scheduler.on_report`
for every report (answering CONTINUE / PAUSE / STOP), and :meth:`Scheduler.on_trial_end` when the
trial's process has ended (paused, completed, stopped or failed).

A scheduler's state must be rebuildable from the store: :meth:`Scheduler.restore` receives every
trial with its reports and final states. Randomness comes from the scheduler's own generator,
seeded from ``seed`` and a counter that is itself a function of the history, so a resumed study
decides the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from hpsweep.search.base import Mode, Searcher
from hpsweep.trial import CONTINUE, Report, StartTrial, Suggestion, TrialRecord, Verdict

__all__ = ["FIFOScheduler", "Scheduler"]


class Scheduler(ABC):
    """Decides per report and per free slot. Keyword-only constructor in every subclass."""

    def __init__(
        self,
        *,
        searcher: Searcher,
        metric: str,
        mode: Mode,
        resource_attr: str = "epoch",
        max_resource: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.searcher = searcher
        self.metric = metric
        self.mode: Mode = mode
        self.resource_attr = resource_attr
        self.max_resource = max_resource
        self.seed = seed

    @abstractmethod
    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        """What to run in a free slot.

        ``trial_id`` is the id a new trial would get. ``allow_new`` is False once the study's
        trial budget is spent (only resumes are allowed then). None means nothing to run now.
        """

    def on_trial_start(self, trial: TrialRecord) -> None:
        """A trial was started or resumed (``trial.resource`` is its target budget)."""

    def on_report(self, trial: TrialRecord, report: Report) -> Verdict:
        """Decide on one report of a running trial."""
        return CONTINUE

    def on_trial_end(self, trial: TrialRecord) -> None:
        """The trial's process ended; ``trial.state`` says how (PAUSED, COMPLETED, ...)."""

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        """Rebuild state from the store's trials, reports included (trial-id order)."""
        self.searcher.restore(trials)


class FIFOScheduler(Scheduler):
    """Runs every configuration the searcher gives to its end; never stops or pauses."""

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        if not allow_new:
            return None
        config = self.searcher.suggest(trial_id)
        if config is None:
            return None
        return StartTrial(config=config, resource=self.max_resource, reason="new configuration")

    def on_trial_end(self, trial: TrialRecord) -> None:
        self.searcher.on_trial_complete(trial)

    def on_report(self, trial: TrialRecord, report: Report) -> Verdict:
        value = report.metrics.get(self.metric)
        if isinstance(value, (int, float)):
            self.searcher.on_report(trial.trial_id, trial.config, report.step, float(value))
        return CONTINUE
