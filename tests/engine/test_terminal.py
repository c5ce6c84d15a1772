"""The live display in a real 80-column terminal (a pseudo-terminal): nested YAML names leave room
for their values, and what the sweep found stays on screen after the live panel goes."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import termios
import textwrap
from pathlib import Path

from tests.conftest import PY, cli_env

BASE = """
hyperparameters: {worker_steps: 64, num_workers: 8}
learning_rate_schedule: {initial: 0.003, final: 0.00001}
beta_schedule: {initial: 0.01, final: 0.0001}
"""

TUNE = """
hyperparameters:
  worker_steps: [64, 128]
learning_rate_schedule:
  initial: [0.003, 0.0001]
beta_schedule:
  initial: [0.01, 0.001]
"""

SCRIPT = """
import argparse, yaml
p = argparse.ArgumentParser(); p.add_argument("--config"); a = p.parse_args()
c = yaml.safe_load(open(a.config))
h, lr, beta = c["hyperparameters"], c["learning_rate_schedule"], c["beta_schedule"]
loss = lr["initial"] * 100 + beta["initial"] + h["worker_steps"] / 1000
print(f"loss={loss}")
"""


def _in_a_terminal(argv: list[str], cwd: Path, columns: int = 80) -> str:
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**cli_env(), "TERM": "xterm", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=follower, stdout=follower,
                            stderr=follower, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the program ended
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    text = b"".join(chunks).decode(errors="replace")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "", text)


def test_nested_names_keep_their_values_and_the_result_stays(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(textwrap.dedent(BASE))
    (tmp_path / "tune.yaml").write_text(textwrap.dedent(TUNE))
    (tmp_path / "train.py").write_text(textwrap.dedent(SCRIPT))
    shown = _in_a_terminal([PY, "-m", "hpsweep", "run", "--out", "s", "--config", "base.yaml",
                            "--tune", "tune.yaml", "--metric-regex", r"loss=(?P<loss>\S+)", "--",
                            PY, "train.py"], tmp_path)
    tail = shown[shown.rindex("best 5"):]  # the last screen: the five best configurations
    first = tail.splitlines()[2]
    # the best: lr initial 0.0001, beta initial 0.001, 64 worker steps, every value there in full
    assert "l.initial=0.0001" in first and "b.initial=0.001" in first and "worker_steps=64" in first
    table = tail.split("hpsweep:")[0].splitlines()
    assert len(table) == 7 and all(len(line) <= 80 for line in table)
    assert "hpsweep: best trial" in shown
