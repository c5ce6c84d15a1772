"""``hpsweep status DIR``: the state of one study, while it runs or after."""

from __future__ import annotations

import argparse
import json

from hpsweep._groups import reference_run
from hpsweep.cli.progress import _best_group, _fmt_config, best_text
from hpsweep.store import Store, StudyDir
from hpsweep.trial import TrialState

__all__ = ["add_arguments", "run", "study_summary"]

SEEDS_FILE = "seeds.json"  # as hpsweep.results (not imported here: it loads pandas)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dir", metavar="DIR", help="the study folder")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def study_summary(study: StudyDir) -> dict[str, object]:
    study.require()
    options = study.read_sweep().get("options", {})
    metric = (options.get("metrics") or ["loss"])[0]
    mode = (options.get("modes") or ["min"])[0]
    store = Store.open(study.db, readonly=True)
    try:
        trials = store.trials(with_reports=False)
    finally:
        store.close()
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state.value] = counts.get(t.state.value, 0) + 1
    seeds = study.root / SEEDS_FILE
    info = None
    if seeds.is_file():
        try:
            info = json.loads(seeds.read_text())
        except (OSError, ValueError):
            info = None
    seed_arg = str(info["seed_arg"]) if isinstance(info, dict) and info.get("seed_arg") else None
    ref = reference_run(info)
    best = _best_group([*trials, *([ref] if ref else [])], metric, mode, seed_arg)
    return {
        "study": str(study.root), "live_controller": study.is_locked(), "trials": len(trials),
        "counts": counts, "metric": metric, "mode": mode,
        "best": None if best is None else {
            "trial_id": best.representative.trial_id, "value": best.mean, "mean": best.mean,
            "sd": best.sd, "sem": best.sem, "n": best.n, "trial_ids": best.trial_ids,
            "config": best.config, "trial_dir": best.representative.trial_dir,
            "text": best_text(best, metric)},
        "running": [{"trial_id": t.trial_id, "worker_id": t.worker_id, "gpu": t.gpu, "config": t.config}
                    for t in trials if t.state is TrialState.RUNNING],
        "csv": str(study.csv),
    }


def run(args: argparse.Namespace) -> int:
    info = study_summary(StudyDir(args.study_dir))
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    counts = info["counts"]
    assert isinstance(counts, dict)
    print(f"study    {info['study']}")
    print(f"state    {'running (a controller holds it)' if info['live_controller'] else 'not running'}")
    print(f"trials   {info['trials']}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    best = info["best"]
    if isinstance(best, dict):
        print(f"best     {best['text']}")
    running = info["running"]
    assert isinstance(running, list)
    for r in running:
        print(f"running  trial {r['trial_id']} in slot {r['worker_id']}"
              f"{' on GPU ' + r['gpu'] if r['gpu'] else ''}: {_fmt_config(r['config'])}")
    print(f"csv      {info['csv']}")
    return 0
