"""Fixtures shared by the whole suite: running the real command line on real scripts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

PY = sys.executable
REPO = Path(__file__).resolve().parents[1]


def cli_env() -> dict[str, str]:
    """The environment trials see: this interpreter's bin folder first, so ``python`` finds hpsweep."""
    env = dict(os.environ)
    env["PATH"] = str(Path(PY).parent) + os.pathsep + env.get("PATH", "")
    env.pop("HPSWEEP_REPORT_FILE", None)
    return env


def run_cli(*args: str, cwd: Path, timeout: float = 120, check: bool = False
            ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([PY, "-m", "hpsweep", *args], cwd=cwd, env=cli_env(), capture_output=True,
                          text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"hpsweep {' '.join(args)} exited {done.returncode}\n"
                             f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli("run", "--", ...)`` runs hpsweep in ``tmp_path``."""
    def call(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=tmp_path, timeout=timeout, check=check)
    return call


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_script("train.py", source)`` writes a dedented script into ``tmp_path``."""
    def write(name: str, source: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source))
        return path
    return write
