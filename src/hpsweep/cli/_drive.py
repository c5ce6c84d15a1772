"""Running a study from the command line: signals, the progress display and the exit code."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from typing import Any

from hpsweep.cli.progress import add_display_arguments, make_display
from hpsweep.errors import UsageError
from hpsweep.store import StudyDir
from hpsweep.trial import ErrorKind, TrialRecord, TrialState
from hpsweep.tuner import Tuner
from hpsweep.tuner.housekeeping import CheckpointKeeper
from hpsweep.tuner.session import load_study

__all__ = ["MetricGuard", "add_display_arguments", "drive"]


class MetricGuard:
    """Stops the sweep when the objective metric is clearly unknown to the script: a run ended
    normally, reported other metrics, and no trial has ever reported the objective."""

    def __init__(self) -> None:
        self.error: UsageError | None = None

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind != "end" or trial is None or trial.error_kind is not ErrorKind.NO_METRIC:
            return
        if not trial.last_metrics or trial.exit_code not in (0, None):
            return
        seen = any(m in t.last_metrics for t in tuner.trials.values() for m in tuner.metrics)
        missing = [m for m in tuner.metrics if m not in trial.last_metrics]
        if not seen and missing:
            self.error = UsageError(
                f"unknown metric {missing[0]!r} in --metric: the script reports "
                f"{', '.join(sorted(trial.last_metrics))}. Use one of these, or fix the script."
            )
            tuner.request_stop(kill=True, reason="unknown metric")


def drive(study: StudyDir, args: argparse.Namespace) -> int:
    """Run (or resume) the study in ``study``; the caller holds its lock."""
    guard = MetricGuard()
    display = make_display(quiet=args.quiet, plain=args.plain)
    tuner, store, options, _ = load_study(study, callbacks=[guard, display])
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
