"""Running a study from the command line: signals, the progress display and the exit code."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from hpsweep.cli.progress import add_display_arguments, make_display
from hpsweep.errors import UsageError
from hpsweep.store import StudyDir
from hpsweep.trial import ErrorKind, TrialRecord, TrialState
from hpsweep.tuner import Tuner
from hpsweep.tuner.housekeeping import CheckpointKeeper
from hpsweep.tuner.session import load_study

if TYPE_CHECKING:
    from hpsweep.tuner.session import SweepOptions

__all__ = ["MetricGuard", "add_display_arguments", "drive"]


class MetricGuard:
    """Stops the sweep after the first trial that ended normally without the objective while no
    trial has ever reported it: the script reports other metrics (the name is wrong), or the
    metric channels yielded nothing at all (the script reports through none of them). The error
    names what was looked for and where, so the sweep is fixed after one trial, not all."""

    def __init__(self, options: SweepOptions | None = None) -> None:
        self.error: UsageError | None = None
        self.options = options

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind != "end" or trial is None or trial.error_kind is not ErrorKind.NO_METRIC:
            return
        if trial.exit_code not in (0, None) or self.error is not None:
            return
        seen = any(m in t.last_metrics for t in tuner.trials.values() for m in tuner.metrics)
        missing = [m for m in tuner.metrics if m not in trial.last_metrics]
        if seen or not missing:
            return
        if trial.last_metrics:
            self.error = UsageError(
                f"unknown metric {missing[0]!r} in --metric: the script reports "
                f"{', '.join(sorted(trial.last_metrics))}. Use one of these, or fix the script."
            )
            tuner.request_stop(kill=True, reason="unknown metric")
            return
        self.error = UsageError(
            f"trial {trial.trial_id} ended (exit code 0) without a value of {missing[0]!r}, and "
            f"its metric channels yielded nothing: {self._channels(trial)}. Stopped after this "
            "trial; make the script report the metric through one of these (or name the right "
            "one with --metric), then run again."
        )
        tuner.request_stop(kill=True, reason="the metric channels yielded nothing")

    def _channels(self, trial: TrialRecord) -> str:
        folder = Path(trial.trial_dir) if trial.trial_dir else Path("<trial folder>")
        metric = (self.options.metric if self.options else None) or "loss"
        looked = [f"hpsweep.report({metric}=...) lines in {folder / 'reports.jsonl'}",
                  f"'[hpsweep] {{\"{metric}\": ...}}' and '[tune-metric]:' lines in "
                  f"{folder / 'stdout.log'}"]
        regex = self.options.metric_regex if self.options else None
        if regex:
            looked.append(f"--metric-regex {regex!r} over {folder / 'stdout.log'}")
        summary = self.options.summary_file if self.options else None
        if summary:
            path = folder / summary
            said = "empty or without the metric" if path.exists() else "not written"
            looked.append(f"the summary file {path} ({said})")
        return "; ".join(looked)


def drive(study: StudyDir, args: argparse.Namespace) -> int:
    """Run (or resume) the study in ``study``; the caller holds its lock."""
    guard = MetricGuard()
    display = make_display(quiet=args.quiet, plain=args.plain)
    tuner, store, options, _ = load_study(study, callbacks=[guard, display])
    guard.options = options
    keeper = CheckpointKeeper(keep=options.keep_checkpoints)
    tuner.callbacks.append(keeper)
    presses = 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal presses
        presses += 1
        if presses == 1 and signum == signal.SIGINT:
            display.note("stopping: running trials finish first (Ctrl-C again to stop them now)")
            tuner.request_stop(kill=False, reason="interrupted by the user")
        else:
            display.note("stopping running trials")
            tuner.request_stop(kill=True, reason="interrupted by the user")

    old: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        old[sig] = signal.signal(sig, on_signal)
    try:
        display.start(tuner, study, options)
        result = tuner.run()
        keeper.finish(tuner)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        display.stop()
        store.close()
    if guard.error is not None:
        raise guard.error
    if result.error is not None:
        raise result.error
    display.summary(result.trials, study, options, result.stopped_reason)
    if presses:
        return 130
    if options.max_failures is not None and result.failures > options.max_failures:
        print(f"hpsweep: stopped after {result.failures} failed trials (--max-failures "
              f"{options.max_failures})", file=sys.stderr)
        return 1
    completed = sum(1 for t in result.trials if t.state is TrialState.COMPLETED)
    return 0 if completed or not result.trials else 1
