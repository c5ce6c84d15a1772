"""``hpsweep report DIR``: the best trials, counts by state, the decision log, folder pruning.

Reads the store read-only, so it works while the sweep runs and after its controller was killed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.results import (
    StudyData,
    best_trials,
    decision_rows,
    delete_folders,
    format_cell,
    group_rows,
    load_study_data,
    pareto_trials,
    parse_criteria,
    parse_sort,
    parse_states,
    plan_prune,
    report_rows,
    sort_trials,
    study_groups,
    trial_value,
)
from hpsweep.trial import TrialRecord

__all__ = ["add_arguments", "ranking", "render_rows", "run"]

FORMATS = ("table", "csv", "json", "markdown")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("--top", type=int, default=10, help="how many of the best trials (default 10)")
    p.add_argument("--format", default="table", choices=FORMATS, help="output format")
    p.add_argument("--sort", metavar="METRIC[:min|max]",
                   help="rank by this metric (default: the objective, in its mode)")
    p.add_argument("--state", metavar="STATES",
                   help="only trials in these states, e.g. completed,stopped (default completed)")
    p.add_argument("--all", action="store_true", help="every trial, not only the best --top")
    p.add_argument("--runs", action="store_true",
                   help="rank single runs, not configurations (a configuration run several "
                        "times, by --repetitions or as seeds, is ranked by its mean)")
    p.add_argument("--decisions", action="store_true",
                   help="show the decision log (scheduler decisions, starts, resumes, ends)")
    p.add_argument("--decisions-csv", metavar="PATH", help="write the decision log as CSV")
    prune = p.add_argument_group("pruning trial folders (nothing is deleted without --yes)")
    prune.add_argument("--keep-best", type=int, metavar="N",
                       help="delete the folders of all but the N best trials")
    prune.add_argument("--performance-criteria", metavar="EXPR",
                       help="delete the folders of trials failing e.g. 'val_acc>=0.9, loss<1'")
    prune.add_argument("--yes", action="store_true", help="really delete (default: list only)")


def render_rows(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    """Rows as a text table, CSV, JSON or a Markdown table."""
    if fmt == "json":
        return json.dumps(list(rows), indent=2, default=str)
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else _plain(v) for k, v in row.items()})
        return buf.getvalue().rstrip("\n")
    cells = [[format_cell(_plain(r[c])) for c in columns] for r in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _plain(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def _grouped(data: StudyData) -> bool:
    """Whether the study has a configuration that ran more than once."""
    return any(g.n > 1 for g in study_groups(data))


def ranking(data: StudyData, *, sort: str | None = None, states: str | None = None,
            every: bool = False, top: int = 10, runs: bool = False
            ) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None]:
    """The report's ranking: a title, one row per run, and (when a configuration ran more than
    once and ``runs`` is not asked for) one row per configuration, ranked by its mean. The runs
    are then listed in the order of their configurations (``rank`` is the configuration's)."""
    if runs or (data.is_multi_objective and not sort) or not _grouped(data):
        title, trials = _select(data, sort=sort, states=states, every=every, top=top)
        return title, report_rows(data, trials), None
    metric, mode = parse_sort(sort, data)
    groups = [g for g in study_groups(data, metric=metric, mode=mode, states=parse_states(states))
              if every or g.mean is not None]
    groups = groups if every else groups[:top]
    title = (f"{'all' if every else f'best {len(groups)}'} configurations by the mean {metric} "
             f"over their runs ({mode}; single runs: --runs)")
    run_rows: list[dict[str, Any]] = []
    for rank, group in enumerate(groups, start=1):
        members = sort_trials([t for t in group.runs if t.trial_id >= 0], metric, mode)
        for row in report_rows(data, members):
            row["rank"] = rank
            run_rows.append(row)
    return title, run_rows, group_rows(data, groups, metric)


def _select(data: StudyData, *, sort: str | None, states: str | None, every: bool, top: int
            ) -> tuple[str, list[TrialRecord]]:
    metric, mode = parse_sort(sort, data)
    wanted = parse_states(states)
    if every:
        pool = [t for t in data.trials if wanted is None or t.state in wanted]
        return f"all trials by {metric} ({mode})", sort_trials(pool, metric, mode)
    if data.is_multi_objective and not sort:
        front = pareto_trials(data)
        names = ", ".join(f"{m} ({o})" for m, o in zip(data.metrics, data.modes))
        return f"Pareto front of {names}", front
    best = best_trials(data, top, metric=metric, mode=mode, states=wanted)
    return f"best {len(best)} by {metric} ({mode})", best


def _summary(data: StudyData) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for t in data.trials:
        counts[t.state.value] = counts.get(t.state.value, 0) + 1
    return {"study": str(data.root), "live_controller": data.live, "trials": len(data.trials),
            "counts": counts, "metrics": list(data.metrics), "modes": list(data.modes),
            "csv": str(data.csv)}


def _print_decisions(data: StudyData, args: argparse.Namespace) -> None:
    rows = decision_rows(data.events)
    if args.decisions_csv:
        keys: list[str] = []
        for row in rows:
            keys.extend(k for k in row if k not in keys)
        with open(args.decisions_csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys or ["event_id"])
            writer.writeheader()
            for row in rows:
                writer.writerow({k: "" if v is None else _plain(v) for k, v in row.items()})
        print(f"decision log ({len(rows)} events) written to {args.decisions_csv}",
              file=sys.stderr)
    if args.decisions:
        compact = [{"event_id": r["event_id"], "time": r["time"], "trial_id": r["trial_id"],
                    "kind": r["kind"],
                    "data": {k: v for k, v in r.items()
                             if k not in ("event_id", "time", "trial_id", "kind")}}
                   for r in rows]
        if args.format == "table":
            t0 = rows[0]["time"] if rows else 0.0
            for r in compact:
                details = " ".join(f"{k}={format_cell(v)}" for k, v in r["data"].items()
                                   if v not in (None, ""))
                print(f"{r['time'] - t0:9.3f}s  trial {r['trial_id']!s:>4}  {r['kind']:<11} "
                      f"{details}")
        else:
            print(render_rows(compact, args.format))


def _prune(data: StudyData, args: argparse.Namespace) -> None:
    criteria = parse_criteria(args.performance_criteria) if args.performance_criteria else []
    plan = plan_prune(data, keep_best=args.keep_best, criteria=criteria)
    if not plan.delete:
        print("no trial folder to delete")
        return
    if not args.yes:
        print(f"would delete {len(plan.delete)} trial folders (add --yes to delete them):")
        for t in plan.delete:
            print(f"  trial {t.trial_id}  {data.metric}={format_cell(trial_value(t, data.metric))}"
                  f"  {t.trial_dir}")
        return
    removed = delete_folders(plan)
    print(f"deleted {len(removed)} trial folders; kept {len(plan.keep)}")


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise UsageError(f"--top must be >= 1, got {args.top}.")
    # the ranking reads each trial's last metrics: reports are not loaded, events only for the log
    data = load_study_data(args.study_dir, with_reports=False,
                           with_events=bool(args.decisions or args.decisions_csv))
    if args.keep_best is not None or args.performance_criteria:
        _prune(data, args)
        return 0
    if args.decisions or args.decisions_csv:
        _print_decisions(data, args)
        if args.decisions:
            return 0
    title, rows, configs = ranking(data, sort=args.sort, states=args.state, every=args.all,
                                   top=args.top, runs=args.runs)
    summary = _summary(data)
    if args.format == "json":
        extra = {} if configs is None else {"configurations": configs}
        print(json.dumps({**summary, "title": title, "ranked": rows, **extra}, indent=2,
                         default=str))
        return 0
    if configs is not None:
        rows = configs  # the text forms show configurations; their runs are one --runs away
    if args.format == "csv":
        print(render_rows(rows, "csv"))
        return 0
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary["counts"].items())) or "no trials"
    live = " (running: a controller holds it)" if data.live else ""
    if args.format == "markdown":
        print(f"**study** `{data.root}`{live}  \n**trials** {len(data.trials)}: {counts}  \n"
              f"**csv** `{data.csv}`\n\n### {title}\n")
    else:
        print(f"study    {data.root}{live}\ntrials   {len(data.trials)}: {counts}\n"
              f"csv      {data.csv}\n\n{title}:")
    print(render_rows(rows, args.format) if rows else "(no trial with a value yet)")
    return 0
