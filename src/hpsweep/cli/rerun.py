"""``hpsweep rerun DIR TRIAL``: run one trial again from its manifest, into a new folder.

The run gets the trial's command line with its folder paths pointing at the new folder (default
``DIR/reruns/<trial>-<n>/``), the same working directory, seed, worker id and ``HPSWEEP_*``
environment, and an empty checkpoint folder: a trial that was paused and resumed runs from scratch
up to its last target budget. ``CUDA_VISIBLE_DEVICES`` is left as it is unless ``--gpu`` sets it.
Metrics are read with the study's own options (report file, markers, ``--metric-regex``,
``--summary-file``) and printed next to the original's. The study's store is only ever read: a
controller may hold it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shlex
import socket
import sys
import time
from pathlib import Path
from typing import Any

from hpsweep.errors import StudyError, UsageError
from hpsweep.executors.base import ExitEvent, LaunchSpec, ReportEvent, Slot
from hpsweep.store import StudyDir

__all__ = ["add_arguments", "rerun_folder", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("trial", metavar="TRIAL", help="the trial id (as in `hpsweep report`)")
    p.add_argument("--out", metavar="NEWDIR", help="folder of the new run (default DIR/reruns/<trial>-<n>)")
    p.add_argument("--gpu", metavar="IDS", help="CUDA_VISIBLE_DEVICES for the run (default: unchanged)")
    p.add_argument("--timeout", type=float, help="seconds before the run is killed "
                                                 "(default: the study's --timeout-per-trial)")


def _trial_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"TRIAL {text!r}: give a trial id, a whole number such as 3.") from None
    if value < 0:
        raise UsageError(f"TRIAL {value}: trial ids are >= 0.")
    return value


def rerun_folder(study: StudyDir, trial_id: int, out: str | None) -> Path:
    """Create and return the new run's folder: ``out`` (must be new or empty) or the next free
    ``<study>/reruns/<trial>-<n>``."""
    if out:
        target = Path(out).absolute()
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise UsageError(f"--out {out}: exists and is not an empty folder; choose a new folder.")
        target.mkdir(parents=True, exist_ok=True)
        return target
    base = study.root / "reruns"
    base.mkdir(exist_ok=True)
    n = 1
    while True:
        target = base / f"{trial_id:04d}-{n}"
        try:
            target.mkdir()
            return target
        except FileExistsError:
            n += 1


def _read_manifest(study: StudyDir, trial_id: int) -> dict[str, Any]:
    path = study.trial_dir(trial_id) / "manifest.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise StudyError(f"trial {trial_id} has no manifest ({path} is missing): it never started, "
                         "or its folder was removed.") from None
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise StudyError(f"{path} is not a readable manifest: {exc}") from exc


def _retarget(argv: list[str], old_dirs: list[str], new_dir: str) -> list[str]:
    """The argv with every mention of the trial's old folder pointing at ``new_dir``."""
    patterns = [re.compile(re.escape(old) + r"(?![\w.-])") for old in old_dirs]
    out = []
    for token in argv:
        for pattern in patterns:
            token = pattern.sub(lambda _: new_dir, token)
        out.append(token)
    return out


def _environment(study: StudyDir, manifest: dict[str, Any], folder: Path, trial_id: int) -> dict[str, str]:
    """The same ``HPSWEEP_*`` contract a sweep gives a trial, with the new folder's paths."""
    env = {
        "HPSWEEP_STUDY_DIR": str(study.root),
        "HPSWEEP_TRIAL_ID": str(trial_id),
        "HPSWEEP_TRIAL_DIR": str(folder),
        "HPSWEEP_WORKER_ID": str(manifest.get("worker_id") or 0),
        "HPSWEEP_CHECKPOINT_DIR": str(folder / "checkpoint"),
        "HPSWEEP_REPORT_FILE": str(folder / "reports.jsonl"),
        "HPSWEEP_CONFIG": json.dumps(manifest.get("config", {}), default=str),
        "HPSWEEP_RERUN_OF": str(trial_id),
    }
    if manifest.get("seed") is not None:
        env["HPSWEEP_SEED"] = str(manifest["seed"])
    if manifest.get("resource") is not None:
        env["HPSWEEP_RESOURCE"] = str(manifest["resource"])
    return env


def _write_files(study: StudyDir, manifest: dict[str, Any], folder: Path, trial_id: int) -> None:
    """Files the sweep writes into a trial folder (per-trial YAML configs), for the new folder."""
    from hpsweep.space import Sweep, TrialContext

    data = study.read_sweep().get("sweep")
    if not data:
        return
    ctx = TrialContext(trial_id=trial_id, trial_dir=str(folder), worker_id=int(manifest.get("worker_id") or 0),
                       seed=manifest.get("seed"), resource=manifest.get("resource"))
    for rel, text in Sweep.from_dict(data).render(dict(manifest.get("config", {})), ctx).files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _original_metrics(study: StudyDir, manifest: dict[str, Any], trial_id: int) -> dict[str, Any]:
    if isinstance(manifest.get("metrics"), dict):
        return dict(manifest["metrics"])
    from hpsweep.store import Store

    store = Store.open(study.db, readonly=True)
    try:
        return dict(store.trial(trial_id).last_metrics)
    except StudyError:  # a trial the store does not know: nothing to compare with
        return {}
    finally:
        store.close()


