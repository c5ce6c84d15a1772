"""Real studies made by the engine, shared by the results tests (built once per session)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import PY

from hpsweep.cli.main import main
from hpsweep.space import SearchSpace, Sweep
from hpsweep.store import Store, StudyDir
from hpsweep.trial import Report, TrialRecord, TrialState

# loss depends strongly on a, weakly on b, not at all on c; three reports per trial.
IMPORTANCE = """
import argparse, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--a", type=float)
p.add_argument("--b", type=float)
p.add_argument("--c", type=float)
x = p.parse_args()
final = 4.0 * (x.a - 0.3) ** 2 + 3.0 * (x.b - 0.6) ** 2
for step in (1, 2, 3):
    hpsweep.report(step=step, loss=final + 1.0 / step - 1.0 / 3, acc=1.0 - final)
"""

# The best x is 2; the seed shifts the result so that seeds differ in a known way.
SEEDED = """
import argparse, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--random_seed", type=int, default=0)
a = p.parse_args()
noise = (a.random_seed % 97) / 97.0
hpsweep.report(step=1, m=(a.x - 2.0) ** 2 + noise, acc=0.5 + noise / 2)
"""

# Two objectives in conflict for x in 0..2 (m falls, cost rises); x=3 is dominated by x=1.
TWO_METRICS = """
import argparse, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
a = p.parse_args()
m, cost = (9.5, 100.0) if a.x == 3 else (10.0 - a.x, a.x ** 2)
hpsweep.report(step=1, m=m, cost=cost)
"""


def make_study(folder: Path, source: str, options: list[str], params: list[str]) -> Path:
    """Write ``source`` to ``folder/script.py`` and run ``hpsweep run`` on it (in this process)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "script.py"
    script.write_text(textwrap.dedent(source))
    study = folder / "study"
    code = main(["run", "--out", str(study), "--plain", "-q", *options, "--", PY, str(script),
                 *params])
    assert code == 0, f"hpsweep run exited {code}"
    return study


@pytest.fixture(scope="session")
def importance_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_study(
        tmp_path_factory.mktemp("importance"), IMPORTANCE,
        ["--metric", "loss", "--mode", "min", "--parallel", "2", "--strategy", "random",
         "--num-trials", "30", "--seed", "11"],
        ["--a", "uniform(0, 1)", "--b", "uniform(0, 1)", "--c", "uniform(0, 1)"],
    )


@pytest.fixture(scope="session")
def seeded_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_study(
        tmp_path_factory.mktemp("seeded"), SEEDED,
        ["--metric", "m", "--mode", "min", "--parallel", "2", "--seed", "3"],
        ["--x", "[1, 2, 3.5]", "--random_seed", "7"],
    )


@pytest.fixture(scope="session")
def multi_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_study(
        tmp_path_factory.mktemp("multi"), TWO_METRICS,
        ["--metric", "m", "--mode", "min", "--metric", "cost", "--mode", "min",
         "--parallel", "2", "--seed", "5", "--strategy", "tpe", "--num-trials", "8"],
        ["--x", "[0, 1, 2, 3]"],
    )


def write_lr_study(root: Path, n: int) -> Path:
    """A finished study written straight through the store (no processes): ``n`` trials of a
    log-uniform ``lr``, an integer ``width`` and a categorical ``opt``, where the loss depends on
    ``lr`` only; every tenth trial failed."""
    rng = np.random.default_rng(7)
    study = StudyDir(root)
    root.mkdir(parents=True)
    space = (SearchSpace().add_float("lr", 1e-5, 1e-1, log=True).add_int("width", 16, 256)
             .add_categorical("opt", ["sgd", "adam", "adamw"]))
    options = {"metrics": ["loss"], "modes": ["min"], "command": ["python", "t.py"]}
    study.write_sweep({"format": 1, "options": options,
                       "sweep": Sweep(space=space, command=("python", "t.py")).to_dict()})
    store = Store.create(study.db, name="lr", spec={"options": options})
    with store.batch():
        for tid in range(n):
            config = {"lr": float(10 ** rng.uniform(-5, -1)), "width": int(rng.integers(16, 257)),
                      "opt": str(rng.choice(["sgd", "adam", "adamw"]))}
            trial = TrialRecord(trial_id=tid, config=config, state=TrialState.RUNNING,
                                created=float(tid), trial_dir=str(study.trial_dir(tid)))
            store.add_trial(trial)
            loss = (np.log10(config["lr"]) + 3) ** 2
            for step in (1, 2):
                store.add_report(Report(tid, step, {"loss": loss + 1.0 / step}, tid + step / 4,
                                        step - 1))
            trial.last_metrics = {"loss": loss + 0.5}
            trial.state = TrialState.FAILED if tid % 10 == 9 else TrialState.COMPLETED
            trial.started, trial.finished = float(tid), tid + 0.75
            store.update_trial(trial, event="end", time=tid + 0.75,
                               data={"state": trial.state.value})
    store.close()
    return root


@pytest.fixture(scope="session")
def lr_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`write_lr_study` of 400 trials (360 completed: above the fanova limit)."""
    return write_lr_study(tmp_path_factory.mktemp("lr") / "study", 400)
