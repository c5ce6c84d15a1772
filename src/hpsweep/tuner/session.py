"""Composition root: from the options of a sweep to a ready Tuner, for new and resumed studies.

A study folder freezes everything in ``sweep.json`` (the options and the parsed sweep with any
values sampled at parse time), so a resume never re-parses or re-samples anything.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsweep.errors import StudyError, UsageError
from hpsweep.executors.base import Executor
from hpsweep.executors.metrics import MetricParser, compile_metric_regex
from hpsweep.schedulers.base import Scheduler
from hpsweep.search.base import Mode
from hpsweep.space import Sweep
from hpsweep.store import ResultsCsv, Store, StudyDir
from hpsweep.tuner._tuner import Tuner, TunerCallback
from hpsweep.tuner.budget import Budget
from hpsweep.tuner.launcher import CommandLauncher, ContractArgs

__all__ = ["SweepOptions", "create_study", "load_study", "make_executor", "make_scheduler_for"]

SWEEP_FORMAT = 1


@dataclass
class SweepOptions:
    """Every option of a sweep; frozen into ``sweep.json``."""

    command: list[str] = field(default_factory=list)
    strategy: str = "grid"
    scheduler: str = "fifo"
    num_trials: int | None = None
    metrics: list[str] = field(default_factory=lambda: ["loss"])
    modes: list[str] = field(default_factory=lambda: ["min"])
    seed: int | None = None
    repetitions: int = 1
    out_dir_arg: str | None = None
    seed_arg: str | None = None
    resource_arg: str | None = None
    resource_attr: str = "epoch"
    # The scheduler's options; None takes the default of the scheduler's spec (schedulers/).
    min_resource: int | None = None
    max_resource: int | None = None
    reduction_factor: int | None = None
    scheduler_options: dict[str, Any] = field(default_factory=dict)
    resource_budget: float | None = None
    time_budget: float | None = None
    metric_regex: str | None = None
    summary_file: str | None = None
    executor: str = "local"
    parallel: int | None = None
    gpus: list[str] = field(default_factory=list)
    jobs_per_gpu: int = 1
    allowed_load: float | None = None
    allowed_memory: float | None = None
    warmup: float = 0.0
    executor_options: dict[str, Any] = field(default_factory=dict)
    timeout_per_trial: float | None = None
    max_failures: int | None = None
    on_interrupted: str = "rerun"
    keep_checkpoints: str = "all"
    enqueue: list[dict[str, Any]] = field(default_factory=list)
    cwd: str = field(default_factory=os.getcwd)
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepOptions:
        known = {f.name for f in dataclasses.fields(cls)}
        options = cls(**{k: v for k, v in data.items() if k in known})
        # Studies frozen before the per-scheduler specs kept these options at the top level.
        legacy = {k: data[k] for k in ("brackets", "probability_sh", "perturbation_interval")
                  if data.get(k) is not None}
        if legacy and "scheduler_options" not in data:
            from hpsweep.schedulers import scheduler_class

            takes = set(scheduler_class(options.scheduler).Options.names())
            options.scheduler_options = {k: v for k, v in legacy.items() if k in takes}
        return options

    def budget(self) -> Budget:
        return Budget(num_trials=self.num_trials, resource=self.resource_budget, time=self.time_budget)

    def scheduler_kwargs(self) -> dict[str, Any]:
        """The options passed to the scheduler: the ones it takes, defaults left to its spec."""
        from hpsweep.schedulers import scheduler_class

        takes = set(scheduler_class(self.scheduler).Options.names())
        common = {"min_resource": self.min_resource, "max_resource": self.max_resource,
                  "reduction_factor": self.reduction_factor}
        out = {k: v for k, v in common.items() if v is not None and k in takes}
        out.update(self.scheduler_options)
        return out

    @property
    def metric(self) -> str:
        return self.metrics[0]

    @property
    def mode(self) -> str:
        return self.modes[0]

    def validate(self) -> None:
        if not self.metrics:
            raise UsageError("--metric: name at least one metric.")
        if len(self.modes) == 1 and len(self.metrics) > 1:
            self.modes = self.modes * len(self.metrics)
        if len(self.modes) != len(self.metrics):
            raise UsageError(f"{len(self.metrics)} --metric but {len(self.modes)} --mode: give one mode "
                             "per metric, or one for all.")
        for mode in self.modes:
            if mode not in ("min", "max"):
                raise UsageError(f"--mode {mode!r}: use min or max.")
        for name, value, low in (("--num-trials", self.num_trials, 1), ("--repetitions", self.repetitions, 1),
                                 ("--max-failures", self.max_failures, 0),
                                 ("--jobs-per-gpu", self.jobs_per_gpu, 1)):
            if value is not None and value < low:
                raise UsageError(f"{name} must be >= {low}, got {value}.")
        if self.timeout_per_trial is not None and self.timeout_per_trial <= 0:
            raise UsageError(f"--timeout-per-trial must be > 0 seconds, got {self.timeout_per_trial}.")
        if self.on_interrupted not in ("rerun", "mark"):
            raise UsageError(f"--on-interrupted {self.on_interrupted!r}: use rerun or mark.")
        if self.metric_regex:
            compile_metric_regex(self.metric_regex)
        self.budget()
        from hpsweep.schedulers import scheduler_class

        scheduler_class(self.scheduler).Options.build(self.scheduler, self.scheduler_kwargs())


def _mode(text: str) -> Mode:
    if text not in ("min", "max"):
        raise UsageError(f"mode {text!r}: use min or max.")
    return "min" if text == "min" else "max"


def make_scheduler_for(options: SweepOptions, sweep: Sweep) -> Scheduler:
    from hpsweep.schedulers import make_scheduler
    from hpsweep.search import make_searcher

    multi = len(options.metrics) > 1
    # `none` runs the command once as written: a grid over the empty space has one point.
    strategy = "grid" if options.strategy == "none" else options.strategy
    modes = [_mode(m) for m in options.modes]
    searcher = make_searcher(
        strategy, sweep.space, metric=options.metric, mode=modes[0],
        seed=options.seed, metrics=options.metrics if multi else None,
        modes=modes if multi else None, points_to_evaluate=options.enqueue or None,
        budget=options.num_trials,
    )
    return make_scheduler(options.scheduler, searcher=searcher, metric=options.metric, mode=modes[0],
                          seed=options.seed, **options.scheduler_kwargs())


def make_executor(options: SweepOptions) -> Executor:
    parser = MetricParser(
        regex=compile_metric_regex(options.metric_regex) if options.metric_regex else None,
        resource_attr=options.resource_attr,
    )
    if options.executor == "local":
        from hpsweep.executors.gpu import GpuAllocator, NvmlProbe

        allocator = None
        if options.gpus:
            probe = NvmlProbe() if (options.allowed_load or options.allowed_memory) else None
            allocator = GpuAllocator(options.gpus, jobs_per_gpu=options.jobs_per_gpu, probe=probe,
                                     allowed_load=options.allowed_load,
                                     allowed_memory=options.allowed_memory, warmup=options.warmup)
        from hpsweep.executors.local import LocalExecutor

        return LocalExecutor(slots=options.parallel, allocator=allocator, parser=parser,
                             summary_file=options.summary_file)
    if options.executor == "function":
        raise UsageError("this study was made by the Python API (its objective is a Python function): "
                         "continue it with SearchEngine(config).resume(study_dir, objective_fn=...).")
    from hpsweep.executors import make_remote_executor

    return make_remote_executor(options.executor, parser=parser, summary_file=options.summary_file,
                                parallel=options.parallel, **options.executor_options)


def create_study(study: StudyDir, options: SweepOptions, sweep: Sweep) -> None:
    """Freeze a new study: ``sweep.json`` and an empty store."""
    if study.exists():
        raise StudyError(f"{study.root} already holds a study; use `hpsweep resume {study.root}`.")
    options.validate()
    if options.seed is None:
        options.seed = secrets.randbelow(2**31 - 1)
    study.root.mkdir(parents=True, exist_ok=True)
    study.write_sweep({"format": SWEEP_FORMAT, "options": options.to_dict(), "sweep": sweep.to_dict()})
    store = Store.create(study.db, name=options.name or study.root.name,
                         spec={"options": options.to_dict()})
    store.set_meta("seed", options.seed)
    store.close()


def load_study(study: StudyDir, *, callbacks: Sequence[TunerCallback] = (),
               executor: Executor | None = None) -> tuple[Tuner, Store, SweepOptions, Sweep]:
    """A Tuner for the study in ``study`` (new or resumed); the caller holds the lock."""
    study.require()
    data = study.read_sweep()
    options = SweepOptions.from_dict(data.get("options", {}))
    sweep = Sweep.from_dict(data["sweep"])
    store = Store.open(study.db)
    scheduler = make_scheduler_for(options, sweep)
    launcher = CommandLauncher(
        sweep=sweep, study=study, cwd=options.cwd,
        contract=ContractArgs(options.out_dir_arg, options.seed_arg, options.resource_arg),
        study_seed=int(options.seed or 0),
    )
    if not Path(options.cwd).is_dir():
        raise StudyError(f"the sweep's working directory {options.cwd} no longer exists.")
    csv = ResultsCsv(study.csv, param_names=list(sweep.space.names), metric=options.metric,
                     mode=options.mode)
    store.before_final = csv.record  # results.csv has a trial as soon as the store says it ended
    tuner = Tuner(
        store=store, scheduler=scheduler, executor=executor or make_executor(options),
        launcher=launcher, metrics=options.metrics, budget=options.budget(),
        resource_attr=options.resource_attr, repetitions=max(options.repetitions, sweep.repetitions),
        max_failures=options.max_failures,
        timeout_per_trial=options.timeout_per_trial, seed=int(options.seed or 0),
        csv=csv, callbacks=callbacks,
        on_interrupted=options.on_interrupted,  # type: ignore[arg-type]
    )
    return tuner, store, options, sweep


def extend_budget(study: StudyDir, num_trials: int, *, by: str) -> int | None:
    """Raise the frozen ``num_trials`` of ``study`` to ``num_trials`` (a budget only grows) and
    record the change as a ``budget`` event; returns the budget it had (None: the whole grid).
    The caller holds the lock."""
    if isinstance(num_trials, bool) or not isinstance(num_trials, int) or num_trials < 1:
        raise UsageError(f"the number of trials must be an integer >= 1, got {num_trials!r}.")
    frozen = study.read_sweep()
    options = frozen.setdefault("options", {})
    current = options.get("num_trials")
    if current is None:
        raise UsageError(f"{study.root} runs every configuration of its space already (no "
                         "--num-trials limit); there is nothing to extend.")
    if num_trials < current:
        raise UsageError(f"{study.root} already has a budget of {current} trials; a budget can "
                         f"only grow: give more than {current}.")
    if current == num_trials:
        return current
    options["num_trials"] = num_trials
    study.write_sweep(frozen)
    import time

    store = Store.open(study.db)
    try:
        store.add_event("budget", time=time.time(),
                        data={"num_trials": num_trials, "was": current, "by": by})
    finally:
        store.close()
    return current
