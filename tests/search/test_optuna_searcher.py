"""OptunaSearcher: the space mapping, what Optuna is told, warm starts, several objectives,
the factory and the ``auto`` rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState as OptunaState

from hpsweep.errors import UsageError
from hpsweep.search import OptunaSearcher, PointsFirst, make_searcher, pareto_front
from hpsweep.search._samplers import (
    AUTO_GP_BUDGET,
    AUTO_SWITCH_TRIAL,
    auto_plan,
    auto_switch_trial,
    choose_auto,
)
from hpsweep.space import SearchSpace
from hpsweep.trial import ErrorKind, Report, TrialRecord, TrialState


def mixed_space() -> SearchSpace:
    return (SearchSpace()
            .add_float("lr", 1e-5, 1e-1, log=True)
            .add_float("dropout", 0.0, 0.5, step=0.1)
            .add_int("units", 8, 512, log=True)
            .add_int("batch", 16, 64, step=16)
            .add_categorical("arch", [[3, 3], {"kind": "res"}, None, "plain", 1])
            .add_categorical("only", ["x"])
            .add_fixed("seed_offset", 7))


def completed(tid: int, config: dict[str, Any], value: float, metric: str = "loss") -> TrialRecord:
    return TrialRecord(trial_id=tid, config=config, state=TrialState.COMPLETED,
                       last_metrics={metric: value})


def test_parameters_map_to_the_matching_optuna_distributions() -> None:
    searcher = OptunaSearcher(mixed_space(), metric="loss", mode="min", seed=0, sampler="random")
    config = searcher.suggest(0)
    assert config is not None
    dists = searcher.study.trials[0].distributions
    assert dists["lr"] == FloatDistribution(1e-5, 1e-1, log=True)
    assert dists["dropout"] == FloatDistribution(0.0, 0.5, step=0.1)
    assert dists["units"] == IntDistribution(8, 512, log=True)
    assert dists["batch"] == IntDistribution(16, 64, step=16)
    assert isinstance(dists["arch"], CategoricalDistribution)
    assert len(dists["arch"].choices) == 5
    # Constants never reach Optuna but are in every configuration.
    assert "only" not in dists and "seed_offset" not in dists
    assert config["only"] == "x" and config["seed_offset"] == 7


def test_every_suggested_value_is_a_value_of_the_space() -> None:
    space = mixed_space()
    searcher = OptunaSearcher(space, metric="loss", mode="min", seed=1, sampler="tpe")
    arches = []
    for tid in range(30):
        config = searcher.suggest(tid)
        assert config is not None and space.contains(config), config
        assert isinstance(config["units"], int) and isinstance(config["batch"], int)
        assert config["batch"] % 16 == 0
        assert math.isclose(config["dropout"] * 10, round(config["dropout"] * 10), abs_tol=1e-9)
        arches.append(config["arch"])
        searcher.on_trial_complete(completed(tid, config, float(np.log(config["lr"]) ** 2)))
    # JSON values of any kind come back as themselves.
    assert [3, 3] in arches and {"kind": "res"} in arches and None in arches


def test_results_are_told_as_complete_failed_worst_and_pruned() -> None:
    space = SearchSpace().add_float("x", 0.0, 1.0)
    searcher = OptunaSearcher(space, metric="loss", mode="min", seed=2, sampler="tpe")
    configs = [searcher.suggest(t) for t in range(5)]
    assert all(c is not None for c in configs)
    searcher.on_trial_complete(completed(0, configs[0], 0.5))
    searcher.on_trial_complete(completed(1, configs[1], 2.0))
    searcher.on_trial_complete(TrialRecord(trial_id=2, config=configs[2], state=TrialState.FAILED,
                                           error_kind=ErrorKind.CRASH))
    searcher.on_trial_complete(TrialRecord(trial_id=3, config=configs[3], state=TrialState.FAILED,
                                           error_kind=ErrorKind.NAN,
                                           last_metrics={"loss": math.nan}))
    searcher.on_report(4, configs[4], 1, 3.0)
    searcher.on_report(4, configs[4], 2, 2.5)
    searcher.on_trial_complete(TrialRecord(trial_id=4, config=configs[4],
                                           state=TrialState.STOPPED,
                                           last_metrics={"loss": 2.5}))
    trials = searcher.study.trials
    assert [t.state for t in trials] == [OptunaState.COMPLETE, OptunaState.COMPLETE,
                                         OptunaState.FAIL, OptunaState.COMPLETE,
                                         OptunaState.PRUNED]
    assert trials[3].value == 2.0  # NaN is told as the worst value seen so far
    assert trials[4].intermediate_values == {1: 3.0, 2: 2.5}
    assert searcher.study.best_value == 0.5


def test_restore_rebuilds_states_values_reports_and_running_trials() -> None:
    space = SearchSpace().add_float("x", 0.0, 1.0).add_categorical("c", ["a", "b"])
    records = [
        completed(0, {"x": 0.25, "c": "a"}, 1.0),
        TrialRecord(trial_id=1, config={"x": 0.5, "c": "b"}, state=TrialState.STOPPED,
                    reports=[Report(1, 1, {"loss": 4.0}, 0.0), Report(1, 2, {"loss": 3.0}, 1.0)],
                    last_metrics={"loss": 3.0}),
        TrialRecord(trial_id=2, config={"x": 0.75, "c": "a"}, state=TrialState.FAILED),
        TrialRecord(trial_id=3, config={"x": 0.1, "c": "b"}, state=TrialState.PAUSED),
    ]
    searcher = OptunaSearcher(space, metric="loss", mode="max", seed=0, sampler="tpe")
    searcher.restore(records)
    trials = searcher.study.trials
    assert [t.state for t in trials] == [OptunaState.COMPLETE, OptunaState.PRUNED,
                                         OptunaState.FAIL, OptunaState.RUNNING]
    assert trials[0].params == {"x": 0.25, "c": 0}
    assert trials[1].intermediate_values == {1: 4.0, 2: 3.0}
    # The paused trial is still live: finishing it later tells Optuna.
    searcher.on_trial_complete(completed(3, {"x": 0.1, "c": "b"}, 9.0))
    assert searcher.study.trials[3].state == OptunaState.COMPLETE
    assert searcher.study.best_value == 9.0


def test_points_to_evaluate_come_first_and_are_not_repeated_after_restore() -> None:
    space = SearchSpace().add_float("lr", 1e-4, 1.0, log=True).add_categorical("opt", ["sgd", "adam"])
    points = [{"lr": 0.01, "opt": "adam"}, {"lr": 0.5}]
    searcher = make_searcher("tpe", space, metric="loss", mode="min", seed=0,
                             points_to_evaluate=points)
    first, second = searcher.suggest(0), searcher.suggest(1)
    assert first == {"lr": 0.01, "opt": "adam"}
    assert second is not None and second["lr"] == 0.5 and second["opt"] in ("sgd", "adam")
    restored = make_searcher("tpe", space, metric="loss", mode="min", seed=0,
                             points_to_evaluate=points)
    restored.restore([completed(0, first, 1.0)])
    assert restored.suggest(1) == {"lr": 0.5, "opt": second["opt"]}


@pytest.mark.parametrize(("point", "words"), [
    ({"nope": 1}, "'nope' is not a parameter"),
    ({"lr": 5.0}, "outside the space"),
    ({"opt": "rmsprop"}, "outside the space"),
])
def test_bad_points_to_evaluate_are_usage_errors(point: dict[str, Any], words: str) -> None:
    space = SearchSpace().add_float("lr", 1e-4, 1.0, log=True).add_categorical("opt", ["sgd", "adam"])
    with pytest.raises(UsageError, match=words):
        OptunaSearcher(space, metric="loss", mode="min", seed=0, points_to_evaluate=[point])


def test_warm_start_wraps_grid_and_random() -> None:
    space = SearchSpace().add_categorical("a", [1, 2, 3])
    searcher = make_searcher("random", space, metric="m", mode="max", seed=0,
                             points_to_evaluate=[{"a": 2}])
    assert isinstance(searcher, PointsFirst)
    assert searcher.suggest(0) == {"a": 2}
    with pytest.raises(UsageError, match="not a configuration of the space"):
        make_searcher("grid", space, metric="m", mode="max", seed=0,
                      points_to_evaluate=[{"a": 9}])


def test_multi_objective_reads_every_metric_and_finds_the_pareto_front() -> None:
    space = SearchSpace().add_float("x", 0.0, 1.0)
    searcher = make_searcher("tpe", space, metric="err", mode="min", seed=0,
                             metrics=["err", "cost"], modes=["min", "min"])
    assert isinstance(searcher, OptunaSearcher) and searcher.is_multi_objective
    records = []
    for tid in range(25):
        config = searcher.suggest(tid)
        assert config is not None
        x = config["x"]
        record = TrialRecord(trial_id=tid, config=config, state=TrialState.COMPLETED,
                             last_metrics={"err": x**2, "cost": (1 - x) ** 2})
        searcher.on_trial_complete(record)
        records.append(record)
    assert [len(t.values) for t in searcher.study.trials] == [2] * 25
    front = pareto_front(records, ["err", "cost"], ["min", "min"])
    # On this problem every trial is Pareto-optimal (err rises exactly as cost falls).
    assert {r.trial_id for r in front} == {r.trial_id for r in records}
    dominated = TrialRecord(trial_id=99, config={"x": 0.5}, state=TrialState.COMPLETED,
                            last_metrics={"err": 2.0, "cost": 2.0})
    assert dominated not in pareto_front([*records, dominated], ["err", "cost"], ["min", "min"])


def test_pareto_front_respects_modes_and_skips_incomplete_trials() -> None:
    def rec(tid: int, a: float, b: float, state: TrialState = TrialState.COMPLETED) -> TrialRecord:
        return TrialRecord(trial_id=tid, config={}, state=state, last_metrics={"a": a, "b": b})

    trials = [rec(0, 1, 1), rec(1, 2, 2), rec(2, 0, 3), rec(3, 9, 9, TrialState.FAILED),
              rec(4, math.nan, 5)]
    assert [t.trial_id for t in pareto_front(trials, ["a", "b"], ["min", "min"])] == [0, 2]
    assert [t.trial_id for t in pareto_front(trials, ["a", "b"], ["max", "max"])] == [1, 2]
    with pytest.raises(UsageError):
        pareto_front(trials, ["a", "b"], ["min"])


def test_cmaes_refuses_several_objectives() -> None:
    space = SearchSpace().add_float("x", 0.0, 1.0)
    with pytest.raises(UsageError, match="one objective"):
        make_searcher("cmaes", space, metric="a", mode="min", seed=0, metrics=["a", "b"],
                      modes=["min", "min"])


@pytest.mark.parametrize("name", ["bogus", "TPE-X", ""])
def test_unknown_strategies_are_usage_errors(name: str) -> None:
    with pytest.raises(UsageError, match="unknown"):
        make_searcher(name, SearchSpace().add_float("x", 0, 1), metric="m", mode="min", seed=0)


def test_bad_modes_and_metrics_are_usage_errors() -> None:
    space = SearchSpace().add_float("x", 0, 1)
    with pytest.raises(UsageError, match="'min' or 'max'"):
        OptunaSearcher(space, metric="m", mode="down", seed=0)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="one mode per metric"):
        OptunaSearcher(space, metric="a", mode="min", seed=0, metrics=["a", "b"], modes=["min"])


def test_factory_builds_each_strategy_with_its_sampler() -> None:
    space = SearchSpace().add_float("x", 0, 1)
    for name in ("tpe", "gp", "cmaes", "qmc", "auto"):
        searcher = make_searcher(name, space, metric="m", mode="max", seed=3)
        assert isinstance(searcher, OptunaSearcher)
        assert (searcher.sampler_name, searcher.metric, searcher.mode, searcher.seed) == \
            (name, "m", "max", 3)


def test_auto_rule() -> None:
    small: dict[str, Any] = {"continuous": True, "n_dims": 6, "n_objectives": 1}
    assert choose_auto(**small, trial_number=0).sampler in ("gp", "tpe")  # tpe without torch
    assert choose_auto(**small, trial_number=AUTO_SWITCH_TRIAL).sampler == "cmaes"
    assert choose_auto(continuous=False, n_dims=3, n_objectives=1, trial_number=500).sampler == "tpe"
    assert choose_auto(continuous=True, n_dims=50, n_objectives=1, trial_number=5).sampler == "tpe"
    assert choose_auto(continuous=True, n_dims=2, n_objectives=2, trial_number=5).sampler == "tpe"


def test_auto_rule_with_a_large_budget_runs_cmaes_from_the_first_trial() -> None:
    small: dict[str, Any] = {"continuous": True, "n_dims": 6, "n_objectives": 1}
    for trial_number in (0, 1, AUTO_SWITCH_TRIAL, 1000):
        choice = choose_auto(**small, trial_number=trial_number, budget=AUTO_GP_BUDGET + 1)
        assert choice.sampler == "cmaes"
        assert str(AUTO_GP_BUDGET + 1) in choice.reason
    assert auto_switch_trial(AUTO_GP_BUDGET + 1) == 0
    # The budget does not override what only TPE handles.
    others: list[dict[str, Any]] = [{"continuous": False, "n_dims": 3, "n_objectives": 1},
                                     {"continuous": True, "n_dims": 50, "n_objectives": 1},
                                     {"continuous": True, "n_dims": 2, "n_objectives": 2}]
    for other in others:
        assert choose_auto(**other, trial_number=0, budget=1000).sampler == "tpe"


def test_auto_rule_with_a_small_budget_keeps_gp_for_the_whole_budget() -> None:
    small: dict[str, Any] = {"continuous": True, "n_dims": 6, "n_objectives": 1}
    budget = AUTO_GP_BUDGET
    assert auto_switch_trial(budget) == budget and auto_switch_trial(20) == 20
    # Past the unknown-budget switch point, still inside the budget: GP (TPE without torch).
    assert choose_auto(**small, trial_number=AUTO_SWITCH_TRIAL, budget=budget).sampler in (
        "gp", "tpe")
    assert choose_auto(**small, trial_number=budget - 1, budget=budget).sampler in ("gp", "tpe")
    # A study extended past its budget hands over to CMA-ES.
    assert choose_auto(**small, trial_number=budget, budget=budget).sampler == "cmaes"
    assert choose_auto(**small, trial_number=20, budget=20).sampler == "cmaes"
    # Unknown budget: the fixed switch point.
    assert auto_switch_trial(None) == AUTO_SWITCH_TRIAL


def test_auto_without_torch_falls_back_to_tpe_only_for_the_gp_phase(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hpsweep.search._samplers.torch_available", lambda: False)
    small: dict[str, Any] = {"continuous": True, "n_dims": 3, "n_objectives": 1}
    assert choose_auto(**small, trial_number=0, budget=100).sampler == "tpe"
    assert choose_auto(**small, trial_number=0).sampler == "tpe"
    assert choose_auto(**small, trial_number=0, budget=1000).sampler == "cmaes"


def test_factory_passes_the_budget_to_auto() -> None:
    space = SearchSpace().add_float("x", -5.0, 5.0).add_float("y", -5.0, 5.0)
    searcher = make_searcher("auto", space, metric="f", mode="min", seed=0, budget=500)
    assert isinstance(searcher, OptunaSearcher) and searcher.budget == 500
    choices = []
    for tid in range(12):
        config = searcher.suggest(tid)
        assert config is not None
        choices.append(searcher.last_choice)
        value = (config["x"] - 1) ** 2 + (config["y"] + 2) ** 2
        searcher.on_trial_complete(completed(tid, config, value, metric="f"))
    assert choices == ["cmaes"] * 12
    unknown = make_searcher("auto", space, metric="f", mode="min", seed=0)
    assert isinstance(unknown, OptunaSearcher) and unknown.budget is None
    # Other strategies accept a budget and ignore it.
    assert make_searcher("random", space, metric="f", mode="min", seed=0, budget=5).suggest(0)


def test_auto_with_a_large_budget_matches_cmaes_and_restores_identically() -> None:
    space = SearchSpace().add_float("x", -5.0, 5.0).add_float("y", -5.0, 5.0)

    def run(searcher: OptunaSearcher, n: int, start: int = 0) -> list[dict[str, Any]]:
        configs = []
        for tid in range(start, start + n):
            config = searcher.suggest(tid)
            assert config is not None
            configs.append(config)
            searcher.on_trial_complete(completed(tid, config, config["x"] ** 2 + config["y"] ** 2,
                                                 metric="f"))
        return configs

    auto = OptunaSearcher(space, metric="f", mode="min", seed=4, sampler="auto", budget=200)
    plain = OptunaSearcher(space, metric="f", mode="min", seed=4, sampler="cmaes")
    first = run(auto, 15)
    assert first == run(plain, 15)
    again = OptunaSearcher(space, metric="f", mode="min", seed=4, sampler="auto", budget=200)
    again.restore([completed(i, c, c["x"] ** 2 + c["y"] ** 2, metric="f")
                   for i, c in enumerate(first[:10])])
    assert run(again, 5, start=10) == first[10:]


@pytest.mark.parametrize("budget", [0, -3, 2.5, True, "100"])
def test_a_bad_budget_is_a_usage_error(budget: Any) -> None:
    space = SearchSpace().add_float("x", 0, 1)
    with pytest.raises(UsageError, match="budget"):
        make_searcher("auto", space, metric="m", mode="min", seed=0, budget=budget)
    with pytest.raises(UsageError, match="budget"):
        make_searcher("random", space, metric="m", mode="min", seed=0, budget=budget)
    with pytest.raises(UsageError, match="budget"):
        OptunaSearcher(space, metric="m", mode="min", seed=0, sampler="auto", budget=budget)


@pytest.mark.slow
@pytest.mark.parametrize("budget", [None, 11])
def test_auto_hands_over_to_a_warm_started_cmaes(
        monkeypatch: pytest.MonkeyPatch, budget: int | None) -> None:
    pytest.importorskip("torch")
    if budget is None:
        monkeypatch.setattr("hpsweep.search._samplers.AUTO_SWITCH_TRIAL", 11)
    space = SearchSpace().add_float("x", -5.0, 5.0).add_float("y", -5.0, 5.0)
    searcher = OptunaSearcher(space, metric="f", mode="min", seed=0, sampler="auto",
                              budget=budget)
    choices = []
    for tid in range(14):
        config = searcher.suggest(tid)
        assert config is not None
        choices.append(searcher.last_choice)
        value = (config["x"] - 1) ** 2 + (config["y"] + 2) ** 2
        searcher.on_trial_complete(completed(tid, config, value, metric="f"))
    assert choices[:11] == ["gp"] * 11 and choices[11:] == ["cmaes"] * 3
    assert isinstance(searcher.study.sampler, optuna.samplers.BaseSampler)
    # The CMA-ES phase starts from the GP trials (a warm start), not from the box's centre.
    source = searcher._warm_start_source()
    assert source is not None and len(source() or []) == 11


def test_a_stopped_trial_brings_its_reports_when_the_scheduler_passed_none_on() -> None:
    searcher = OptunaSearcher(SearchSpace().add_float("x", 0.0, 1.0), metric="loss", mode="min",
                              seed=0, sampler="tpe")
    config = searcher.suggest(0)
    assert config is not None
    searcher.on_report(0, config, 1, 5.0)  # only the first report was passed on
    reports = [Report(0, step, {"loss": 6.0 - step}, float(step)) for step in (1, 2, 3)]
    searcher.on_trial_complete(TrialRecord(trial_id=0, config=config, state=TrialState.STOPPED,
                                           reports=reports, last_metrics={"loss": 3.0}))
    trial = searcher.study.trials[0]
    assert trial.state == OptunaState.PRUNED
    assert trial.intermediate_values == {1: 5.0, 2: 4.0, 3: 3.0}


def test_grid_and_random_accept_several_metrics() -> None:
    space = SearchSpace().add_categorical("a", [1, 2])
    searcher = make_searcher("grid", space, metric="m", mode="min", seed=0, metrics=["m", "n"],
                             modes=["min", "max"])
    assert searcher.metric == "m" and searcher.suggest(0) in ({"a": 1}, {"a": 2})


@pytest.mark.slow
def test_auto_restored_in_its_warm_started_cmaes_phase_continues_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-over's warm start is rebuilt from the restored GP trials: a searcher restored
    after several CMA-ES generations continues with the same suggestions."""
    pytest.importorskip("torch")
    monkeypatch.setattr("hpsweep.search._samplers.AUTO_SWITCH_TRIAL", 11)
    space = SearchSpace().add_float("x", -5.0, 5.0).add_float("y", -5.0, 5.0)

    def fresh() -> OptunaSearcher:
        return OptunaSearcher(space, metric="f", mode="min", seed=0, sampler="auto")

    def drive(searcher: OptunaSearcher, ids: range,
              records: list[TrialRecord]) -> list[dict[str, Any]]:
        out = []
        for tid in ids:
            config = searcher.suggest(tid)
            assert config is not None
            out.append(config)
            value = (config["x"] - 1) ** 2 + (config["y"] + 2) ** 2
            record = completed(tid, config, value, metric="f")
            record.created, record.finished = 10.0 + 2 * tid, 11.0 + 2 * tid
            records.append(record)
            searcher.on_trial_complete(record)
        return out

    records: list[TrialRecord] = []
    whole = drive(fresh(), range(32), records)
    restored = fresh()
    restored.restore(records[:27])  # 16 CMA-ES trials in: generations of 6
    assert drive(restored, range(27, 32), []) == whole[27:]


