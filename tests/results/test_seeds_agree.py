"""Seed gathering (seed 000) through the real CLI: the study's own seed option, a failed first try
that is said and replaced, and one mean +- SD over the same n runs in the summary, the status, the
dashboard and the plots."""

from __future__ import annotations

import json
import statistics
import textwrap
from pathlib import Path

import pytest
from tests.conftest import PY, run_cli

from hpsweep.dashboard._data import seed_groups, summary
from hpsweep.dashboard._importance import importance
from hpsweep.results import load_study_data, param_importance

# acc depends on x (best x=2) and, in a known way, on the seed the script is given.
SCRIPT = """
import argparse, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
hpsweep.report(step=1, acc_test=80.0 - abs(a.x - 2) * 10 + (a.seed % 11))
"""


def _acc(x: int, seed: int) -> float:
    return 80.0 - abs(x - 2) * 10 + (seed % 11)


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeds")
    (root / "train.py").write_text(textwrap.dedent(SCRIPT))
    run_cli("run", "--out", "grid", "--metric", "acc_test", "--seed-arg", "seed", "--seed", "4",
            "-q", "--", PY, "train.py", "--x", "[1, 2, 3]", cwd=root, check=True)
    return root / "grid"


def test_seeds_use_the_study_seed_option_and_every_view_agrees(grid: Path) -> None:
    done = run_cli("seeds", str(grid), "--num-seeds", "4", "-q", cwd=grid.parent, check=True)
    gathered = grid / "seeds-1"  # trial 1 has x=2, the best
    data = load_study_data(gathered)
    assert len(data.trials) == 3 and all(t.state.value == "completed" for t in data.trials)
    for t in data.trials:  # the new seeds went through the study's --seed, and reached the script
        argv = json.loads(Path(t.trial_dir, "manifest.json").read_text())["argv"]
        assert f"--seed={t.config['seed']}" in argv
        assert t.last_metrics["acc_test"] == _acc(2, t.config["seed"])
    source = load_study_data(grid)
    reference = source.trial(1)
    values = [_acc(2, reference.seed)] + [_acc(2, t.config["seed"]) for t in data.trials]
    mean, sd = statistics.mean(values), statistics.stdev(values)
    text = (gathered / "seeds_summary.txt").read_text()
    assert f"acc_test: {mean:.3f} +- {sd:.3f} (n=4)" in text
    assert f"seeds: {reference.seed}, " in text and "?" not in text
    assert f"acc_test: {mean:.3f}" in done.stdout
    # the dashboard's seeds page and the study card: the same four runs, the same mean
    (group,) = seed_groups(data)
    assert group["n"] == 4 and group["mean"] == pytest.approx(mean) and group["sd"] == pytest.approx(sd)
    assert [r["reference"] for r in group["runs"]] == [True, False, False, False]
    best = summary(data, "s")["best"]
    assert best["n"] == 4 and best["value"] == pytest.approx(mean)
    # status says the same; importance does not pretend the seed matters
    status = json.loads(run_cli("status", str(gathered), "--json", cwd=grid.parent, check=True).stdout)
    assert status["best"]["n"] == 4 and status["best"]["mean"] == pytest.approx(mean)
    assert param_importance(data) == {}
    assert "does not apply" in importance(data)["note"]
    # the grid study's configurations are not pooled as seeds
    pooled = run_cli("plot", str(grid), "--kind", "seeds", "--out", str(grid.parent / "p"),
                     cwd=grid.parent)
    assert pooled.returncode == 2 and "no configuration ran more than once" in pooled.stderr


def test_a_wrong_seed_option_fails_loudly_and_the_next_try_replaces_it(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(SCRIPT))
    run_cli("run", "--out", "grid", "--metric", "acc_test", "--seed", "4", "-q", "--", PY,
            "train.py", "--x", "[1, 2, 3]", cwd=tmp_path, check=True)
    wrong = run_cli("seeds", "grid", "--num-seeds", "3", "-q", cwd=tmp_path)
    assert wrong.returncode == 2
    assert "no new seed completed" in wrong.stderr and "--random_seed" in wrong.stderr
    assert "unrecognized arguments" in wrong.stderr and "--seed-arg" in wrong.stderr
    assert not (tmp_path / "grid" / "seeds-1" / "seeds_summary.txt").exists()
    right = run_cli("seeds", "grid", "--num-seeds", "3", "--seed-arg", "seed", "-q", cwd=tmp_path)
    assert right.returncode == 0, right.stderr
    assert "replacing" in right.stdout
    data = load_study_data(tmp_path / "grid" / "seeds-1")
    assert len(data.trials) == 2 and all(t.state.value == "completed" for t in data.trials)
    doc = json.loads((tmp_path / "grid" / "seeds-1" / "seeds_summary.json").read_text())
    # the reference ran with the script's default seed (0): no seed option was passed then
    assert doc["keys"]["acc_test"]["n"] == 3 and doc["seeds"][0] is None
