from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path

import pytest
import yaml

from hpsweep.cli import generate
from hpsweep.errors import HpsweepError, SpaceError, UsageError

FIXTURES = Path(__file__).parent / "fixtures"


def parse(*options: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    generate.add_arguments(parser)
    return parser.parse_args(list(options))


def lines(capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err


def test_inline_example_prints_eight_argv_lines(capsys: pytest.CaptureFixture[str]) -> None:
    command = ["python", "train.py", "--lr", "[0.1, 0.01]", "--bs", "range(16, 65, 16)"]
    assert generate.run(parse(), command) == 0
    out, err = lines(capsys)
    assert len(out) == 8
    argvs = [shlex.split(line) for line in out]
    assert {(a[3], a[5]) for a in argvs} == {(lr, bs) for lr in ("0.1", "0.01")
                                             for bs in ("16", "32", "48", "64")}
    assert "8 configurations" in err


def test_command_can_come_from_args_command(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("--strategy", "none")
    args.command = ["python", "main.py", "--alpha", "uniform(1e-5, 1e-1, 3)"]
    assert generate.run(args) == 0
    out, _ = lines(capsys)
    assert out == ["python main.py --alpha 'uniform(1e-5, 1e-1, 3)'"]


def test_values_with_spaces_are_shell_quoted_for_display(
        capsys: pytest.CaptureFixture[str]) -> None:
    generate.run(parse(), ["t.py", "--name", "['a b', 'it\\'s']"])
    out, _ = lines(capsys)
    assert [shlex.split(line) for line in out] == [["t.py", "--name", "a b"],
                                                   ["t.py", "--name", "it's"]]


def test_a_huge_grid_is_counted_and_listed_up_to_the_limit(
        capsys: pytest.CaptureFixture[str]) -> None:
    command = ["t.py", *[tok for i in range(9) for tok in (f"--p{i}", "range(10)")]]
    start = time.perf_counter()
    assert generate.run(parse("--limit", "5"), command) == 0
    assert time.perf_counter() - start < 2.0
    out, err = lines(capsys)
    assert len(out) == 5
    assert "1000000000 configurations" in err
    assert "first 5 of 1000000000" in err


def test_random_strategy_is_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    command = ["t.py", "--lr", "loguniform(1e-5, 1e-1)", "--bs", "[16, 32]"]
    generate.run(parse("--strategy", "random", "--num-trials", "4", "--seed", "7"), command)
    first, _ = lines(capsys)
    generate.run(parse("--strategy", "random", "--num-trials", "4", "--seed", "7"), command)
    second, _ = lines(capsys)
    assert first == second and len(first) == 4 and len(set(first)) == 4


def test_random_over_a_finite_grid_never_repeats(capsys: pytest.CaptureFixture[str]) -> None:
    generate.run(parse("--strategy", "random", "--seed", "1"), ["t.py", "--a", "range(6)"])
    out, _ = lines(capsys)
    assert sorted(out) == sorted(f"t.py --a {i}" for i in range(6))


def test_yaml_sweep_writes_one_folder_per_configuration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "grid_search"
    args = parse("--config", str(FIXTURES / "base_example.yaml"), "--tune",
                 str(FIXTURES / "tune_example.yaml"), "--out", str(out_dir))
    assert generate.run(args, ["python", "train.py"]) == 0
    out, err = lines(capsys)
    assert len(out) == 32 and "32 configurations" in err
    folders = sorted(p for p in out_dir.iterdir() if p.is_dir())
    assert len(folders) == 32
    configs = set()
    for folder in folders:
        written = yaml.safe_load((folder / "config.yaml").read_text())
        configs.add((written["hyperparameters"]["worker_steps"],
                     written["hyperparameters"]["num_workers"],
                     written["learning_rate_schedule"]["initial"],
                     written["learning_rate_schedule"]["final"],
                     written["beta_schedule"]["initial"]))
        assert json.loads((folder / "config.json").read_text())["repetition"] == 0
        assert (folder / "command.txt").read_text().strip().endswith(
            f"--config {folder / 'config.yaml'}")
    assert len(configs) == 32
    assert (out_dir / "commands.txt").read_text().splitlines() == out


def test_grid_module_and_repetitions(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("--grid-module", str(FIXTURES / "hpsearch_template.py"), "--repetitions", "2",
                 "--seed", "100")
    assert generate.run(args, ["python3", "SCRIPT_NAME.py", "--seed={seed}"]) == 0
    out, err = lines(capsys)
    assert len(out) == 8
    assert "4 configurations x 2 repetitions = 8 runs" in err
    assert out[0].startswith("python3 SCRIPT_NAME.py --seed=100 --option1=10")
    assert out[4] == out[0].replace("--seed=100", "--seed=104")


@pytest.mark.parametrize(
    ("options", "command", "error", "fragment"),
    [
        ((), [], UsageError, "no command"),
        ((), ["t.py", "--lr", "uniform(0, 1)"], UsageError, "continuous"),
        (("--strategy", "random"), ["t.py", "--lr", "uniform(0, 1)"], UsageError,
         "needs --num-trials"),
        ((), ["t.py", "--lr", "[1, 2"], SpaceError, "not closed"),
        (("--config", "a.yaml"), ["t.py"], UsageError, "go together"),
        (("--limit", "0"), ["t.py"], UsageError, "--limit"),
    ],
)
def test_errors_are_hpsweep_errors(options: tuple[str, ...], command: list[str],
                                   error: type[HpsweepError], fragment: str) -> None:
    with pytest.raises(error) as info:
        generate.run(parse(*options), command)
    assert fragment in str(info.value)
    assert info.value.exit_code == 2


def test_a_conditioned_grid_too_large_says_so(tmp_path: Path) -> None:
    module = tmp_path / "big.py"
    module.write_text("grid = {f'p{i}': list(range(10)) for i in range(8)}\n"
                      "conditions = [({'p0': [1]}, {'p1': [0]})]\n")
    with pytest.raises(SpaceError, match=r"cannot|expanded"):
        generate.run(parse("--grid-module", str(module)), ["t.py"])


def test_the_hpsweep_command_prints_eight_lines_and_exits_2_on_bad_input(
        capsys: pytest.CaptureFixture[str]) -> None:
    from hpsweep.cli.main import main

    assert main(["generate", "--", "python", "train.py", "--lr", "[0.1, 0.01]", "--bs",
                 "range(16, 65, 16)"]) == 0
    out, _ = lines(capsys)
    assert len(out) == 8
    assert main(["generate", "--", "python", "train.py", "--lr", "uniform(2, 1)"]) == 2
    out, err = lines(capsys)
    assert out == []
    assert "'lr'" in err and "uniform(2, 1)" in err and "swap the bounds" in err
    assert "Traceback" not in err
