"""What the YAHPO Gym surrogates share: their ONNX session and their instance tables."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsweep.errors import UsageError

__all__ = ["YahpoFolder", "open_yahpo"]


@dataclass
class YahpoFolder:
    """One scenario's folder: the surrogate session, ``encoding.json`` and the statistics of
    ``instance_target_statistics.csv`` keyed by (instance, metric, statistic)."""

    folder: Path
    session: Any
    encoding: dict[str, Any]
    stats: dict[tuple[str, str, str], float]


def open_yahpo(data_dir: str | Path, scenario: str, *, label: str, threads: int = 1) -> YahpoFolder:
    """The scenario's surrogate from a YAHPO data folder (e.g. ``../shared/data/yahpo``);
    ``label`` names it in errors."""
    folder = Path(data_dir) / scenario
    if not (folder / "model.onnx").is_file():
        raise UsageError(f"no {label} surrogate at {folder / 'model.onnx'}; pass the YAHPO data "
                         f"folder that holds {scenario}/model.onnx (e.g. ../shared/data/yahpo).")
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UsageError(f"the {label} benchmark needs onnxruntime: pip install "
                         "'hpsweep[bench]'") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    encoding = json.loads((folder / "encoding.json").read_text())
    stats: dict[tuple[str, str, str], float] = {}
    with (folder / "instance_target_statistics.csv").open() as handle:
        for row in csv.DictReader(handle):
            stats[(row["instance"], row["metric"], row["statistic"])] = float(row["value"])
    return YahpoFolder(folder=folder, session=session, encoding=encoding, stats=stats)
