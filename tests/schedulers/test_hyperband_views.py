"""Synchronous Hyperband keeps what a decision reads per bracket run, updated for the runs that
changed; at every decision it must agree with a walk over every open run."""

from __future__ import annotations

from typing import Any

from hpsweep.bench.functions import CrossingCurves
from hpsweep.schedulers.hyperband import HyperbandScheduler
from hpsweep.search.basic import RandomSearcher
from hpsweep.trial import ResumeTrial, StartTrial, Suggestion, TrialState

from .helpers import simulate


class CheckedHyperband(HyperbandScheduler):
    """Hyperband whose every suggestion and retirement is checked against a full walk."""

    name = "hyperband"
    checks = 0

    def _walk_suggest(self) -> tuple[str, Any]:
        for run in self._open_runs():
            job = self._job(run)
            if job is not None:
                return "job", job
            if len(run.members) < run.capacity:
                return "start", run.index
        return "open", None

    def _walk_retire(self) -> list[tuple[int, str]]:
        out = []
        for run in self._open_runs():  # the retirement rule over freshly computed rungs
            out += self._retirable_in(run, self._compute_rungs(run))
        return out

    def suggest(self, trial_id: int, *, allow_new: bool) -> Suggestion | None:
        self._refresh()
        for run in self._open_runs():  # the cached rungs equal freshly computed ones
            assert self._rungs(run) == self._compute_rungs(run)
        kind, what = self._walk_suggest()
        out = super().suggest(trial_id, allow_new=allow_new)
        if kind == "job":
            assert out == what
        elif kind == "start" and isinstance(out, StartTrial):
            assert f"bracket run {what} " in out.reason
        else:
            assert not isinstance(out, ResumeTrial)
        type(self).checks += 1
        return out

    def retire(self) -> list[tuple[int, str]]:
        expected = self._walk_retire()
        assert super().retire() == expected
        return expected


def test_hyperband_decisions_agree_with_a_walk_over_every_open_run() -> None:
    bench = CrossingCurves(dim=3, max_resource=27)
    searcher = RandomSearcher(bench.space(), metric=bench.metric, mode=bench.mode, seed=5)
    scheduler = CheckedHyperband(searcher=searcher, metric=bench.metric, mode=bench.mode, seed=5,
                                 max_resource=27)
    trials, _ = simulate(scheduler, bench, workers=40, num_trials=400, seed=5)
    assert CheckedHyperband.checks > 400 and len(trials) == 400
    assert all(t.state.is_final for t in trials)
    assert sum(t.state is TrialState.COMPLETED for t in trials) >= 4
