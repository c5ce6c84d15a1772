"""Metric channels: how a trial's numbers reach the controller.

Pure functions and a small file tailer, shared by every executor that runs real processes:

- ``hpsweep.report(step=..., **metrics)`` lines in ``$HPSWEEP_REPORT_FILE`` (JSON lines);
- marker lines on stdout: ``[hpsweep] {"step": 3, "val_acc": 0.9}``;
- Syne Tune's ``[tune-metric]: {...}`` lines;
- a user regular expression over stdout (``--metric-regex``), named groups are metrics;
- a summary file read at exit: hypnettorch's key-value ``performance_overview.txt``, JSON or YAML.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hpsweep.errors import UsageError

__all__ = [
    "MARKER",
    "FileTail",
    "LineSource",
    "MetricParser",
    "ParsedReport",
    "compile_metric_regex",
    "read_summary_file",
]

MARKER = "[hpsweep]"
_TUNE_MARKER = "[tune-metric]:"
_STEP_KEYS = ("step",)


class LineSource(Protocol):
    """Anything that hands out the complete lines written since the last call (a file tail)."""

    def read_lines(self, *, final: bool = False) -> list[str]: ...


@dataclass(frozen=True)
class ParsedReport:
    step: int | None
    metrics: dict[str, Any]


def _to_number(text: str) -> Any:
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return text


def _as_step(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) else None


def compile_metric_regex(pattern: str) -> re.Pattern[str]:
    """Compile ``--metric-regex``; it needs at least one named group (the metric's name)."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--metric-regex {pattern!r} is not a valid regular expression: {exc}") from exc
    if not compiled.groupindex:
        raise UsageError(
            f"--metric-regex {pattern!r} has no named group; name the metric, e.g. "
            r"'val_loss=(?P<val_loss>[-0-9.eE]+)'."
        )
    return compiled


class MetricParser:
    """Turns report-file lines and stdout lines into :class:`ParsedReport` s."""

    def __init__(self, *, regex: re.Pattern[str] | None = None, resource_attr: str = "epoch") -> None:
        self.regex = regex
        self.resource_attr = resource_attr

    def _from_mapping(self, data: dict[str, Any]) -> ParsedReport | None:
        data = dict(data)
        nested = data.pop("metrics", None)
        step_raw = None
        for key in _STEP_KEYS:
            if key in data:
                step_raw = data.pop(key)
                break
        data.pop("time", None)
        metrics = dict(nested) if isinstance(nested, dict) else {}
        metrics.update(data)
        if step_raw is None and self.resource_attr in metrics:
            step_raw = metrics[self.resource_attr]
        if not metrics:
            return None
        return ParsedReport(_as_step(step_raw), metrics)

    def parse_report_line(self, line: str) -> ParsedReport | None:
        """One line of ``reports.jsonl``; None for a blank or broken line."""
        line = line.strip()
        if not line:
            return None
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            return None
        return self._from_mapping(data) if isinstance(data, dict) else None

    def read(self, reports: LineSource, stdout: LineSource, *, final: bool) -> list[ParsedReport]:
        """Everything new in a trial's report file and stdout, in that order."""
        out = [p for p in map(self.parse_report_line, reports.read_lines(final=final)) if p is not None]
        out += [p for p in map(self.parse_stdout_line, stdout.read_lines(final=final)) if p is not None]
        return out

    def parse_stdout_line(self, line: str) -> ParsedReport | None:
        """A marker line, a Syne Tune line or a regex match; None otherwise."""
        stripped = line.strip()
        for marker in (MARKER, _TUNE_MARKER):
            if stripped.startswith(marker):
                payload = stripped[len(marker):].lstrip(": ").strip()
                try:
                    data = json.loads(payload)
                except json.JSONDecodeError:
                    return None
                return self._from_mapping(data) if isinstance(data, dict) else None
        if self.regex is not None:
            match = self.regex.search(line)
            if match:
                groups = {k: _to_number(v) for k, v in match.groupdict().items() if v is not None}
                return self._from_mapping(groups)
        return None


def read_summary_file(path: str | Path) -> dict[str, Any]:
    """Read a summary file written at the end of a run.

    ``.json`` and ``.yaml``/``.yml`` files hold a mapping; anything else is read as hypnettorch's
    key-value format (``key value`` per line; comma-separated values become lists). A key
    ``finished`` with value 0 marks a run that did not finish. Missing file: empty mapping.
    """
    target = Path(path)
    try:
        text = target.read_text(errors="replace")
    except FileNotFoundError:
        return {}
    if target.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return {}
        return dict(data) if isinstance(data, dict) else {}
    if target.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return {}
        return dict(data) if isinstance(data, dict) else {}
    out: dict[str, Any] = {}
    for raw in text.splitlines():
        parts = raw.strip().split(None, 1)
        if len(parts) != 2:
            continue
        key, value = parts
        if "," in value:
            out[key] = [_to_number(v) for v in value.split(",") if v.strip()]
        else:
            out[key] = _to_number(value)
    return out


class FileTail:
    """The complete lines appended to a file since ``offset``.

    ``offset`` is public so that an executor can persist it and a resumed controller reads on from
    there; a partial last line stays unread until its end arrives (or ``final``). A line ends at
    ``\\n`` or ``\\r`` (a progress bar redrawn with ``\\r`` is a run of short lines). Reading is
    bounded: at most ``chunk`` bytes are held at a time and at most ``per_call`` bytes are read
    by one call (``final`` reads to the end), and a line longer than ``chunk`` is skipped, so a
    flood of output cannot grow the reader's memory.
    """

    chunk = 1 << 20
    per_call = 16 << 20

    def __init__(self, path: str | Path, offset: int = 0, *, skip_existing: bool = False) -> None:
        self.path = Path(path)
        self.offset = self.size(self.path) if skip_existing else offset

    def read_lines(self, *, final: bool = False) -> list[str]:
        lines: list[str] = []
        try:  # a raw descriptor and pread: no file object for a read that usually finds little
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return []
        try:
            budget = self.per_call
            while final or budget > 0:
                data = os.pread(fd, self.chunk, self.offset)
                if not data:
                    break
                budget -= len(data)
                full = len(data) == self.chunk
                end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
                if final and not full:
                    end = len(data)  # the last line, complete or not
                if end <= 0:
                    if not full and not final:
                        break  # a partial line: wait for its end
                    end = len(data)
                    if full:  # an endless line: skip this part of it
                        self.offset += end
                        continue
                self.offset += end
                lines.extend(data[:end].decode("utf-8", errors="replace").splitlines())
                if not full:
                    break
        finally:
            os.close(fd)
        return lines

    @staticmethod
    def size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0
