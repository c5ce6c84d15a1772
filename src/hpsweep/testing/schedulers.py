"""The contract every scheduler keeps (see :mod:`hpsweep.schedulers.base`), as checks to call.

:func:`check_scheduler` runs them all on a scheduler factory ``make(searcher, seed)``, in
simulated time over closed-form learning curves (no processes, a few seconds):

- every decision is valid: a new configuration only while new ones are allowed and inside the
  space, a resume only of a paused trial and to a larger budget, each with a reason;
- a study of ``N`` configurations (N in 2, 4, 18, 26, reports every epoch and every second epoch)
  ends with every trial final, at least one trial at the full budget, every stopped trial with
  its reason, and no more resource than random search over the same N spends;
- a seed makes a study repeat exactly;
- a scheduler rebuilt from the store (``restore``) makes the same next decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpsweep.bench.functions import CrossingCurves
from hpsweep.executors.simulated import SimulatedExecutor, SimulatedLauncher
from hpsweep.schedulers.base import Scheduler
from hpsweep.search.base import Searcher
from hpsweep.search.basic import RandomSearcher
from hpsweep.store import Store
from hpsweep.trial import StartTrial, Suggestion, TrialRecord, TrialState
from hpsweep.tuner import Tuner, reached_step
from hpsweep.tuner.budget import Budget

__all__ = [
    "MAX_RESOURCE",
    "SchedulerFactory",
    "check_decisions",
    "check_end_state",
    "check_restore",
    "check_scheduler",
    "check_seeded",
    "simulate",
]

MAX_RESOURCE = 27
SchedulerFactory = Callable[[Searcher, int], Scheduler]
"""``make(searcher, seed)``: a new scheduler over ``searcher`` with ``max_resource=27``."""


class _StopAfter:
    """Stops the study as a first Ctrl-C does once ``n`` runs have ended (paused trials stay)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind == "end":
            self.n -= 1
            if self.n == 0:
                tuner.request_stop(kill=False, reason="stopped by the conformance suite")


def simulate(make: SchedulerFactory, *, seed: int = 0, num_trials: int | None = 25,
             time_budget: float | None = None, workers: int = 3, report_every: int = 1,
             scheduler_hook: Callable[[Scheduler], None] | None = None,
             stop_after_ends: int | None = None) -> tuple[list[TrialRecord], Store, Scheduler]:
    """One study of ``make``'s scheduler in simulated time; its trials, store and scheduler.
    ``stop_after_ends`` stops it early, as a user would."""
    bench = CrossingCurves(dim=3, max_resource=MAX_RESOURCE)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=seed)
    scheduler = make(searcher, seed)
    if scheduler_hook is not None:
        scheduler_hook(scheduler)
    executor = SimulatedExecutor(bench, n_workers=workers, seed=seed, report_every=report_every)
    store = Store.create(None, name="conformance", spec={})
    tuner = Tuner(store=store, scheduler=scheduler, executor=executor,
                  launcher=SimulatedLauncher(executor),
                  budget=Budget(num_trials=num_trials, time=time_budget), seed=seed,
                  callbacks=[_StopAfter(stop_after_ends)] if stop_after_ends else ())
    result = tuner.run()
    return result.trials, store, scheduler


class _Checked:
    """Wraps ``suggest`` and ``on_trial_end`` to check each decision against what ran."""

    def __init__(self, scheduler: Scheduler, bench: CrossingCurves) -> None:
        self.bench = bench
        self.paused: dict[int, int] = {}
        self.decisions: list[Suggestion] = []
        inner, ended = scheduler.suggest, scheduler.on_trial_end

        def suggest(trial_id: int, *, allow_new: bool) -> Suggestion | None:
            out = inner(trial_id, allow_new=allow_new)
            if out is not None:
                self.check(out, allow_new)
            return out

        def on_trial_end(trial: TrialRecord) -> None:
            if trial.state is TrialState.PAUSED:
                self.paused[trial.trial_id] = reached_step(trial) or 0
            else:
                self.paused.pop(trial.trial_id, None)
            ended(trial)

        scheduler.suggest = suggest  # type: ignore[method-assign]
        scheduler.on_trial_end = on_trial_end  # type: ignore[method-assign]
        self.fifo = type(scheduler).__name__ == "FIFOScheduler"

    def check(self, out: Suggestion, allow_new: bool) -> None:
        self.decisions.append(out)
        assert out.reason or self.fifo, "every decision carries a reason for the decision log"
        if isinstance(out, StartTrial):
            assert allow_new, "a new trial was started although no new one was allowed"
            assert set(out.config) == {p.name for p in self.bench.params}, "config outside the space"
            for p in self.bench.params:
                assert p.contains(out.config[p.name]), (p.name, out.config[p.name])
            assert out.resource is None or 1 <= out.resource <= self.bench.max_resource
            return
        assert out.trial_id in self.paused, "only paused trials can be resumed"
        assert self.paused[out.trial_id] < out.resource <= self.bench.max_resource, \
            "a resume goes to a larger budget, at most the maximum"
        if out.config is not None:
            assert all(p.contains(out.config[p.name]) for p in self.bench.params if p.name in out.config)
        if out.checkpoint_from is not None:
            assert out.checkpoint_from != out.trial_id, "a trial cannot copy its own checkpoint"


