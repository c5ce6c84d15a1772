#!/usr/bin/env bash
# The main job: set up, then a real sweep of the bundled example (a NumPy MLP, about 30 s on 2 CPUs)
# with TPE over a mixed space on 2 slots, then the report of what won.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
scripts/setup.sh demo
echo "demo: set-up took ${SECONDS} s"
export PATH="$PWD/.venv/bin:$PATH"
out="runs/demo-$(date +%Y%m%d-%H%M%S)"
hpsweep run --out "$out" --strategy tpe --num-trials 24 --parallel 2 --seed 0 \
    --metric val_loss --mode min --out-dir-arg out-dir --plain -- \
    python examples/train.py --lr "loguniform(1e-3, 3)" --hidden "[8, 16, 32, 64]" \
    --weight-decay "loguniform(1e-6, 1e-2)" --epochs 20
hpsweep report "$out" --top 5
echo "demo: ${SECONDS} s in all"
