"""Hydra applications swept inline, with real hydra-core: ``key=[a, b]``, ``choice()``,
``range()`` and dashed options expand, each trial's Hydra outputs go into its own trial folder."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PY, run_cli

pytest.importorskip("hydra", reason="hydra-core is a test dependency (pip install -e .[test])")

APP = """
import os
import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
import hpsweep

@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    out = os.path.realpath(HydraConfig.get().runtime.output_dir)
    mine = os.path.realpath(os.environ["HPSWEEP_TRIAL_DIR"])
    hpsweep.report(step=1, loss=(cfg.optimizer.lr - 0.1) ** 2 + cfg.model.layers,
                   own_dir=float(out == mine))

main()
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("optimizer:\n  lr: 0.001\nmodel:\n  layers: 2\n")
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    return tmp_path


def _rows(study: Path) -> list[dict[str, str]]:
    with (study / "results.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("overrides, expected", [
    (["optimizer.lr=[0.01, 0.1]", "model.layers=choice(1, 3)"],
     {("0.01", "1"), ("0.01", "3"), ("0.1", "1"), ("0.1", "3")}),
    (["--optimizer.lr", "[0.01, 0.1]", "model.layers=range(1, 3)"],
     {("0.01", "1"), ("0.01", "2"), ("0.1", "1"), ("0.1", "2")}),
])
def test_hydra_overrides_expand_and_outputs_stay_in_the_trial(app: Path, overrides: list[str],
                                                              expected: set[tuple[str, str]]) -> None:
    done = run_cli("run", "--out", "study", "--arg-style", "hydra", "--parallel", "2", "-q", "--", PY, "app.py",
                   *overrides, cwd=app)
    assert done.returncode == 0, done.stderr
    rows = _rows(app / "study")
    assert {(r["optimizer.lr"], r["model.layers"]) for r in rows} == expected
    assert all(r["state"] == "completed" and r["own_dir"] == "1.0" for r in rows)
    best = min(rows, key=lambda r: float(r["loss"]))
    assert (best["optimizer.lr"], best["model.layers"]) == ("0.1", "1")
    assert not (app / "outputs").exists()  # no shared outputs/<date>/<time> folders
    for r in rows:
        assert (Path(r["trial_dir"]) / ".hydra" / "overrides.yaml").is_file()
