"""Pure pieces: criteria, sorting, seed choice and the seed sweep, the summary arithmetic."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from hpsweep.errors import UsageError
from hpsweep.results import choose_seeds, parse_criteria, seed_sweep, seeds_summary, sort_trials
from hpsweep.results._seeds import find_seed_in_command
from hpsweep.space import ArgSlot, ArgStyle, TrialContext, parse_inline
from hpsweep.trial import TrialRecord, TrialState


def _t(tid: int, **metrics: object) -> TrialRecord:
    return TrialRecord(tid, {}, TrialState.COMPLETED, last_metrics=dict(metrics))


@pytest.mark.parametrize(("text", "expected"), [
    ("val_acc>=0.9", [("val_acc", ">=", 0.9)]),
    ("loss < 1e-2, acc != 0", [("loss", "<", 0.01), ("acc", "!=", 0.0)]),
    ("a>1 and b<=-2.5", [("a", ">", 1.0), ("b", "<=", -2.5)]),
    ("x == .5", [("x", "==", 0.5)]),
])
def test_criteria_parse(text: str, expected: list[tuple[str, str, float]]) -> None:
    assert [(c.metric, c.op, c.value) for c in parse_criteria(text)] == expected


@pytest.mark.parametrize("text", ["", "acc >= high", "__import__('os') > 1", "acc => 1", "1 < a"])
def test_criteria_reject_anything_else(text: str) -> None:
    with pytest.raises(UsageError, match="performance-criteria"):
        parse_criteria(text)


def test_criterion_fails_without_a_value() -> None:
    (crit,) = parse_criteria("acc>0.5")
    assert crit.holds(_t(0, acc=0.6)) and not crit.holds(_t(1, acc=0.4))
    assert not crit.holds(_t(2)) and not crit.holds(_t(3, acc=float("nan")))


def test_sort_puts_missing_and_nan_last() -> None:
    trials = [_t(0, m=2.0), _t(1), _t(2, m=float("nan")), _t(3, m=1.0), _t(4, m=2.0)]
    assert [t.trial_id for t in sort_trials(trials, "m", "min")] == [3, 0, 4, 1, 2]
    assert [t.trial_id for t in sort_trials(trials, "m", "max")] == [0, 4, 3, 1, 2]


def test_choose_seeds_distinct_reproducible_and_excluding() -> None:
    first = choose_seeds(50, rng_seed=4, exclude=[1])
    assert first == choose_seeds(50, rng_seed=4, exclude=[1])
    assert len(set(first)) == 50 and 1 not in first
    assert all(0 <= s < 2**31 - 1 for s in first)
    banned = choose_seeds(3, rng_seed=9)
    assert not set(choose_seeds(3, rng_seed=9, exclude=banned)) & set(banned)


@pytest.mark.parametrize(("command", "seed"), [
    (["python", "t.py", "--random_seed", "7"], 7),
    (["python", "t.py", "--random_seed=12"], 12),
    (["python", "t.py", "--lr", "0.1"], None),
    (["python", "t.py", "--random_seed", "abc"], None),
])
def test_find_seed_in_command(command: list[str], seed: int | None) -> None:
    assert find_seed_in_command(command, "random_seed") == seed


def _ctx() -> TrialContext:
    return TrialContext(trial_id=0, trial_dir="/t", worker_id=0, seed=None, resource=None)


def test_seed_sweep_fixes_the_config_and_replaces_the_seed_option() -> None:
    sweep = parse_inline(["python", "t.py", "--lr", "[0.1, 0.01]", "--random_seed", "3",
                          "--depth=[2, 4]"], seed=0)
    new = seed_sweep(sweep, {"lr": 0.01, "depth": 4}, seed_arg="random_seed", seeds=[5, 6])
    assert new.space.params["random_seed"].values() == [5, 6]
    argv = new.render({"lr": 0.01, "depth": 4, "random_seed": 6}, _ctx()).argv
    assert argv == ["python", "t.py", "--lr", "0.01", "--depth=4", "--random_seed=6"]
    assert new.space.is_finite and len(list(new.space.names)) == 3


def test_seed_sweep_follows_the_argument_style() -> None:
    sweep = parse_inline(["python", "t.py", "--lr", "[0.1, 0.01]"], seed=0)
    import dataclasses

    spaced = dataclasses.replace(sweep, style=ArgStyle.space())
    new = seed_sweep(spaced, {"lr": 0.1}, seed_arg="seed", seeds=[1])
    assert new.command[-2:] == ("--seed", ArgSlot("seed"))
    hydra = seed_sweep(dataclasses.replace(sweep, style=ArgStyle.hydra()), {"lr": 0.1},
                       seed_arg="seed", seeds=[1])
    assert hydra.render({"lr": 0.1, "seed": 1}, _ctx()).argv[-1] == "seed=1"
    with pytest.raises(UsageError):
        seed_sweep(sweep, {"lr": 0.1}, seed_arg="seed", seeds=[])


def test_summary_arithmetic_sd_and_sem() -> None:
    rng = np.random.default_rng(0)
    values = [float(v) for v in rng.normal(size=6)]
    runs = [(i, _t(i, m=v, other=1.0)) for i, v in enumerate(values)]
    runs.append((99, TrialRecord(99, {}, TrialState.FAILED, last_metrics={"m": 100.0})))
    sd = seeds_summary(runs, ["m", "missing"], precision=5)
    (key,) = sd.keys
    assert key.n == 6 and key.mean == pytest.approx(statistics.mean(values))
    assert key.spread == pytest.approx(statistics.stdev(values))
    assert 99 not in sd.seeds
    sem = seeds_summary(runs, ["m"], sem=True)
    assert sem.keys[0].spread == pytest.approx(statistics.stdev(values) / math.sqrt(6))
    single = seeds_summary(runs[:1], ["m"])
    assert single.keys[0].spread == 0.0


def test_seed_sweep_checks_the_configuration() -> None:
    sweep = parse_inline(["python", "t.py", "--lr", "[0.1, 0.01]", "--depth", "[2, 4]"], seed=0)
    with pytest.raises(UsageError, match=r"\['momentum'\] are not options"):
        seed_sweep(sweep, {"lr": 0.1, "depth": 2, "momentum": 0.9}, seed_arg="s", seeds=[1])
    with pytest.raises(UsageError, match=r"no value for \['depth'\]"):
        seed_sweep(sweep, {"lr": 0.1}, seed_arg="s", seeds=[1])


def test_seed_sweep_of_an_appending_sweep_passes_the_seed_once() -> None:
    from hpsweep.space import SearchSpace, Sweep

    space = SearchSpace().add_categorical("lr", [0.1, 0.01])
    sweep = Sweep(space=space, command=("python", "t.py"), append=True)
    new = seed_sweep(sweep, {"lr": 0.01}, seed_arg="random_seed", seeds=[3, 4])
    argv = new.render({"lr": 0.01, "random_seed": 4}, _ctx()).argv
    assert argv == ["python", "t.py", "--lr=0.01", "--random_seed=4"]


def test_curves_are_thinned_to_first_last_best_and_evenly_spaced(tmp_path: Path) -> None:
    from hpsweep.results import StudyData
    from hpsweep.results._series import CURVE_MAX, curve_limit, curves
    from hpsweep.trial import Report, TrialRecord, TrialState

    long = [Report(0, s, {"loss": 0.05 if s == 1234 else 1.0 + 1.0 / s}, float(s), s - 1)
            for s in range(1, 3001)]
    short = [Report(1, s, {"loss": 2.0 - s / 10}, float(s), s - 1) for s in range(1, 4)]
    trials = (TrialRecord(0, {"x": 1}, TrialState.COMPLETED, reports=long),
              TrialRecord(1, {"x": 2}, TrialState.STOPPED, reports=short))
    data = StudyData(root=tmp_path, name="t", metrics=("loss",), modes=("min",), trials=trials,
                     events=(), sweep={}, live=False)
    first, second = curves(data)
    assert first.n_points == 3000 and len(first.steps) == CURVE_MAX
    assert {1.0, 1234.0, 3000.0} <= set(first.steps) and list(first.steps) == sorted(first.steps)
    assert second.steps == (1.0, 2.0, 3.0) and second.values == (1.9, 1.8, 1.7)
    assert curve_limit(10_000) == 10 and curve_limit(1) == CURVE_MAX and curve_limit(10**7) == 3
    (tight,) = curves(data, total=50)[:1]
    assert len(tight.steps) == 25 and 1234.0 in tight.steps