@pytest.mark.parametrize(("space", "budget", "phases"), [
    # (continuous, numeric parameters, objectives), budget -> (first trial, sampler) phases
    ((True, 2, 1), 100, ((0, "gp"), (100, "cmaes"))),
    ((True, 20, 1), 150, ((0, "gp"), (150, "cmaes"))),
    ((True, 2, 1), 151, ((0, "cmaes"),)),
    ((True, 20, 1), 300, ((0, "cmaes"),)),
    ((True, 6, 1), None, ((0, "gp"), (AUTO_SWITCH_TRIAL, "cmaes"))),
    ((True, 21, 1), 100, ((0, "tpe"),)),
    ((True, 21, 1), 1000, ((0, "tpe"),)),
    ((False, 7, 1), 100, ((0, "tpe"),)),
    ((False, 7, 1), 300, ((0, "tpe"),)),
    ((True, 3, 2), 100, ((0, "tpe"),)),
])
def test_auto_plan_decides_by_types_dimension_and_budget(
        space: tuple[bool, int, int], budget: int | None,
        phases: tuple[tuple[int, str], ...]) -> None:
    pytest.importorskip("torch")
    continuous, n_dims, n_objectives = space
    plan = auto_plan(continuous=continuous, n_dims=n_dims, n_objectives=n_objectives,
                     budget=budget)
    assert plan.phases == phases
    for first, sampler in phases:  # choose_auto, trial by trial, follows the plan
        for trial in (first, first + 1):
            assert choose_auto(continuous=continuous, n_dims=n_dims, n_objectives=n_objectives,
                               trial_number=trial, budget=budget).sampler == sampler


