"""The scheduler contract: when to stop, pause or resume trials, and what runs next.

The tuner calls, in this order of a trial's life: :meth:`Scheduler.suggest` (start a new
configuration or resume a paused trial), :meth:`Scheduler.on_trial_start`, :meth:`Scheduler.on_report`
for every report (answering CONTINUE / PAUSE / STOP), and :meth:`Scheduler.on_trial_end` when the
trial's process has ended (paused, completed, stopped or failed).

The end of a study is part of the contract. ``--num-trials N`` counts configurations started;
once the N-th has started (or the searcher has nothing more), the tuner calls
:meth:`Scheduler.no_more_arrivals` once, and from then on asks :meth:`Scheduler.suggest` with
``allow_new=False`` only. Every scheduler that pauses must then bring its paused trials to an end:
resume them, or name them in :meth:`Scheduler.retire` (they become STOPPED with the reason given).
The tuner ends the study only when every trial is final; a scheduler that leaves a trial paused
with nothing running has it stopped, with a reason that says so.

A scheduler's state must be rebuildable from the store: :meth:`Scheduler.restore` receives every
trial with its reports and final states. Randomness comes from the scheduler's own generator,
seeded from ``seed`` and a counter that is itself a function of the history, so a resumed study
decides the same way.

Options: each class names its typed spec in ``Options`` (see :mod:`hpsweep.schedulers._options`);
the keyword arguments of the constructor are checked against it, and the command line's flags are
generated from it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from hpsweep.schedulers._options import SchedulerOptions, option
from hpsweep.search.base import Mode, Searcher
from hpsweep.trial import CONTINUE, Report, StartTrial, Suggestion, TrialRecord, Verdict

__all__ = ["FIFOOptions", "FIFOScheduler", "Scheduler", "new_configuration"]


class Scheduler(ABC):
    """Decides per report and per free slot. Keyword-only constructor in every subclass."""

    name: ClassVar[str] = "scheduler"
    Options: ClassVar[type[SchedulerOptions]] = SchedulerOptions
    pauses: ClassVar[bool] = False  # pauses trials at rungs and resumes them later
    needs_resource: ClassVar[bool] = False  # decides by the resource (every report needs a step)

    def __init__(self, *, searcher: Searcher, metric: str, mode: Mode, seed: int | None = None,
                 **options: Any) -> None:
        self.searcher = searcher
        self.metric = metric
        self.mode: Mode = mode
        self.seed = seed
        self.options = self.Options.build(self.name, options)
        self.max_resource: int | None = getattr(self.options, "max_resource", None)
        self.arrivals_over = False
        self.num_trials: int | None = None

    @abstractmethod
    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        """What to run in a free slot.

        ``trial_id`` is the id a new trial would get. ``allow_new`` is False once no new
        configuration may start (only resumes are allowed then). None means nothing to run now.
        """

    @property
    def capacity(self) -> int | None:
        """How many configurations the searcher can give at most (a grid's size), or None."""
        return self.searcher.total

    def on_study_start(self, num_trials: int | None) -> None:
        """The study's configuration budget (``--num-trials``), before anything is suggested."""
        self.num_trials = num_trials

    def no_more_arrivals(self) -> None:
        """No new configuration will start: bring the paused trials to an end from now on."""
        self.arrivals_over = True

    def retire(self) -> list[tuple[int, str]]:
        """Paused trials this scheduler will never resume, with the reason (they become STOPPED)."""
        return []

    def on_trial_start(self, trial: TrialRecord) -> None:
        """A trial was started or resumed (``trial.resource`` is its target budget)."""

    def on_report(self, trial: TrialRecord, report: Report) -> Verdict:
        """Decide on one report of a running trial."""
        return CONTINUE

    def on_trial_end(self, trial: TrialRecord) -> None:
        """The trial's process ended; ``trial.state`` says how (PAUSED, COMPLETED, ...)."""

    def on_interrupted(self, trial: TrialRecord) -> Verdict:
        """A run of ``trial`` was cut short (its controller died, its worker was lost): CONTINUE
        runs it again in place to the same target (the default); STOP, with a reason, ends the
        trial STOPPED instead (the scheduler no longer needs it)."""
        return CONTINUE

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        """Rebuild state from the store's trials, reports included (trial-id order)."""
        self.searcher.restore(trials)


def new_configuration(searcher: Searcher, trial_id: int, resource: int | None,
                      reason: str = "new configuration") -> StartTrial | None:
    """The searcher's next configuration as a start up to ``resource`` (None when exhausted)."""
    config = searcher.suggest(trial_id)
    if config is None:
        return None
    return StartTrial(config=config, resource=resource, reason=reason)


@dataclass(frozen=True)
class FIFOOptions(SchedulerOptions):
    """FIFO runs every configuration to its end; ``max_resource`` is only passed to the script."""

    max_resource: int | None = option(None, "the full budget, e.g. the number of epochs", minimum=1,
                                      derived="none")


class FIFOScheduler(Scheduler):
    """Runs every configuration the searcher gives to its end; never stops or pauses."""

    name = "fifo"
    Options = FIFOOptions

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        if not allow_new:
            return None
        return new_configuration(self.searcher, trial_id, self.max_resource)

    def on_trial_end(self, trial: TrialRecord) -> None:
        self.searcher.on_trial_complete(trial)

    def on_report(self, trial: TrialRecord, report: Report) -> Verdict:
        value = report.metrics.get(self.metric)
        if isinstance(value, (int, float)):
            self.searcher.on_report(trial.trial_id, trial.config, report.step, float(value))
        return CONTINUE
