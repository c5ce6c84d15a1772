from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from hpsweep.errors import SpaceError
from hpsweep.space import Sweep, TrialContext, sweep_from_yaml

FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "base_example.yaml"
TUNE = FIXTURES / "tune_example.yaml"


def ctx(i: int) -> TrialContext:
    return TrialContext(trial_id=i, trial_dir=f"/study/trials/{i:04d}", worker_id=0, seed=i,
                        resource=None)


def test_the_seed_example_gives_its_distinct_permutations() -> None:
    sweep = sweep_from_yaml(["python", "train.py", "--run-id=x"], BASE, TUNE)
    tune = yaml.safe_load(TUNE.read_text())
    lists = [v for section in tune.values() for v in section.values()]
    assert len(list(itertools.product(*lists))) == 48  # the seed's 2*2*2*2*3*1
    distinct = {tuple(c) for c in itertools.product(*lists)}
    grid = sweep.space.grid()
    assert len(grid) == len(distinct) == 32  # 0.001 is listed twice under beta_schedule.initial
    assert {tuple(c.values()) for c in grid} == distinct
    assert sweep.space.names == [
        "hyperparameters.worker_steps", "hyperparameters.num_workers",
        "learning_rate_schedule.initial", "learning_rate_schedule.final",
        "beta_schedule.initial", "beta_schedule.final"]


def test_each_trial_gets_the_base_with_its_overrides() -> None:
    sweep = sweep_from_yaml(["python", "train.py"], BASE, TUNE)
    base = yaml.safe_load(BASE.read_text())
    config = sweep.space.grid()[5]
    rendered = sweep.render(config, ctx(5))
    assert rendered.argv == ["python", "train.py", "--config", "/study/trials/0005/config.yaml"]
    written = yaml.safe_load(rendered.files["config.yaml"])
    for dotted, value in config.items():
        section, key = dotted.split(".")
        assert written[section][key] == value
    # everything else is the base, untouched, and placeholders in strings are filled
    assert written["environment"] == base["environment"]
    assert written["hyperparameters"]["n_mini_batch"] == 4
    assert written["learning_rate_schedule"]["power"] == 1.0
    assert written["run_id"] == "5"
    assert written["out_dir"] == "/study/trials/0005/out"


def test_config_arg_forms_and_repetitions() -> None:
    joined = sweep_from_yaml(["t.py"], BASE, TUNE, config_arg="--config=", repetitions=3)
    assert joined.repetitions == 3
    assert joined.render(joined.space.grid()[0], ctx(1)).argv == [
        "t.py", "--config=/study/trials/0001/config.yaml"]
    positional = sweep_from_yaml(["t.py"], BASE, TUNE, config_arg="")
    assert positional.render(positional.space.grid()[0], ctx(1)).argv[-1].endswith("config.yaml")


def test_the_base_is_frozen_into_the_sweep(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("a: {b: 1, c: 2}\n")
    sweep = sweep_from_yaml(["t.py"], base, {"a": {"b": [1, 2]}})
    base.write_text("changed: true\n")
    again = Sweep.from_dict(sweep.to_dict())
    assert again == sweep
    assert yaml.safe_load(again.render({"a.b": 2}, ctx(0)).files["config.yaml"]) == {
        "a": {"b": 2, "c": 2}}


@pytest.mark.parametrize(
    ("base", "tune", "fragments"),
    [
        ({"a": {"b": 1}}, {"a": {"x": [1]}}, ["'a.x'", "not in the base config"]),
        ({"a": 1}, {"a": {"b": [1]}}, ["'a.b'", "not in the base config"]),
        ({"a": {"b": 1}}, {"a": {"b": []}}, ["'a.b'", "empty list"]),
        ({"a": {"b": 1}}, {}, ["no parameters"]),
        ({"a": {"b": 1}}, {"a": {}}, ["'a'", "empty"]),
    ],
)
def test_bad_tuning_configs(base: dict, tune: dict, fragments: list[str]) -> None:
    with pytest.raises(SpaceError) as info:
        sweep_from_yaml(["t.py"], base, tune)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("- 1\n- 2\n", "must hold a mapping"), ("a: [1, 2\n", "not valid YAML"),
     ("just text", "must hold a mapping")],
)
def test_yaml_that_is_not_a_mapping(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "tune.yaml"
    path.write_text(text)
    with pytest.raises(SpaceError, match=fragment):
        sweep_from_yaml(["t.py"], BASE, path)


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match=r"nope\.yaml"):
        sweep_from_yaml(["t.py"], tmp_path / "nope.yaml", TUNE)
