"""What the user sees while a sweep runs: a Rich live panel on a terminal, plain lines otherwise."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hpsweep._groups import ConfigGroup, config_groups
from hpsweep.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hpsweep.store import StudyDir
    from hpsweep.tuner import Tuner
    from hpsweep.tuner.session import SweepOptions

__all__ = ["Display", "add_display_arguments", "make_display"]


def add_display_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print only the final summary")
    p.add_argument("--plain", action="store_true", help="plain lines instead of the live display")


def _best_group(trials: Sequence[TrialRecord], metric: str, mode: str,
                seed_arg: str | None = None) -> ConfigGroup | None:
    """The best configuration by the mean over its runs (repetitions count together)."""
    groups = config_groups(trials, metric, mode, seed_arg=seed_arg)
    return groups[0] if groups and groups[0].mean is not None else None


def _best(trials: Sequence[TrialRecord], metric: str, mode: str) -> TrialRecord | None:
    group = _best_group(trials, metric, mode)
    return None if group is None else group.representative


def best_text(group: ConfigGroup, metric: str) -> str:
    """``trial 3: loss=0.12`` or, for a configuration run several times,
    ``trials 3, 7, 11: loss=0.12 +- 0.01 (SD, n=3)`` followed by the configuration."""
    ids = [t for t in group.trial_ids if t >= 0]
    which = f"trial {ids[0]}" if len(group.runs) == 1 and ids else \
        "trials " + ", ".join(str(i) for i in ids) + (" and the reference run" if -1 in group.trial_ids else "")
    return f"{which}: {group.label(metric, 6)}  {_fmt_config(group.config)}"


def _shown(trial: TrialRecord, metric: str) -> Any:
    """The metric as the trial reported it: a number (``inf`` stays ``inf``; only a value that
    is no number at all is ``nan``), or None when missing."""
    value = trial.value(metric)
    if value is None or not math.isnan(value):
        return value
    raw = trial.last_metrics.get(metric)
    if raw is None or isinstance(raw, bool):
        return value
    try:
        return float(raw)
    except (TypeError, ValueError):
        return value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class Display:
    """Plain display: one line per ended trial (used when not a terminal, or with --plain)."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.tuner: Tuner | None = None
        self.options: SweepOptions | None = None
        self.t0 = time.time()

    def start(self, tuner: Tuner, study: StudyDir, options: SweepOptions) -> None:
        self.tuner, self.options = tuner, options
        if not self.quiet:
            print(f"hpsweep: study {study.root}", flush=True)

    def note(self, text: str) -> None:
        print(f"hpsweep: {text}", file=sys.stderr, flush=True)

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind == "warning" and trial is not None and tuner.warnings:
            self.note(f"trial {trial.trial_id}: {tuner.warnings[-1]}")
        if self.quiet or trial is None or kind != "end" or self.options is None:
            return
        value = _shown(trial, self.options.metric)
        extra = f" {self.options.metric}={_fmt(value)}" if value is not None else ""
        error = f" ({trial.error_kind.value}: {trial.error})" if trial.error_kind else ""
        print(f"trial {trial.trial_id:4d} {trial.state.value:<11}{extra}{error}  "
              f"{_fmt_config(trial.config)}", flush=True)

    def stop(self) -> None:
        pass

    def summary(self, trials: Sequence[TrialRecord], study: StudyDir, options: SweepOptions,
                reason: str) -> None:
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.state.value] = counts.get(t.state.value, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        print(f"hpsweep: {len(trials)} trials ({parts or 'none'}); {reason}; "
              f"{time.time() - self.t0:.1f} s")
        best = _best_group(trials, options.metric, options.mode)
        if best is not None:
            print(f"hpsweep: best {best_text(best, options.metric)}")
        print(f"hpsweep: results in {study.csv}")


def _fmt_config(config: dict[str, Any]) -> str:
    names = short_names(list(config))
    return " ".join(f"{names[k]}={_fmt(v)}" for k, v in config.items())


def short_names(names: Sequence[str]) -> dict[str, str]:
    """Each dotted name (``learning_rate_schedule.initial``) by its shortest suffix that no other
    name shares, the parts before the last cut to their first letter (``l.initial`` beside
    ``b.initial``), so that a terminal line has room for the values. Plain names stay as they are."""
    out: dict[str, str] = {}
    for name in names:
        parts = name.split(".")
        for k in range(1, len(parts) + 1):
            suffix = ".".join(parts[-k:])
            if not any(o != name and (o == suffix or o.endswith("." + suffix)) for o in names):
                break
        kept = parts[-k:]
        out[name] = ".".join([p[:1] for p in kept[:-1]] + kept[-1:])
    if len(set(out.values())) < len(out):  # initials collided: keep the unique suffixes whole
        for name in names:
            parts = name.split(".")
            for k in range(1, len(parts) + 1):
                suffix = ".".join(parts[-k:])
                if not any(o != name and (o == suffix or o.endswith("." + suffix)) for o in names):
                    break
            out[name] = suffix
    return out


class RichDisplay(Display):
    """A live panel: counts by state, best so far, ETA, and what runs in each slot."""

    def __init__(self) -> None:
        super().__init__(quiet=False)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=False)
        self.live = Live(console=self.console, refresh_per_second=4, transient=True)
        self._final: Any = None
        self._last = 0.0

    def start(self, tuner: Tuner, study: StudyDir, options: SweepOptions) -> None:
        super().start(tuner, study, options)
        self.live.start()

    def note(self, text: str) -> None:
        self.console.print(f"[yellow]hpsweep: {text}")

    def on_event(self, kind: str, trial: TrialRecord | None, tuner: Tuner) -> None:
        if kind == "warning" and trial is not None and tuner.warnings:
            self.note(f"trial {trial.trial_id}: {tuner.warnings[-1]}")
        if kind == "end" and trial is not None and trial.state is TrialState.FAILED:
            kind = trial.error_kind.value if trial.error_kind else ""
            self.console.print(f"[red]trial {trial.trial_id} failed[/] ({kind}: {trial.error})")
        now = time.time()
        if now - self._last >= 0.25:  # redrawn on a timer, not at every event
            self._last = now
            self.live.update(self._render(tuner))

    def _render(self, tuner: Tuner) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        assert self.options is not None
        trials = list(tuner.trials.values())
        counts = {s: 0 for s in TrialState}
        for t in trials:
            counts[t.state] += 1
        finished = sum(n for s, n in counts.items() if s.is_final)
        total = tuner.num_trials or tuner.scheduler.capacity
        total_runs = total * tuner.repetitions if total else None
        elapsed = time.time() - self.t0
        eta = ""
        if total_runs and finished:
            eta = f", ETA {max(0.0, elapsed / finished * (total_runs - finished)):.0f} s"
        head = Text.from_markup(
            f"[bold]{finished}[/]/{total_runs or '?'} done: [green]{counts[TrialState.COMPLETED]} completed[/], "
            f"[cyan]{counts[TrialState.RUNNING]} running[/], [red]{counts[TrialState.FAILED]} failed[/], "
            f"{counts[TrialState.STOPPED]} stopped, {counts[TrialState.PAUSED]} paused; "
            f"{elapsed:.0f} s{eta}")
        best = _best_group(trials, self.options.metric, self.options.mode)
        lines: list[Any] = [head]
        if best is not None:
            lines.append(Text(f"best: {best_text(best, self.options.metric)}"))
        slots = Table("slot", "gpu", "trial", "config", "last report", box=None, expand=False)
        slots.columns[3].overflow = "fold"  # wrap a long configuration, never cut its values
        for t in sorted((t for t in trials if t.state is TrialState.RUNNING), key=lambda t: t.worker_id or 0):
            last = t.reports[-1] if t.reports else None
            slots.add_row(str(t.worker_id), t.gpu or "-", str(t.trial_id), _fmt_config(t.config),
                          "" if last is None else f"step {last.step}: " + _fmt_config(last.metrics)[:40])
        lines.append(slots)
        self._final = (head, self._top(trials))
        return Group(*lines)

    def _top(self, trials: Sequence[TrialRecord], k: int = 5) -> Any:
        """The best configurations so far (by their mean over their runs), for the last screen."""
        from rich.table import Table

        assert self.options is not None
        metric = self.options.metric
        groups = [g for g in config_groups(trials, metric, self.options.mode) if g.mean is not None][:k]
        table = Table("rank", metric, "runs", "configuration", box=None, title=f"best {len(groups)}",
                      title_justify="left")
        table.columns[3].overflow = "fold"
        for rank, g in enumerate(groups, start=1):
            value = _fmt(g.mean) + (f" +- {_fmt(g.sd)}" if g.n > 1 else "")
            table.add_row(str(rank), value, " ".join(str(i) for i in g.trial_ids), _fmt_config(g.config))
        return table

    def stop(self) -> None:
        self.live.stop()
        if self._final is not None:  # the live panel goes; what the sweep found stays on screen
            from rich.console import Group

            self.console.print(Group(*self._final))


def make_display(*, quiet: bool, plain: bool) -> Display:
    if quiet or plain or not sys.stdout.isatty():
        return Display(quiet=quiet)
    return RichDisplay()
