"""Random-seed gathering through the engine: N seeds, the summary by hand, resuming."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

from hpsweep.cli.main import main
from hpsweep.results import load_study_data
from hpsweep.trial import TrialState


def _noise(seed: int) -> float:
    return (seed % 97) / 97.0  # as in the SEEDED script


@pytest.fixture(scope="module")
def gathered(seeded_study: Path) -> Path:
    code = main(["seeds", str(seeded_study), "--num-seeds", "4", "--summary-keys", "m,acc",
                 "--precision", "4", "--plain", "-q"])
    assert code == 0
    return seeded_study / "seeds-1"  # trial 1 has x=2, the known best


def test_best_trial_rerun_with_distinct_new_seeds(seeded_study: Path, gathered: Path) -> None:
    data = load_study_data(gathered)
    assert len(data.trials) == 3  # the original run counts as the fourth seed
    assert all(t.state is TrialState.COMPLETED for t in data.trials)
    seeds = [t.config["random_seed"] for t in data.trials]
    assert len(set(seeds)) == 3 and 7 not in seeds  # 7 is the original's literal seed
    for t in data.trials:
        assert t.config["x"] == 2
        assert t.last_metrics["m"] == pytest.approx(_noise(t.config["random_seed"]))
        argv = json.loads(Path(t.trial_dir, "manifest.json").read_text())["argv"]
        seed_tokens = [a for a in argv if "random_seed" in a]
        assert seed_tokens == [f"--random_seed={t.config['random_seed']}"]


def test_summary_matches_a_computation_by_hand(gathered: Path) -> None:
    data = load_study_data(gathered)
    values = [_noise(7)] + [_noise(t.config["random_seed"]) for t in data.trials]
    doc = json.loads((gathered / "seeds_summary.json").read_text())
    assert doc["statistic"] == "sd" and doc["seeds"][0] == 7
    assert doc["keys"]["m"]["n"] == 4
    assert doc["keys"]["m"]["mean"] == round(statistics.mean(values), 4)
    assert doc["keys"]["m"]["spread"] == round(statistics.stdev(values), 4)
    accs = [0.5 + v / 2 for v in values]
    assert doc["keys"]["acc"]["mean"] == round(statistics.mean(accs), 4)
    text = (gathered / "seeds_summary.txt").read_text()
    assert f"m: {statistics.mean(values):.4f} +- {statistics.stdev(values):.4f} (n=4)" in text


def test_running_again_resumes_and_sem(seeded_study: Path, gathered: Path, capsys) -> None:
    code = main(["seeds", str(seeded_study), "--num-seeds", "4", "--summary-keys", "m",
                 "--sem", "--plain", "-q"])
    assert code == 0
    data = load_study_data(gathered)
    assert len(data.trials) == 3  # nothing ran twice
    values = [_noise(7)] + [_noise(t.config["random_seed"]) for t in data.trials]
    sem = statistics.stdev(values) / math.sqrt(len(values))
    doc = json.loads((gathered / "seeds_summary.json").read_text())
    assert doc["statistic"] == "sem"
    assert doc["keys"]["m"]["spread"] == round(sem, 3)
    assert "mean +- SEM" in capsys.readouterr().out


def test_no_count_original_runs_n_new_seeds(seeded_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "gather"
    code = main(["seeds", str(seeded_study), "--num-seeds", "3", "--no-count-original",
                 "--run-dir", str(seeded_study / "trials" / "0000"), "--out", str(out),
                 "--plain", "-q"])
    assert code == 0
    data = load_study_data(out)
    assert len(data.trials) == 3 and {t.config["x"] for t in data.trials} == {1}
    doc = json.loads((out / "seeds_summary.json").read_text())
    values = [t.last_metrics["m"] for t in data.trials]
    assert doc["keys"]["m"]["n"] == 3 and None not in doc["seeds"]
    assert doc["keys"]["m"]["mean"] == round(statistics.mean(values), 3)


def test_explicit_config_and_seed_plot(seeded_study: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cfg"
    assert main(["seeds", str(seeded_study), "--num-seeds", "2", "--config", '{"x": 3.5}',
                 "--out", str(out), "--plain", "-q"]) == 0
    data = load_study_data(out)
    assert [t.config["x"] for t in data.trials] == [3.5, 3.5]
    capsys.readouterr()
    assert main(["plot", str(out), "--kind", "seeds", "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "seeds.png").stat().st_size > 5000
    assert (tmp_path / "p" / "seeds.html").stat().st_size > 5000


@pytest.mark.parametrize(("args", "message"), [
    (["--num-seeds", "1"], "--num-seeds 1"),
    (["--num-seeds", "0"], "--num-seeds must be >= 1"),
    (["--config", "[1, 2]"], "expected a JSON object"),
    (["--config", "{x: 1}"], "not a JSON object"),
    (["--run-dir", "/nonexistent/trial"], "--run-dir /nonexistent/trial"),
    (["--precision", "-1"], "--precision must be >= 0"),
])
def test_bad_input_is_a_usage_error(seeded_study: Path, tmp_path: Path, capsys,
                                    args: list[str], message: str) -> None:
    code = main(["seeds", str(seeded_study), "--out", str(tmp_path / "never"), *args, "-q"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_input_leaves_no_folder(seeded_study: Path, tmp_path: Path) -> None:
    assert main(["seeds", str(seeded_study), "--num-seeds", "1", "--out",
                 str(tmp_path / "none"), "-q"]) == 2
    assert not (tmp_path / "none").exists()


def test_study_with_seed_arg_keeps_the_original_seed(tmp_path: Path) -> None:
    from tests.results.conftest import SEEDED, make_study

    study = make_study(tmp_path, SEEDED, ["--metric", "m", "--mode", "min", "--seed-arg", "random_seed",
                                          "--seed", "2"], ["--x", "[2, 5]"])
    original = load_study_data(study).trial(0)
    assert main(["seeds", str(study), "--num-seeds", "3", "--plain", "-q"]) == 0
    doc = json.loads((study / "seeds-0" / "seeds_summary.json").read_text())
    assert doc["seeds"][0] == original.seed
    new = load_study_data(study / "seeds-0").trials
    assert len(new) == 2 and original.seed not in {t.config["random_seed"] for t in new}
    values = [original.last_metrics["m"]] + [t.last_metrics["m"] for t in new]
    assert doc["keys"]["m"]["mean"] == round(statistics.mean(values), 3)
    for t in new:  # the seed option is passed once, with the gathered seed
        argv = json.loads(Path(t.trial_dir, "manifest.json").read_text())["argv"]
        assert [a for a in argv if "random_seed" in a] == [f"--random_seed={t.config['random_seed']}"]