def test_auto_uses_one_sampler_for_each_budget_of_the_benchmark_suite() -> None:
    """``benchmarks/blackbox.py --suite --auto-by-rule`` reads a candidate's runs as ``auto``'s
    where ``auto`` reduces to that candidate; on the suite it always does, at 100 and 300."""
    pytest.importorskip("torch")
    from hpsweep.bench.functions import black_box_suite
    from hpsweep.search._optuna_space import SpaceMapping

    for fn in black_box_suite().values():
        space = SearchSpace()
        for param in fn.params:
            space.add(param)
        mapping = SpaceMapping(space)
        for budget, numeric in ((100, "gp"), (300, "cmaes")):
            plan = auto_plan(continuous=mapping.is_continuous,
                             n_dims=len(mapping.numeric_names), n_objectives=1, budget=budget)
            want = "tpe" if fn.name == "mixed7" else numeric
            assert plan.sampler_at(0) == plan.sampler_at(budget - 1) == want, fn.name


def test_auto_with_a_small_budget_makes_the_suggestions_of_gp() -> None:
    pytest.importorskip("torch")
    space = SearchSpace().add_float("x", -5.0, 5.0).add_float("y", -5.0, 5.0)

    def run(searcher: OptunaSearcher) -> list[dict[str, Any]]:
        configs = []
        for tid in range(12):
            config = searcher.suggest(tid)
            assert config is not None
            configs.append(config)
            searcher.on_trial_complete(completed(tid, config, (config["x"] - 1) ** 2
                                                 + abs(config["y"]), metric="f"))
        return configs

    auto = OptunaSearcher(space, metric="f", mode="min", seed=2, sampler="auto", budget=100)
    assert run(auto) == run(OptunaSearcher(space, metric="f", mode="min", seed=2, sampler="gp"))
    assert auto.last_choice == "gp"


