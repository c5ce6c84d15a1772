"""Input that used to crash or hang: each is a clear error naming the limit, or finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpsweep.errors import SpaceError
from hpsweep.space import parse_inline
from hpsweep.space._conditions import unique_values
from hpsweep.space._yaml import MAX_DEPTH, MAX_NODES, load_yaml_mapping
from tests.conftest import run_cli

BOUND = 60  # seconds: only a hang reaches it (the quadratic versions took 100 s and more)


@pytest.mark.parametrize("text", [
    "range(0, 10000000000000000000000000000)",
    "range(-9223372036854775809, 9223372036854775808)",
    "randint(0, 100000000000000000000000)",
    "range(10000000000000000000000, 0, -1)",
])
def test_integers_beyond_int64_are_refused_with_the_parameter_name(text: str) -> None:
    with pytest.raises(SpaceError, match=r"parameter 'x'.*64-bit integer range"):
        parse_inline(["python", "t.py", "--x", text], seed=0)


@pytest.mark.parametrize("text", ["[[f()]]", "[1, [2, [g(3)]]]"])
def test_a_call_inside_a_nested_list_is_an_error(text: str) -> None:
    with pytest.raises(SpaceError, match="call"):
        parse_inline(["python", "t.py", "--x", text], seed=0)


def test_a_negative_seed_is_an_error() -> None:
    with pytest.raises(SpaceError, match="seed -1"):
        parse_inline(["python", "t.py", "--x", "uniform(0, 1, 3)"], seed=-1)


def test_duplicate_removal_is_linear_and_keeps_the_rules() -> None:
    values = [*range(200_000), True, 1.0, "1", [1, 2], [1, 2], None, None, False, 0]
    out = unique_values(values)
    assert len(out) == 200_000 + 5  # True, "1", [1, 2], None, False
    assert out[200_000:] == [True, "1", [1, 2], None, False]


def test_long_lists_finish(tmp_path: Path) -> None:
    items = "[" + ", ".join(str(i) for i in range(16_000)) + "]"
    assert parse_inline(["python", "t.py", "--x", items], seed=0).space.grid().size == 16_000
    tune = tmp_path / "tune.yaml"
    tune.write_text("a:\n  b: [" + ", ".join(str(i) for i in range(20_000)) + "]\n")
    base = tmp_path / "base.yaml"
    base.write_text("a:\n  b: 1\n")
    grid = tmp_path / "grid.py"
    grid.write_text("grid = {'x': list(range(100000))}\n")
    for args in (["--config", str(base), "--tune", str(tune)], ["--grid-module", str(grid)]):
        done = run_cli("generate", "--limit", "1", *args, "--", "python", "t.py", cwd=tmp_path,
                       timeout=BOUND)
        assert done.returncode == 0, done.stderr


def test_deep_yaml_is_refused_by_name(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a:\n  b: " + "[" * 10_000 + "]" * 10_000 + "\n")
    with pytest.raises(SpaceError, match=f"deeper than {MAX_DEPTH} levels"):
        load_yaml_mapping(str(deep), "tuning config")


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpaceError, match=f"more than {MAX_NODES} values once its aliases"):
        load_yaml_mapping(str(bomb), "base config")
    # Ordinary anchors still work.
    ok = tmp_path / "ok.yaml"
    ok.write_text("d: &d {lr: 1}\nx: *d\ny: {<<: *d, wd: 2}\n")
    assert load_yaml_mapping(str(ok), "base config")["y"] == {"lr": 1, "wd": 2}


@pytest.mark.parametrize(("source", "words"), [
    ("import sys\nsys.exit(0)\n", "called sys.exit(0)"),
    ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ("def f():\n    return f()\nf()\n", "recursed"),
])
def test_a_grid_module_that_exits_or_raises_is_reported(tmp_path: Path, source: str,
                                                        words: str) -> None:
    module = tmp_path / "cfg.py"
    module.write_text(source)
    done = run_cli("generate", "--grid-module", str(module), "--", "python", "t.py", cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [
    ["--seed", "-1", "--", "python", "t.py", "--x", "[1, 2]"],
    ["--", "python", "t.py", "--x", "[[f()]]"],
    ["--out", "/dev/null/x", "--", "python", "t.py", "--x", "[1]"],
    ["--out", "/proc/x", "--", "python", "t.py", "--x", "[1]"],
])
def test_run_refuses_bad_input_with_exit_2(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "t.py").write_text("print('ran')\n")
    done = run_cli("run", "--plain", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "error:" in done.stderr
    assert not any(p.name == "runs" and any(p.iterdir()) for p in tmp_path.iterdir()
                   if p.is_dir() and args[0] != "--out")
