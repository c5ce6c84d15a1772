"""``hpsweep rerun`` of a YAML-config trial (its config file rewritten into the new folder) and of
a failed trial."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from hpsweep.cli.main import main
from tests.conftest import PY
from tests.housekeeping import scripts

READS_CONFIG = """
import argparse, json, yaml
p = argparse.ArgumentParser()
p.add_argument("--config")
a = p.parse_args()
c = yaml.safe_load(open(a.config))
print("[hpsweep] " + json.dumps({"loss": c["model"]["lr"] * c["model"]["depth"], "path": a.config}))
"""


def test_rerun_rewrites_the_config_file_into_the_new_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text("model:\n  lr: 0.1\n  depth: 3\n")
    (tmp_path / "tune.yaml").write_text(textwrap.dedent("model:\n  lr: [0.5, 0.25]\n"))
    (tmp_path / "t.py").write_text(READS_CONFIG)
    assert main(["run", "--out", "s", "--metric", "loss", "--config", "base.yaml", "--tune",
                 "tune.yaml", "--quiet", "--", PY, "t.py"]) == 0
    capsys.readouterr()
    assert main(["rerun", "s", "1"]) == 0
    assert "loss" in capsys.readouterr().out
    folder = tmp_path / "s" / "reruns" / "0001-1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["metrics"]["path"] == str(folder / "config.yaml")
    assert manifest["metrics"]["loss"] == pytest.approx(0.75)
    original = json.loads((tmp_path / "s" / "trials" / "0001" / "manifest.json").read_text())
    assert manifest["metrics"]["loss"] == original["metrics"]["loss"]
    assert (folder / "config.yaml").read_text() == (tmp_path / "s" / "trials" / "0001" / "config.yaml").read_text()


def test_rerun_of_a_crashing_trial_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mixed.py").write_text(scripts.MIXED)
    main(["run", "--out", "s", "--metric", "loss", "--quiet", "--", PY, "mixed.py", "--x", "[1, 4]"])
    capsys.readouterr()
    assert main(["rerun", "s", "1"]) == 1
    assert "the run did not complete" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "s" / "reruns" / "0001-1" / "manifest.json").read_text())
    assert manifest["state"] == "failed" and manifest["exit_code"] == 1
