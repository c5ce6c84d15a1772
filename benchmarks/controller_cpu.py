"""Controller CPU per trial over N trivial trials through the Tuner (2 slots, grid search).

The trials are ``python -S trivial.py`` (one ``[hpsweep] {"loss": 1.0}`` line each, from
``benchmarks/overhead.py``); the figure is the controller process's own CPU time over the
sweep (the trials' CPU is theirs, not counted) divided by N, and the wall time per trial.

    python benchmarks/controller_cpu.py 1000 label
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import overhead

from hpsweep.space import parse_inline
from hpsweep.store import StudyDir
from hpsweep.tuner.session import SweepOptions, create_study, load_study


def main() -> None:
    n = int(sys.argv[1])
    label = sys.argv[2] if len(sys.argv) > 2 else ""
    root = Path(tempfile.mkdtemp(prefix="hpsweep-cpu-"))
    study = StudyDir(root / "study")
    argv = [*overhead.TRIVIAL, "--i", f"range(0, {n})"]
    options = SweepOptions(command=argv, strategy="grid", metrics=["loss"], modes=["min"],
                           parallel=2, seed=0, cwd=str(root))
    study.acquire()
    create_study(study, options, parse_inline(argv, seed=0))
    tuner, _, _, _ = load_study(study)
    c0, t0 = time.process_time(), time.perf_counter()
    tuner.run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    print(f"{label} n {n} cpu/trial ms {cpu / n * 1e3:.2f} wall/trial ms {wall / n * 1e3:.1f}")


if __name__ == "__main__":
    main()
