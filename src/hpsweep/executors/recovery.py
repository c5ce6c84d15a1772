"""What a local trial left in its folder, read back without its controller.

A controller killed while a trial ran cannot know whether the trial ended, nor read the reports
the trial wrote after the kill. The trial's folder knows: ``reports.jsonl`` and ``stdout.log``
hold every report, the summary file (``--summary-file``) what the script wrote at its end, and
``exit.json`` (written by the trial's wrapper, see ``_wrap``) how and when its process ended.
:func:`settle` reads all of it; a resumed controller uses it to finish a trial that had ended
instead of calling it interrupted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsweep.executors.metrics import FileTail, MetricParser, read_summary_file

__all__ = ["EXIT_FILE", "RUN_FILE", "Settled", "read_exit", "read_run", "settle"]

EXIT_FILE = "exit.json"
RUN_FILE = "run.json"  # where the last run began in the trial's files, written at its launch


@dataclass(frozen=True)
class Settled:
    """A trial folder's account of its last run.

    ``reports``: every report, ``(step, metrics, time)``, in the order the trial wrote them
    (the report file first, then the stdout channels, then the summary file when the process
    ended), ``time`` being the report's own time where it carries one, else the time the
    process ended (or the file was last written). ``exit_code``: the process's exit status
    (negative: killed by that signal); ``finished``: when it ended. Both None when there is no
    exit record: the process did not end by itself.
    """

    reports: list[tuple[int | None, dict[str, Any], float]] = field(default_factory=list)
    exit_code: int | None = None
    finished: float | None = None

    @property
    def ended(self) -> bool:
        return self.finished is not None


def read_exit(trial_dir: Path) -> tuple[int | None, float] | None:
    """``(exit code or -signal, time)`` from ``exit.json``; None when missing or unreadable."""
    try:
        data = json.loads((Path(trial_dir) / EXIT_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    when = data.get("time")
    if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
        return None
    code, sig = data.get("exit_code"), data.get("signal")
    if isinstance(code, int) and not isinstance(code, bool):
        return code, float(when)
    if isinstance(sig, int) and not isinstance(sig, bool):
        return -sig, float(when)
    return None, float(when)


def read_run(trial_dir: Path) -> dict[str, Any] | None:
    """The last run's start record (:data:`RUN_FILE`); None when missing or unreadable."""
    try:
        data = json.loads((Path(trial_dir) / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _line_time(line: str) -> float | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    when = data.get("time") if isinstance(data, dict) else None
    if isinstance(when, (int, float)) and not isinstance(when, bool) and math.isfinite(when):
        return float(when)
    return None


def settle(trial_dir: Path, parser: MetricParser, summary_file: str | None,
           report_file: Path | None = None, offsets: Mapping[str, int] | None = None) -> Settled:
    """Read everything a trial left in ``trial_dir`` (see :class:`Settled`).

    ``report_file``: where the trial's reports went when not ``trial_dir/reports.jsonl``.
    ``offsets``: where its last run began in the report file and stdout (``"reports"``,
    ``"stdout"``, from :data:`RUN_FILE`); without them every run's reports are read.
    """
    offsets = offsets or {}
    trial_dir = Path(trial_dir)
    reports_path = Path(report_file) if report_file is not None else trial_dir / "reports.jsonl"
    stdout_path = trial_dir / "stdout.log"
    ended = read_exit(trial_dir)
    finished = ended[1] if ended is not None else None
    out: list[tuple[int | None, dict[str, Any], float]] = []
    fallback = finished if finished is not None else (_mtime(reports_path) or 0.0)
    for line in FileTail(reports_path, int(offsets.get("reports", 0))).read_lines(final=True):
        parsed = parser.parse_report_line(line)
        if parsed is not None:
            out.append((parsed.step, parsed.metrics, _line_time(line) or fallback))
    fallback = finished if finished is not None else (_mtime(stdout_path) or 0.0)
    for line in FileTail(stdout_path, int(offsets.get("stdout", 0))).read_lines(final=True):
        parsed = parser.parse_stdout_line(line)
        if parsed is not None:
            out.append((parsed.step, parsed.metrics, fallback))
    if ended is not None and summary_file:
        summary = read_summary_file(trial_dir / summary_file)
        if summary:
            out.append((None, summary, ended[1]))
    return Settled(reports=out, exit_code=ended[0] if ended is not None else None,
                   finished=finished)
