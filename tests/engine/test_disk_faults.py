"""A full disk and a read-only study folder: a clear error (exit 2) naming the file and the fix,
readers that still work, and a store that `PRAGMA integrity_check` finds intact.

The disk cases mount a small tmpfs and a read-only bind mount, so they need root; they are
skipped otherwise.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PY, run_cli

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")

FILLER = """
import os, sys, hpsweep
x = int(sys.argv[sys.argv.index("--x") + 1])
if x == 2 and not os.path.exists(os.environ["FILL_DONE"]):
    open(os.environ["FILL_DONE"], "w").close()
    with open(os.environ["FILL"], "wb") as fh:
        try:
            while True:
                fh.write(b"0" * 65536)
                fh.flush()
        except OSError:
            pass
hpsweep.report(step=1, loss=float(x))
"""


def integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def completed(db: Path) -> list[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT trial_id FROM trials WHERE state='completed'").fetchall()
        return sorted(r[0] for r in rows)
    finally:
        conn.close()


@contextlib.contextmanager
def mounted(*args: str, target: Path) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@needs_root
def test_a_full_disk_is_a_clear_error_and_resume_finishes(tmp_path: Path) -> None:
    script = tmp_path / "fill.py"
    script.write_text(FILLER)
    with mounted("-t", "tmpfs", "-o", "size=3m", "tmpfs", target=tmp_path / "disk") as disk:
        study = disk / "study"
        env = {"FILL": str(disk / "filler"), "FILL_DONE": str(tmp_path / "filled")}
        os.environ.update(env)
        try:
            first = run_cli("run", "--out", str(study), "--metric", "loss", "--plain", "--",
                            PY, str(script), "--x", "range(0, 6)", cwd=tmp_path)
            assert first.returncode == 2, first.stderr
            assert "Traceback" not in first.stderr
            assert "disk is full" in first.stderr and "hpsweep resume" in first.stderr
            assert integrity(study / "study.db") == "ok"
            before = completed(study / "study.db")
            assert before[:2] == [0, 1]
            # Resume on the still-full disk: the same clear error, nothing lost.
            again = run_cli("resume", str(study), "--plain", cwd=tmp_path)
            assert again.returncode == 2 and "Traceback" not in again.stderr, again.stderr
            assert integrity(study / "study.db") == "ok"
            assert set(before) <= set(completed(study / "study.db"))
            (disk / "filler").unlink()
            resumed = run_cli("resume", str(study), "--plain", cwd=tmp_path)
            assert resumed.returncode == 0, resumed.stderr
            assert completed(study / "study.db")[-1] >= 5
            assert integrity(study / "study.db") == "ok"
        finally:
            for key in env:
                os.environ.pop(key, None)


@needs_root
def test_readers_work_on_a_read_only_study_and_writers_say_why_not(tmp_path: Path) -> None:
    script = tmp_path / "ok.py"
    script.write_text("import sys, hpsweep\n"
                      "hpsweep.report(step=1, loss=float(sys.argv[sys.argv.index('--x') + 1]))\n")
    source = tmp_path / "src" / "study"
    made = run_cli("run", "--out", str(source), "--metric", "loss", "--plain", "--",
                   PY, str(script), "--x", "[1, 2, 3]", "--num-trials", "3", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    with mounted("--bind", str(source.parent), target=tmp_path / "ro"):
        ro = tmp_path / "ro"
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip("cannot remount read-only here")
        study = ro / "study"
        out = tmp_path / "out"
        out.mkdir()
        readers = [("report", str(study)), ("status", str(study)), ("ls", str(ro)),
                   ("export", str(study), "--optuna", f"sqlite:///{out / 'optuna.db'}"),
                   ("plot", str(study), "--out", str(out / "plots"), "--format", "html"),
                   ("dashboard", str(study), "--export", str(out / "dash.html"))]
        for args in readers:
            done = run_cli(*args, cwd=tmp_path)
            assert done.returncode == 0, (args, done.stderr)
            assert "Traceback" not in done.stderr
        for args in [("resume", str(study), "--plain"),
                     ("run", "--out", str(ro / "new"), "--plain", "--", PY, str(script),
                      "--x", "[1]")]:
            done = run_cli(*args, cwd=tmp_path)
            assert done.returncode == 2, (args, done.stderr)
            assert "Traceback" not in done.stderr and "read-only" in done.stderr, done.stderr
    assert integrity(source / "study.db") == "ok"
    assert completed(source / "study.db") == [0, 1, 2]