def test_a_restored_trial_copies_as_optuna_copies_it() -> None:
    """The trials a restore writes are copied by Optuna's in-memory storage on every read: the
    fast copy equals a plain deep copy and shares no container with the original."""
    import copy

    space = SearchSpace().add_float("x", 0.0, 1.0).add_categorical("c", ["a", "b"])
    records = [TrialRecord(trial_id=i, config={"x": i / 10, "c": "ab"[i % 2]},
                           state=TrialState.COMPLETED, created=1.0 + i, finished=1.5 + i,
                           last_metrics={"loss": float(i)},
                           reports=[Report(i, 1, {"loss": float(i) + 1}, 1.2 + i)])
               for i in range(3)]
    searcher = make_searcher("tpe", space, metric="loss", mode="min", seed=0)
    searcher.restore(records)
    stored = searcher.study.get_trials(deepcopy=False)
    assert len(stored) == 3
    for trial in stored:
        fast = copy.deepcopy(trial)
        plain = copy.deepcopy(optuna.trial.FrozenTrial(**{
            k: getattr(trial, k) for k in ("number", "state", "params", "distributions",
                                           "user_attrs", "system_attrs", "intermediate_values",
                                           "datetime_start", "datetime_complete")},
            trial_id=trial._trial_id, value=None, values=trial.values))
        assert fast == plain == trial and type(fast) is type(trial)
        fast.params["x"] = 99.0
        fast.intermediate_values[1] = -1.0
        fast.system_attrs["k"] = 1
        assert trial.params["x"] != 99.0 and trial.intermediate_values[1] != -1.0
        assert "k" not in trial.system_attrs
