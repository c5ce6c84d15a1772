"""A small training script for executor tests (stdlib only; needs no hpsweep).

It trains "epochs" from its checkpoint (``$HPSWEEP_CHECKPOINT_DIR/state.json``) up to ``--epochs``
(the target budget), reporting ``loss`` and ``epoch`` after each one through the report file or a
stdout marker line, and writes its pid and its HPSWEEP_* environment into its trial folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--sleep", type=float, default=0.1)
    p.add_argument("--exit-code", type=int, default=0)
    p.add_argument("--channel", choices=["file", "stdout"], default="file")
    p.add_argument("--lr", type=float, default=0.1)
    return p


def main() -> int:
    args = build_parser().parse_args()
    trial_dir = os.environ.get("HPSWEEP_TRIAL_DIR", ".")
    os.makedirs(trial_dir, exist_ok=True)
    with open(os.path.join(trial_dir, "pids"), "a") as fh:
        fh.write(f"{os.getpid()}\n")
    with open(os.path.join(trial_dir, "env.json"), "w") as fh:
        json.dump({k: v for k, v in os.environ.items() if k.startswith("HPSWEEP_")}, fh)
    ckpt_dir = os.environ.get("HPSWEEP_CHECKPOINT_DIR", os.path.join(trial_dir, "checkpoint"))
    os.makedirs(ckpt_dir, exist_ok=True)
    ckpt = os.path.join(ckpt_dir, "state.json")
    start = 0
    if os.path.exists(ckpt):
        with open(ckpt) as fh:
            start = int(json.load(fh)["epoch"])
    report_file = os.environ.get("HPSWEEP_REPORT_FILE")
    for epoch in range(start + 1, args.epochs + 1):
        time.sleep(args.sleep)
        metrics = {"loss": args.lr / epoch, "epoch": epoch}
        if args.channel == "file" and report_file:
            with open(report_file, "a") as fh:
                line = {"step": epoch, "metrics": metrics, "time": time.time()}
                fh.write(json.dumps(line) + "\n")
        else:
            print("[hpsweep] " + json.dumps({"step": epoch, **metrics}), flush=True)
        with open(ckpt + ".tmp", "w") as fh:
            json.dump({"epoch": epoch}, fh)
        os.replace(ckpt + ".tmp", ckpt)
    print("done", flush=True)
    if args.exit_code:
        print(f"failing with {args.exit_code}", file=sys.stderr, flush=True)
    return args.exit_code


if __name__ == "__main__":
    sys.exit(main())
