#!/usr/bin/env python3
"""A small real training script: a one-hidden-layer MLP (NumPy) on a synthetic two-class problem.

It knows nothing of hpsweep except the optional one-line ``report``; any sweep passes its
hyperparameters as ordinary command-line options:

    python examples/train.py --lr 0.1 --hidden 32 --weight-decay 1e-4 --epochs 20

Per epoch it reports ``val_loss`` and ``val_acc`` (through ``hpsweep.report`` when hpsweep is
installed, otherwise as a ``[hpsweep] {...}`` line on stdout) and writes a final
``performance_overview.txt`` into ``--out-dir`` when given.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
from pathlib import Path

import numpy as np

try:
    from hpsweep import report
except ImportError:  # the script also runs without hpsweep installed
    def report(step: int | None = None, **metrics: float) -> None:
        print("[hpsweep] " + json.dumps({"step": step, **metrics}), flush=True)


def make_data(seed: int, n: int = 1200) -> tuple[np.ndarray, ...]:
    """Two interleaved spirals with noise: needs a hidden layer, rewards a good learning rate."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.25, 1.75 * np.pi, n)
    label = rng.integers(0, 2, n)
    r = 2.0 * t / (1.75 * np.pi)
    angle = t + np.pi * label
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1) + rng.normal(0, 0.06, (n, 2))
    split = int(0.75 * n)
    return x[:split], label[:split], x[split:], label[split:]


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return h, 1.0 / (1.0 + np.exp(-logits[:, 0]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=None)
    args = p.parse_args()

    xtr, ytr, xva, yva = make_data(seed=12345)  # the data is fixed; --seed changes the model only
    rng = np.random.default_rng(args.seed)
    params = {
        "w1": rng.normal(0, 1.0, (2, args.hidden)), "b1": np.zeros(args.hidden),
        "w2": rng.normal(0, 1.0 / np.sqrt(args.hidden), (args.hidden, 1)), "b2": np.zeros(1),
    }
    start = 0
    ckpt_dir = os.environ.get("HPSWEEP_CHECKPOINT_DIR")
    ckpt = Path(ckpt_dir, "state.pkl") if ckpt_dir else None
    if ckpt is not None and ckpt.is_file():  # continue a paused run
        state = pickle.loads(ckpt.read_bytes())
        params, start = state["params"], state["epoch"]
        rng = np.random.default_rng([args.seed, start])
    for epoch in range(start + 1, args.epochs + 1):
        order = rng.permutation(len(xtr))
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            h, prob = forward(params, xtr[idx])
            grad_logit = (prob - ytr[idx])[:, None] / len(idx)
            grads = {"w2": h.T @ grad_logit, "b2": grad_logit.sum(0)}
            grad_h = (grad_logit @ params["w2"].T) * (1 - h**2)
            grads.update(w1=xtr[idx].T @ grad_h, b1=grad_h.sum(0))
            for k in params:
                params[k] -= args.lr * (grads[k] + args.weight_decay * params[k])
        _, prob = forward(params, xva)
        prob = np.clip(prob, 1e-7, 1 - 1e-7)
        val_loss = float(-np.mean(yva * np.log(prob) + (1 - yva) * np.log(1 - prob)))
        val_acc = float(np.mean((prob > 0.5) == yva))
        report(step=epoch, val_loss=val_loss, val_acc=val_acc)
        if ckpt is not None:
            tmp = ckpt.with_suffix(".tmp")  # written whole, then renamed: a kill never leaves half
            tmp.write_bytes(pickle.dumps({"params": params, "epoch": epoch}))
            os.replace(tmp, ckpt)
    if args.out_dir:
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
        Path(args.out_dir, "performance_overview.txt").write_text(
            f"val_loss {val_loss}\nval_acc {val_acc}\nfinished 1\n")


if __name__ == "__main__":
    main()
