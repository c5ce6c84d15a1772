"""Check hpsweep's direct encoding of the rbv2_rpart surrogate against YAHPO Gym 1.0.2.

Creates ``benchmarks/.venvs/yahpo-gym`` (YAHPO Gym 1.0.2 from PyPI) on first use, evaluates the
same random configurations at every trainsize step there and with
:class:`hpsweep.bench.rbv2.RBV2RpartModel`, and prints the largest difference per output.

    .venv/bin/python benchmarks/rbv2_check.py --tasks 3 6 11 15 23 31 37 1461 --configs 200
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "yahpo"
VENV = ROOT / "benchmarks" / ".venvs" / "yahpo-gym"


def ensure_yahpo(python: str) -> Path:
    exe = VENV / "bin" / "python"
    probe = [str(exe), "-c", "import yahpo_gym"]
    if exe.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return exe
    VENV.parent.mkdir(parents=True, exist_ok=True)
    (VENV.parent / ".gitignore").write_text("*\n")
    subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(exe), "-m", "pip", "install", "-q", "yahpo-gym==1.0.2"], check=True)
    return exe


def worker(data_dir: str, rows_file: str, out_file: str) -> None:
    """Runs in the YAHPO Gym environment: one output row per input row."""
    from yahpo_gym import benchmark_set, local_config

    local_config.init_config()
    local_config.set_data_path(data_dir)
    rows = json.loads(Path(rows_file).read_text())
    out = []
    bench = benchmark_set.BenchmarkSet("rbv2_rpart", check=False)
    for task in sorted({r["task_id"] for r in rows}):
        bench.set_instance(task)
        mine = [r for r in rows if r["task_id"] == task]
        for row, res in zip(mine, bench.objective_function(mine)):
            out.append({"row": row, "y": {k: float(v) for k, v in res.items()}})
    Path(out_file).write_text(json.dumps(out))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=["3", "6", "11", "15", "23", "31", "37", "1461"])
    parser.add_argument("--configs", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--worker", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return
    import numpy as np

    from hpsweep.bench.rbv2 import IMPUTE, OUTPUTS, REPL, STEPS, RBV2RpartModel

    model = RBV2RpartModel(args.data_dir)
    rng = np.random.default_rng(0)
    rows = []
    for task in args.tasks:
        space = model.task(task).space()
        for _ in range(args.configs):
            config = space.sample(rng)
            step = int(rng.integers(1, STEPS + 1))
            rows.append({"task_id": task, "cp": float(config["cp"]),
                         "maxdepth": int(config["maxdepth"]), "minbucket": int(config["minbucket"]),
                         "minsplit": int(config["minsplit"]), IMPUTE: config[IMPUTE],
                         "trainsize": step / STEPS, "repl": REPL})
    exe = ensure_yahpo(sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        rows_file, out_file = Path(tmp) / "rows.json", Path(tmp) / "out.json"
        rows_file.write_text(json.dumps(rows))
        subprocess.run([str(exe), str(Path(__file__).resolve()), "--worker", str(args.data_dir),
                        str(rows_file), str(out_file)], check=True)
        theirs = json.loads(out_file.read_text())
    worst = dict.fromkeys(OUTPUTS, 0.0)
    for item in theirs:
        row = item["row"]
        mine = model.predict(row["task_id"], [row], [row["trainsize"]])[0]
        for i, name in enumerate(OUTPUTS):
            worst[name] = max(worst[name], abs(float(mine[i]) - item["y"][name]))
    print(f"{len(theirs)} rows over {len(args.tasks)} instances; largest absolute difference "
          "per output (hpsweep's encoding vs yahpo-gym 1.0.2):")
    for name, diff in worst.items():
        print(f"  {name:<12} {diff:.3g}")


if __name__ == "__main__":
    main()
