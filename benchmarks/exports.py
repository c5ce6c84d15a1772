"""Exports and the report of a finished study of 10,000 trials, timed as a user runs them.

A synthetic study is written through the store (``--trials`` trials with a log-uniform float, an
integer and a categorical parameter, 5-20 reports of a learning curve each; most completed, some
stopped early as a multi-fidelity scheduler would, a few failed; start, decision and end events
as the controller writes them). Then each command runs as a real ``hpsweep`` subprocess and its
wall time and CPU time (the child's user + system) are printed in one table:

- ``hpsweep report DIR`` (and whether pandas was imported, from ``-X importtime``),
- ``hpsweep export DIR --optuna study.log`` (an Optuna journal file) and
  ``--optuna sqlite:///study.db`` (Optuna's RDB storage),
- ``hpsweep dashboard DIR --export dash.html``,
- ``hpsweep plot DIR`` (PNG and HTML of every kind).

``--old SRC`` runs the same commands a second time with another source tree on ``PYTHONPATH``
(an older commit checked out with ``git worktree add``), interleaved with the new ones, so both
columns come from the same run. ``--peers`` adds Optuna itself: ``load_study`` of the exported
journal, ``copy_study`` of it into an in-memory storage, and (slow) its own Plotly plots.

    nice -n 19 .venv/bin/python benchmarks/exports.py --trials 10000 [--old /tmp/old/src] [--peers]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hpsweep.space import SearchSpace, Sweep
from hpsweep.store import Store, StudyDir
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState

HERE = Path(__file__).resolve().parent
NEW_SRC = HERE.parent / "src"


def make_study(root: Path, n_trials: int, seed: int = 0) -> Path:
    """A finished study of ``n_trials`` trials on 4 slots, written in one store transaction."""
    rng = np.random.default_rng(seed)
    study = StudyDir(root)
    root.mkdir(parents=True)
    space = (SearchSpace().add_float("lr", 1e-5, 1e-1, log=True).add_int("width", 16, 256)
             .add_categorical("opt", ["sgd", "adam", "adamw"]))
    sweep = Sweep(space=space, command=("python", "train.py"))
    options = {"metrics": ["val_loss"], "modes": ["min"], "command": ["python", "train.py"],
               "strategy": "random", "scheduler": "asha"}
    study.write_sweep({"format": 1, "options": options, "sweep": sweep.to_dict()})
    store = Store.create(study.db, name=f"exports-{n_trials}", spec={"options": options})
    free = [1000.0] * 4
    with store.batch():
        for tid in range(n_trials):
            slot = int(np.argmin(free))
            clock = free[slot]
            config = {"lr": float(10 ** rng.uniform(-5, -1)), "width": int(rng.integers(16, 257)),
                      "opt": str(rng.choice(["sgd", "adam", "adamw"]))}
            trial = TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING,
                                created=clock, resource=20, trial_dir=str(study.trial_dir(tid)))
            store.add_trial(trial)
            trial.worker_id, trial.started = slot, clock
            store.update_trial(trial, event="start", time=clock, data={"worker_id": slot})
            floor = 0.1 + 0.05 * (math.log10(config["lr"]) + 3) ** 2 + 4.0 / config["width"] \
                + {"sgd": 0.05, "adam": 0.0, "adamw": 0.01}[config["opt"]]
            roll = rng.uniform()
            n_reports = int(rng.integers(5, 21))
            state = TrialState.COMPLETED if roll < 0.75 else TrialState.STOPPED
            if roll > 0.97:
                state, n_reports = TrialState.FAILED, int(rng.integers(1, 5))
            n_reports = 20 if state is TrialState.COMPLETED else n_reports
            for step in range(1, n_reports + 1):
                loss = floor + math.exp(-0.25 * step) + float(rng.normal(0, 0.01))
                clock += 1.0
                store.add_report(Report(tid, step, {"val_loss": loss, "epoch": step},
                                        clock, step - 1))
                trial.last_metrics = {"val_loss": loss, "epoch": step}
            if state is TrialState.STOPPED:
                store.add_event("decision", time=clock, trial_id=tid,
                                data={"decision": "stop", "resource": n_reports,
                                      "reason": "below the rung's top third"})
            if state is TrialState.FAILED:
                trial.error_kind, trial.error, trial.exit_code = ErrorKind.CRASH, "exit 1", 1
            clock += 0.5
            trial.state, trial.finished = state, clock
            store.update_trial(trial, event="end", time=clock, data={"state": state.value})
            free[slot] = clock
    store.close()
    return root


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src)
    env["MPLBACKEND"] = "Agg"
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_cli(src: Path, args: Sequence[str], *, cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of ``python ARGS`` run with ``src`` on the path, and its stderr."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=_env(src), capture_output=True,
                          text=True, timeout=3600)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, cpu, done.stderr


def _commands(study: Path, out: Path, tag: str) -> list[tuple[str, list[str]]]:
    cli = ["-m", "hpsweep"]
    return [
        ("report", [*cli, "report", str(study)]),
        ("export --optuna study.log (journal)",
         [*cli, "export", str(study), "--optuna", str(out / f"{tag}.log")]),
        ("export --optuna sqlite:///study.db",
         [*cli, "export", str(study), "--optuna", f"sqlite:///{out / tag}.db"]),
        ("dashboard --export dash.html",
         [*cli, "dashboard", str(study), "--export", str(out / f"{tag}.html")]),
        ("plot (PNG + HTML)", [*cli, "plot", str(study), "--out", str(out / f"{tag}-plots")]),
    ]


def _pandas_at_startup(src: Path, study: Path, cwd: Path) -> bool:
    _, _, err = timed_cli(src, ["-X", "importtime", "-m", "hpsweep", "report", str(study)], cwd=cwd)
    return any(line.rstrip().endswith("| pandas") for line in err.splitlines())


def _peer_rows(journal: Path, repeat: int) -> list[tuple[str, float]]:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    def storage() -> JournalStorage:
        return JournalStorage(JournalFileBackend(str(journal)))

    rows = []
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        study = optuna.load_study(study_name=None, storage=storage())
        n = len(study.trials)
        runs.append(time.perf_counter() - start)
    rows.append((f"Optuna load_study of the journal ({n} trials)", statistics.median(runs)))
    start = time.perf_counter()
    optuna.copy_study(from_study_name=study.study_name, from_storage=storage(),
                      to_storage=optuna.storages.InMemoryStorage())
    rows.append(("Optuna copy_study journal -> in-memory", time.perf_counter() - start))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, plot in enumerate((optuna.visualization.plot_optimization_history,
                                  optuna.visualization.plot_parallel_coordinate,
                                  optuna.visualization.plot_slice,
                                  optuna.visualization.plot_intermediate_values)):
            plot(study).write_html(f"{tmp}/{i}.html", include_plotlyjs=True)
    rows.append(("Optuna's own Plotly plots (4 kinds, HTML)", time.perf_counter() - start))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (median)")
    parser.add_argument("--new", type=Path, default=NEW_SRC,
                        help="the source tree to time (default: this checkout's src)")
    parser.add_argument("--old", type=Path, help="another source tree to time side by side")
    parser.add_argument("--peers", action="store_true", help="time Optuna's own tools too")
    parser.add_argument("--skip", action="append", default=[],
                        help="leave out commands whose name contains this text (the names: "
                             "report, export --optuna study.log (journal), export --optuna "
                             "sqlite:///study.db, dashboard --export dash.html, plot (PNG + "
                             "HTML); 'export' matches the dashboard too: skip the Optuna "
                             "exports with 'journal' and 'sqlite')")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        study = make_study(tmp / "study", args.trials)
        n_reports = sum(len(t.reports) for t in Store.open(study / "study.db",
                                                           readonly=True).trials())
        print(f"study of {args.trials} trials and {n_reports} reports written in "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
        trees = [("new", args.new)] + ([("old", args.old)] if args.old else [])
        table: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for i in range(args.repeat):
            for name_argv in zip(*[_commands(study, tmp, f"{tag}{i}") for tag, _ in trees]):
                for (tag, src), (name, argv) in zip(trees, name_argv):  # old and new in turn
                    if any(s in name for s in args.skip):
                        continue
                    if tag == "old" and "journal" in name:
                        continue  # the older export took storage URLs only
                    wall, cpu, _ = timed_cli(src, argv, cwd=tmp)
                    print(f"  {tag} {name}: {wall:.2f} s wall, {cpu:.2f} s CPU", file=sys.stderr)
                    table.setdefault(name, {}).setdefault(tag, []).append((wall, cpu))
        pandas = {tag: _pandas_at_startup(src, study, tmp) for tag, src in trees}
        peers = _peer_rows(tmp / "new0.log", 3) if args.peers and not any(
            "journal" in s for s in args.skip) else []
    print(f"\n{args.trials} trials, {n_reports} reports; {platform.processor() or platform.machine()}"
          f", {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; median of {args.repeat}\n")
    cols = [tag for tag, _ in trees]
    print("| command | " + " | ".join(f"{c}: wall s | {c}: CPU s" for c in cols) + " |")
    print("|---|" + "---|---|" * len(cols))
    for name, by_tag in table.items():
        cells = []
        for c in cols:
            runs = by_tag.get(c)
            cells += ([f"{statistics.median(w for w, _ in runs):.2f}",
                       f"{statistics.median(u for _, u in runs):.2f}"] if runs else ["—", "—"])
        print(f"| `hpsweep {name}` | " + " | ".join(cells) + " |")
    print("| pandas imported by `report` | " + " | ".join(
        ("yes" if pandas[c] else "no") + " | " for c in cols) + " |")
    for name, wall in peers:
        print(f"| {name} (in the benchmark's process) | {wall:.2f} | |" + " | |" * (len(cols) - 1))


if __name__ == "__main__":
    main()
