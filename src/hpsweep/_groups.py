"""A configuration over its runs: repetitions, or the seeds of a seed gathering.

A configuration that ran more than once (``--repetitions``, or ``hpsweep seeds`` where the seed is
a parameter) is ranked by the mean of its completed runs, never by its luckiest run: the mean, the
sample SD (``ddof=1``) and the SEM (SD / sqrt(n)) of the objective over the runs are what the
report, ``status``, the run's final line, ``results.csv``, the dashboard and the API show and sort
by. A configuration that ran once has its single value as mean (SD and SEM None), so studies
without repetitions rank exactly as before.

Runs belong together when their configurations are equal once the seed parameter of a seed
gathering (``seed_arg`` in ``seeds.json``) is left out; an interrupted run that was re-run as a new
trial is not one of them. A study counts as having repetitions when some configuration has two
or more completed runs. A seed study's reference run (the trial of
the source study that counts as its first seed) is one of its runs.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hpsweep.trial import TrialRecord, TrialState

__all__ = ["ConfigGroup", "config_groups", "config_key", "reference_run", "study_groups"]


def config_key(config: Mapping[str, Any], seed_arg: str | None = None) -> str:
    """The identity of a configuration (its seed parameter left out)."""
    return json.dumps({k: v for k, v in config.items() if k != seed_arg}, sort_keys=True,
                      default=str)


@dataclass(frozen=True)
class ConfigGroup:
    """One configuration, every run of it, and the spread of the objective over its completed
    runs."""

    config: dict[str, Any]
    runs: tuple[TrialRecord, ...]
    values: tuple[float, ...]  # the objective of each completed run with a finite value

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        if len(self.values) == 1:
            return float(self.values[0])  # statistics.mean of one value, without its cost
        return float(statistics.mean(self.values)) if self.values else None

    @property
    def sd(self) -> float | None:
        if len(self.values) < 2:
            return None
        return float(statistics.stdev(self.values))

    @property
    def sem(self) -> float | None:
        sd = self.sd
        return None if sd is None else sd / math.sqrt(len(self.values))

    @property
    def trial_ids(self) -> list[int]:
        return [t.trial_id for t in self.runs]

    @property
    def representative(self) -> TrialRecord:
        """The run that stands for the configuration: its first completed run (lowest id)."""
        done = [t for t in self.runs if t.state is TrialState.COMPLETED]
        return min(done or list(self.runs), key=lambda t: t.trial_id)

    def label(self, metric: str, precision: int = 4) -> str:
        """``metric=0.12 +- 0.03 (SD, n=3)``, or ``metric=0.12`` for a single run."""
        if self.mean is None:
            return f"{metric}=-"
        if self.n < 2:
            return f"{metric}={self.mean:.{precision}g}"
        return f"{metric}={self.mean:.{precision}g} +- {self.sd:.{precision}g} (SD, n={self.n})"


def _value(trial: TrialRecord, metric: str) -> float | None:
    value = trial.value(metric)
    return None if value is None or math.isnan(value) else value


def config_groups(trials: Iterable[TrialRecord], metric: str, mode: str, *,
                  seed_arg: str | None = None) -> list[ConfigGroup]:
    """Every configuration of ``trials`` best first by the mean of ``metric`` over its completed
    runs; configurations without a completed run go last (in the order of their first trial)."""
    listed = list(trials)
    rerun = {t.run_info.get("rerun_of") for t in listed if t.run_info.get("rerun_of") is not None}
    members: dict[str, list[TrialRecord]] = {}
    for trial in sorted(listed, key=lambda t: t.trial_id):
        if trial.trial_id in rerun and trial.state is TrialState.INTERRUPTED:
            continue  # a run a dead controller left behind, re-run as another trial: not a repetition
        members.setdefault(config_key(trial.config, seed_arg), []).append(trial)
    groups = []
    for runs in members.values():
        values = tuple(v for t in runs if t.state is TrialState.COMPLETED
                       and (v := _value(t, metric)) is not None)
        config = {k: v for k, v in runs[0].config.items() if k != seed_arg}
        groups.append(ConfigGroup(config=config, runs=tuple(runs), values=values))
    sign = 1.0 if mode == "min" else -1.0
    return sorted(groups, key=lambda g: (g.mean is None, sign * (g.mean or 0.0),
                                         min(g.trial_ids)))


def reference_run(info: Mapping[str, Any] | None) -> TrialRecord | None:
    """A seed study's reference run (from ``seeds.json``), as a completed trial with id -1."""
    if not info or not info.get("original"):
        return None
    original = info["original"]
    seed_arg = info.get("seed_arg")
    config = dict(info.get("config") or {})
    if seed_arg and original.get("seed") is not None:
        config[str(seed_arg)] = original["seed"]
    return TrialRecord(trial_id=-1, config=config, state=TrialState.COMPLETED,
                       last_metrics=dict(original.get("metrics") or {}),
                       trial_dir=str(original.get("trial_dir") or ""))


def study_groups(data: Any, *, metric: str | None = None, mode: str | None = None,
                 states: Collection[TrialState] | None = None) -> list[ConfigGroup]:
    """:func:`config_groups` of a :class:`~hpsweep.results.StudyData` (its seed parameter left
    out, its reference run included for a seed study)."""
    info = data.seeds_info()
    seed_arg = str(info["seed_arg"]) if info and info.get("seed_arg") else None
    trials = [t for t in data.trials if states is None or t.state in states]
    ref = reference_run(info)
    if ref is not None:
        trials.append(ref)
    metric = metric or data.metric
    return config_groups(trials, metric, mode or data.mode_of(metric), seed_arg=seed_arg)
