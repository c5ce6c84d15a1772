from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hpsweep.errors import SpaceError
from hpsweep.space import ArgStyle, Sweep, TrialContext, sweep_from_grid_module

FIXTURES = Path(__file__).parent / "fixtures"
CTX = TrialContext(trial_id=0, trial_dir="/d", worker_id=0, seed=1, resource=None)


def commands(sweep: Sweep) -> list[str]:
    return [" ".join(sweep.render(c, CTX).argv) for c in sweep.space.grid()]


def test_the_template_docstring_gives_its_four_commands() -> None:
    sweep = sweep_from_grid_module(["python3", "SCRIPT_NAME.py"],
                                   str(FIXTURES / "hpsearch_template.py"))
    assert sorted(commands(sweep)) == sorted([
        "python3 SCRIPT_NAME.py --option1=10 --option2=0.1",
        "python3 SCRIPT_NAME.py --option1=10 --option2=0.5",
        "python3 SCRIPT_NAME.py --option1=10 --option2=0.1 --option3",
        "python3 SCRIPT_NAME.py --option1=10 --option2=0.5 --option3",
    ])
    # hypnettorch's own order: the last option changes fastest
    assert commands(sweep)[:2] == ["python3 SCRIPT_NAME.py --option1=10 --option2=0.1",
                                   "python3 SCRIPT_NAME.py --option1=10 --option2=0.1 --option3"]


def test_script_name_from_the_module_when_no_command_is_given() -> None:
    sweep = sweep_from_grid_module([], str(FIXTURES / "hpsearch_template.py"))
    assert commands(sweep)[0].startswith("python3 SCRIPT_NAME.py --option1=10")


def test_conditions_and_quoted_strings() -> None:
    sweep = sweep_from_grid_module(["python3", "t.py"], str(FIXTURES / "hpsearch_conditions.py"))
    grid = list(sweep.space.grid())
    sgd = [c for c in grid if c["optimizer"] == "sgd"]
    adam = [c for c in grid if c["optimizer"] == "adam"]
    assert len(sgd) == 4 and {c["beta2"] for c in sgd} == {0.0}
    assert len(adam) == 8 and {c["beta2"] for c in adam} == {0.99, 0.999}
    argv = sweep.render(grid[0], CTX).argv
    assert argv == ["python3", "t.py", "--optimizer=sgd", "--beta2=0.0", "--lr=0.1",
                    "--string_option=example string"]
    assert Sweep.from_dict(sweep.to_dict()) == sweep


def test_a_module_name_on_the_path_loads_without_staying_in_sys_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_hpsearch_config.py").write_text("grid = {'lr': [0.1, 0.2]}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    sweep = sweep_from_grid_module(["t.py"], "my_hpsearch_config", style=ArgStyle.space())
    assert "my_hpsearch_config" not in sys.modules
    assert set(sys.modules) - before <= {m for m in sys.modules if m.startswith("hpsweep")}
    assert commands(sweep) == ["t.py --lr 0.1", "t.py --lr 0.2"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x = 1\n", "defines no `grid`"),
        ("grid = {}\n", "non-empty dict"),
        ("grid = {'a': 1}\n", "'a' needs a non-empty list"),
        ("grid = {'a': []}\n", "'a' needs a non-empty list"),
        ("grid = {'a': [1]}\nconditions = [({'b': [1]}, {'a': [2]})]\n", "unknown parameter 'b'"),
        ("grid = {'a': [1]}\nconditions = [({'a': [1]},)]\n", "expected a pair"),
        ("grid = {'a': [1]}\nconditions = {'a': 1}\n", "list of (when, then)"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
        ("grid = {'a': [1]\n", "SyntaxError"),
    ],
)
def test_bad_modules(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "cfg.py"
    path.write_text(text)
    with pytest.raises(SpaceError) as info:
        sweep_from_grid_module(["t.py"], str(path))
    assert fragment in str(info.value)


def test_missing_modules() -> None:
    with pytest.raises(SpaceError, match="no such file"):
        sweep_from_grid_module(["t.py"], "/nowhere/cfg.py")
    with pytest.raises(SpaceError, match="cannot be found"):
        sweep_from_grid_module(["t.py"], "surely_not_a_module_xyz")
