#!/usr/bin/env python
"""A small training script that checkpoints and resumes: the multi-fidelity trial contract.

It fits a noisy linear model with SGD and momentum, one "epoch" at a time, up to ``--epochs``
(the target budget the scheduler gives). After every epoch it first saves its state to
``$HPSWEEP_CHECKPOINT_DIR/state.json`` and then reports ``val_loss`` for that epoch. Started again
with a larger ``--epochs`` and the same checkpoint folder, it continues where it stopped: its first
reported epoch after a resume is the next one, not 1.

    hpsweep run --scheduler promotion --resource-arg epochs --min-resource 1 --max-resource 9 \\
        --metric val_loss --mode min --num-trials 12 -- \\
        python examples/mf_train.py --lr "loguniform(1e-3, 0.5)" --momentum "uniform(0, 0.95)"

Outside a sweep it runs on its own: ``python examples/mf_train.py --epochs 5``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def _reporter() -> Any:
    """``hpsweep.report`` inside a sweep, else a printer of ``[hpsweep] {json}`` lines."""
    if os.environ.get("HPSWEEP_REPORT_FILE"):
        try:
            from hpsweep import report

            return report
        except ImportError:
            pass

    def printed(step: int | None = None, **metrics: Any) -> None:
        print("[hpsweep] " + json.dumps({"step": step, **metrics}), flush=True)

    return printed


def _data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=8)
    x = rng.normal(size=(400, 8))
    y = x @ w_true + rng.normal(scale=0.3, size=400)
    return x[:300], y[:300], x[300:], y[300:]


def _load(folder: Path | None) -> dict[str, Any] | None:
    if folder is None or not (folder / "state.json").is_file():
        return None
    state: dict[str, Any] = json.loads((folder / "state.json").read_text())
    return state


def _save(folder: Path | None, state: dict[str, Any]) -> None:
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, folder / "state.json")  # atomic: a stop never leaves half a checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="train up to this epoch")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="data and shuffling seed")
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds per epoch (for demos)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.lr <= 0 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be >= 1 and --lr > 0")
    folder_env = os.environ.get("HPSWEEP_CHECKPOINT_DIR")
    folder = Path(folder_env) if folder_env else None
    report = _reporter()
    x, y, xv, yv = _data(args.seed)
    state = _load(folder) or {"epoch": 0, "w": [0.0] * x.shape[1], "v": [0.0] * x.shape[1]}
    if state["epoch"]:
        print(f"resumed from epoch {state['epoch']}", file=sys.stderr, flush=True)
    w, v = np.array(state["w"]), np.array(state["v"])
    rng = np.random.default_rng([args.seed, state["epoch"]])
    for epoch in range(state["epoch"] + 1, args.epochs + 1):
        order = rng.permutation(len(x))
        for start in range(0, len(x), args.batch_size):
            idx = order[start:start + args.batch_size]
            grad = 2 * x[idx].T @ (x[idx] @ w - y[idx]) / len(idx)
            v = args.momentum * v - args.lr * grad
            w = w + v
        val_loss = float(np.mean((xv @ w - yv) ** 2))
        if not np.isfinite(val_loss):
            val_loss = float("nan")
        _save(folder, {"epoch": epoch, "w": w.tolist(), "v": v.tolist()})
        report(step=epoch, val_loss=val_loss, epoch=epoch, resumed_at=state["epoch"])
        if args.sleep:
            time.sleep(args.sleep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