def check_decisions(make: SchedulerFactory) -> list[Suggestion]:
    """Valid decisions and the configuration budget kept, over 25 configurations; the decisions."""
    bench = CrossingCurves(dim=3, max_resource=MAX_RESOURCE)
    holder: dict[str, _Checked] = {}

    def hook(scheduler: Scheduler) -> None:
        holder["c"] = _Checked(scheduler, bench)

    trials, _, _ = simulate(make, seed=1, num_trials=25, scheduler_hook=hook)
    first_lap = [t for t in trials if t.repetition == 0]
    assert 0 < len(first_lap) <= 25, f"{len(first_lap)} configurations for a budget of 25"
    assert holder["c"].decisions
    for t in trials:
        steps = [r.step for r in t.reports if r.step is not None]
        assert all(1 <= s <= MAX_RESOURCE for s in steps), f"trial {t.trial_id} stepped outside 1..max"
    return holder["c"].decisions


def check_end_state(make: SchedulerFactory, *, sizes: tuple[int, ...] = (2, 4, 18, 26),
                    report_every: tuple[int, ...] = (1, 2), pausing: bool | None = None) -> None:
    """How a study of N configurations ends, for each N and reporting interval."""
    for n in sizes:
        for every in report_every:
            trials, _, scheduler = simulate(make, seed=n, num_trials=n, report_every=every)
            where = f"N={n}, reports every {every}"
            assert len(trials) == n, f"{where}: {len(trials)} trials for N configurations"
            left = [(t.trial_id, t.state.value) for t in trials if not t.state.is_final]
            assert not left, f"{where}: trials left unfinished: {left}"
            assert any(t.state is TrialState.COMPLETED and reached_step(t) == MAX_RESOURCE
                       for t in trials), f"{where}: no trial reached the full budget"
            silent = [t.trial_id for t in trials if t.state is TrialState.STOPPED and not t.error]
            assert not silent, f"{where}: stopped trials without a reason: {silent}"
            spent = sum(reached_step(t) or 0 for t in trials)
            assert spent <= n * MAX_RESOURCE, f"{where}: spent {spent}, random search spends {n * MAX_RESOURCE}"
            if pausing is None:
                pausing = scheduler.pauses
            if not pausing:
                assert all(t.runs == 1 for t in trials), f"{where}: a scheduler that does not pause resumed"


def _fingerprint(trials: list[TrialRecord]) -> list[Any]:
    return [(t.trial_id, t.state, t.runs, sorted(t.config.items()),
             [(r.step, sorted(r.metrics.items()), r.time) for r in t.reports]) for t in trials]


def check_seeded(make: SchedulerFactory) -> None:
    """The same seed, the same study."""
    first, _, _ = simulate(make, seed=3, num_trials=20)
    second, _, _ = simulate(make, seed=3, num_trials=20)
    assert _fingerprint(first) == _fingerprint(second), "a seeded study did not repeat"


def check_restore(make: SchedulerFactory) -> None:
    """A scheduler rebuilt from the store decides as the one that ran."""
    bench = CrossingCurves(dim=3, max_resource=MAX_RESOURCE)
    _, store, live = simulate(make, seed=4, num_trials=40, stop_after_ends=12)
    trials = store.trials()
    assert any(t.reports for t in trials), "nothing was reported before the stop"
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=4)
    rebuilt = make(searcher, 4)
    rebuilt.on_study_start(live.num_trials)  # as the tuner does before it restores
    rebuilt.restore(trials)
    if live.arrivals_over:
        rebuilt.no_more_arrivals()
    next_id = store.next_trial_id()
    for allow_new in (False, True):
        assert live.suggest(next_id, allow_new=allow_new) == rebuilt.suggest(next_id, allow_new=allow_new), \
            "a restored scheduler decided differently"


def check_scheduler(make: SchedulerFactory) -> None:
    """Every check above."""
    check_decisions(make)
    check_end_state(make)
    check_seeded(make)
    check_restore(make)