def _execute(options: dict[str, Any], spec: LaunchSpec, slot: Slot) -> tuple[dict[str, Any], int, ExitEvent]:
    """Run ``spec`` to its end with the study's metric options; (last metrics, reports, exit)."""
    from hpsweep.executors.local import LocalExecutor
    from hpsweep.executors.metrics import MetricParser, compile_metric_regex

    regex = options.get("metric_regex")
    parser = MetricParser(regex=compile_metric_regex(regex) if regex else None,
                          resource_attr=str(options.get("resource_attr") or "epoch"))
    executor = LocalExecutor(slots=1, parser=parser, summary_file=options.get("summary_file"))
    metrics: dict[str, Any] = {}
    reports = 0
    try:
        executor.launch(slot, spec)
        while True:
            for event in executor.poll(0.2):
                if isinstance(event, ReportEvent):
                    metrics.update(event.metrics)
                    reports += 1
                elif isinstance(event, ExitEvent):
                    return metrics, reports, event
    finally:
        executor.shutdown(kill=True)


def _same(a: Any, b: Any) -> str:
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return "same" if a == b else "differs"
    if math.isnan(fa) and math.isnan(fb):
        return "same"
    return "same" if math.isclose(fa, fb, rel_tol=1e-9, abs_tol=1e-12) else "differs"


def _print_comparison(objective: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    names = [objective, *sorted((set(before) | set(after)) - {objective})]
    rows = [(n, str(before.get(n, "-")), str(after.get(n, "-")),
             _same(before[n], after[n]) if n in before and n in after else "") for n in names]
    w = [max(len(r[i]) for r in [("metric", "original", "rerun", ""), *rows]) for i in range(3)]
    print(f"{'metric':<{w[0]}}  {'original':>{w[1]}}  {'rerun':>{w[2]}}")
    for name, old, new, verdict in rows:
        print(f"{name:<{w[0]}}  {old:>{w[1]}}  {new:>{w[2]}}  {verdict}".rstrip())


def run(args: argparse.Namespace) -> int:
    from hpsweep import __version__
    from hpsweep.tuner.launcher import git_info

    study = StudyDir(args.study_dir).require()
    trial_id = _trial_id(args.trial)
    manifest = _read_manifest(study, trial_id)
    options = dict(study.read_sweep().get("options") or {})
    cwd = str(manifest.get("cwd") or options.get("cwd") or os.getcwd())
    if not Path(cwd).is_dir():
        raise StudyError(f"trial {trial_id} ran in {cwd}, which no longer exists.")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be > 0 seconds, got {args.timeout}.")
    folder = rerun_folder(study, trial_id, args.out)
    (folder / "checkpoint").mkdir(exist_ok=True)
    old_dirs = sorted({str(StudyDir(manifest.get("study") or study.root).trial_dir(trial_id)),
                       str(study.trial_dir(trial_id))}, key=len, reverse=True)
    argv = _retarget([str(t) for t in manifest.get("argv", [])], old_dirs, str(folder))
    if not argv:
        raise StudyError(f"the manifest of trial {trial_id} has no command line (argv).")
    _write_files(study, manifest, folder, trial_id)
    env = _environment(study, manifest, folder, trial_id)
    timeout = args.timeout if args.timeout is not None else options.get("timeout_per_trial")
    spec = LaunchSpec(trial_id=trial_id, argv=tuple(argv), trial_dir=str(folder), env=env, cwd=cwd,
                      resource=manifest.get("resource"), timeout=timeout,
                      config=dict(manifest.get("config", {})))
    slot = Slot(worker_id=int(manifest.get("worker_id") or 0), gpu=args.gpu)
    git = git_info(str(manifest.get("git", {}).get("root") or cwd))
    record: dict[str, Any] = {
        "rerun_of": {"study": str(study.root), "trial_id": trial_id,
                     "manifest": str(study.trial_dir(trial_id) / "manifest.json")},
        "trial_id": trial_id, "config": manifest.get("config", {}), "seed": manifest.get("seed"),
        "resource": manifest.get("resource"), "argv": argv, "cwd": cwd, "env": env, "git": git,
        "hostname": socket.gethostname(), "worker_id": slot.worker_id,
        "gpu": args.gpu if args.gpu is not None else os.environ.get("CUDA_VISIBLE_DEVICES"),
        "python": platform.python_version(), "python_executable": sys.executable,
        "hpsweep": __version__, "started": time.time(), "finished": None, "state": "running",
    }
    _write_manifest(folder, record)
    old_commit = manifest.get("git", {}).get("commit")
    if old_commit and git.get("commit") and git["commit"] != old_commit:
        print(f"note: the code is at commit {git['commit'][:12]}, the trial ran at {old_commit[:12]}",
              file=sys.stderr)
    print(f"rerunning trial {trial_id} in {folder}\n  {shlex.join(argv)}")
    try:
        metrics, reports, exit_event = _execute(options, spec, slot)
    except KeyboardInterrupt:
        record.update(finished=time.time(), state="interrupted")
        _write_manifest(folder, record)
        raise
    objective = str((options.get("metrics") or ["loss"])[0])
    ok = exit_event.exit_code == 0 and exit_event.error_kind is None and objective in metrics
    record.update(finished=time.time(), state="completed" if ok else "failed",
                  exit_code=exit_event.exit_code, reports=reports, metrics=metrics,
                  error=exit_event.message or None)
    _write_manifest(folder, record)
    _print_comparison(objective, _original_metrics(study, manifest, trial_id), metrics)
    if not ok:
        why = exit_event.message or f"exit code {exit_event.exit_code}"
        print(f"hpsweep rerun: the run did not complete ({why}); see {folder}/stderr.log",
              file=sys.stderr)
        return 1
    return 0


def _write_manifest(folder: Path, data: dict[str, Any]) -> None:
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, folder / "manifest.json")
