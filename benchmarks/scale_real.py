#!/usr/bin/env python3
"""Controller cost with real processes: many trivial trials through ``hpsweep run``, and slot use
timed by the trial scripts themselves, against a bare subprocess loop and Optuna.

(b) ``--trials`` trivial trials (``python -S trivial.py --x <uniform(0, 1)>``, one ``loss`` line)
    through the real command line, random search on 2 slots, every other option at its default.
    The controller's own CPU (``utime + stime`` of its process in ``/proc``, its children
    excluded) is sampled every ``--sample`` seconds together with the number of trials the store
    has ended (read-only), and attributed to bins of ``--bin`` ended trials; its peak RSS is
    ``VmHWM``. At the end every trial must be in the store and in ``results.csv``, COMPLETED.
    In the same run, Optuna's in-memory RandomSampler loop (``study.optimize`` on 1 job, the
    objective running the same script with ``subprocess.run``) is measured the same way, as a
    whole process: CPU per trial of the whole program, start-up included, on both sides.
(c) ``--slot-trials`` trials that each sleep 0.2 s, on 2 slots, each script writing
    ``time.time()`` at its first and last line to ``times.txt`` in its folder. Slot use =
    sum(end - start) / (2 x (last end - first start)), for a bare loop (two threads, each running
    ``subprocess.run`` back to back), Optuna (``study.optimize(n_jobs=2)``, in-memory storage,
    RandomSampler) and ``hpsweep run --parallel 2``; ``--repeats`` interleaved repeats, medians.

    nice -n 19 python benchmarks/scale_real.py --trials 10000 --slot-trials 200 --repeats 3
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TRIVIAL = """import sys
x = float(sys.argv[-1])
print('[hpsweep] {"loss": %r}' % x)
"""
SLEEPY = """import os, time; start = time.time(); boot = time.clock_gettime(time.CLOCK_BOOTTIME)
import sys
time.sleep(0.2)
print('[hpsweep] {"loss": %r}' % float(sys.argv[-1]))
folder = os.environ.get("HPSWEEP_TRIAL_DIR", ".")
def born(pid):  # the process's start, in seconds of boot time (10 ms ticks)
    with open("/proc/%d/stat" % pid) as f: return int(f.read().rsplit(")", 1)[1].split()[19]) / 100
me, parent = born(os.getpid()), born(os.getppid())  # parent: hpsweep's wrapper, or the loop
with open(os.path.join(folder, "times.txt"), "w") as f:
    f.write("%r %r %r %r" % (start, time.time(), start - (boot - me), start - (boot - parent)))
"""
_TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- measuring a process from outside

def _cpu_s(pid: int) -> float:
    """utime + stime of the process (all its threads, none of its children), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _hwm_mib(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None  # a zombie has no memory left to report


def _exited(pid: int) -> bool:
    """True once the child has exited; it stays a zombie (not reaped), so /proc still holds its CPU."""
    info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return info is not None


class Monitor:
    """Samples a child's CPU, peak RSS and a progress count until it exits."""

    def __init__(self, proc: subprocess.Popen[bytes], count: Any, period: float) -> None:
        self.proc, self.count, self.period = proc, count, period
        self.samples: list[tuple[float, float, int]] = []  # (wall, cpu s, ended trials)
        self.hwm_mib = 0.0

    def run(self) -> None:
        pid, t0 = self.proc.pid, time.perf_counter()
        while not _exited(pid):
            cpu, hwm = _cpu_s(pid), _hwm_mib(pid)
            self.hwm_mib = max(self.hwm_mib, hwm or 0.0)
            self.samples.append((time.perf_counter() - t0, cpu, self.count()))
            time.sleep(self.period)
        self.final_cpu = _cpu_s(pid)  # read from the zombie: everything, shutdown included
        self.wall = time.perf_counter() - t0
        self.proc.wait()

    def bins(self, size: int, total: int) -> list[dict[str, float]]:
        """CPU per ended trial in bins of ``size``, interpolated between samples taken alive."""
        ends = [s[2] for s in self.samples]
        cpus = [s[1] for s in self.samples]

        def cpu_at(n: int) -> float:
            for i in range(1, len(ends)):
                if ends[i] >= n:
                    if ends[i] == ends[i - 1]:
                        return cpus[i]
                    return cpus[i - 1] + (cpus[i] - cpus[i - 1]) * (n - ends[i - 1]) / (ends[i] - ends[i - 1])
            return cpus[-1]

        rows, seen = [], max(ends, default=0)
        for lo in range(0, total, size):
            hi = min(lo + size, total, seen)
            if hi <= lo:
                break
            base = 0.0 if lo == 0 else cpu_at(lo)  # the first bin carries start-up
            rows.append({"from": lo, "to": hi, "ms_per_trial": 1000 * (cpu_at(hi) - base) / (hi - lo)})
        return rows

    def startup_cpu(self) -> float:
        """CPU at the last sample before any trial ended: start-up and the first launches."""
        before = [cpu for _, cpu, ended in self.samples if ended == 0]
        return before[-1] if before else 0.0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the controller stops its trials and its reaper
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _watch(argv: list[str], log: Path, count: Any, period: float, cwd: Path) -> Monitor:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    monitor = Monitor(proc, count, period)
    try:
        monitor.run()
    finally:
        _stop(proc)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({proc.returncode}); see {log}:\n{log.read_text()[-3000:]}")
    return monitor


def _hpsweep_argv(out: Path, trials: int, script: Path) -> list[str]:
    return [sys.executable, "-m", "hpsweep", "run", "--plain", "--out", str(out), "--num-trials",
            str(trials), "--parallel", "2", "--metric", "loss", "--", sys.executable, "-S",
            str(script), "--x", "uniform(0, 1)"]


# ---------------------------------------------------------------- part (b)

def _store_counter(db: Path) -> Any:
    state: dict[str, sqlite3.Connection] = {}

    def count() -> int:
        if "conn" not in state:
            if not db.exists():
                return 0
            state["conn"] = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = state["conn"].execute(
                "SELECT COUNT(*) FROM trials WHERE state NOT IN ('running', 'paused')").fetchone()
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0
        return int(row[0])

    return count


def check_study(study: Path, n: int) -> dict[str, Any]:
    from hpsweep.store import Store

    store = Store.open(study / "study.db", readonly=True)
    records = store.trials(with_reports=False)
    store.close()
    in_store = {t.trial_id for t in records if t.state.value == "completed"}
    with (study / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    in_csv = {int(r["trial_id"]) for r in rows if r["state"] == "completed"}
    ok = len(records) == n and len(in_store) == n and len(rows) == n and in_csv == in_store
    return {"store_trials": len(records), "store_completed": len(in_store), "csv_rows": len(rows),
            "csv_completed": len(in_csv), "same_ids": in_csv == in_store, "pass": ok}


def part_b(base: Path, scripts: Path, n: int, bin_size: int, period: float) -> dict[str, Any]:
    out = base / "b-hpsweep"
    monitor = _watch(_hpsweep_argv(out, n, scripts / "trivial.py"), base / "b-hpsweep.log",
                     _store_counter(out / "study.db"), period, scripts)
    check = check_study(out, n)
    return {"trials": n, "wall_s": round(monitor.wall, 1), "cpu_s": round(monitor.final_cpu, 2),
            "ms_per_trial": 1000 * monitor.final_cpu / n, "startup_cpu_s": monitor.startup_cpu(),
            "peak_rss_mib": round(monitor.hwm_mib, 1), "bins": monitor.bins(bin_size, n),
            "check": check}


def optuna_child(n: int, script: str, bin_size: int, progress: str) -> None:
    """The peer of part (b): Optuna's in-memory RandomSampler loop on 1 job (run as its own process)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    argv = [sys.executable, "-S", script]

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        done = subprocess.run([*argv, "--x", repr(x)], capture_output=True, text=True, check=True)
        return float(json.loads(done.stdout.rsplit("[hpsweep]", 1)[1])["loss"])

    with open(progress, "w") as marks:

        def mark(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            if (trial.number + 1) % bin_size == 0:
                marks.write(f"{trial.number + 1} {time.process_time()!r}\n")
                marks.flush()

        study.optimize(objective, n_trials=n, callbacks=[mark])


def part_b_optuna(base: Path, scripts: Path, n: int, bin_size: int, period: float) -> dict[str, Any]:
    progress = base / "b-optuna.marks"
    argv = [sys.executable, str(Path(__file__).resolve()), "--optuna-child", str(n),
            str(scripts / "trivial.py"), str(bin_size), str(progress)]
    monitor = _watch(argv, base / "b-optuna.log", lambda: 0, period, scripts)
    marks = [(int(a), float(b)) for a, b in (line.split() for line in progress.read_text().splitlines())]
    bins, prev_n, prev_cpu = [], 0, 0.0
    for upto, cpu in marks:
        bins.append({"from": prev_n, "to": upto, "ms_per_trial": 1000 * (cpu - prev_cpu) / (upto - prev_n)})
        prev_n, prev_cpu = upto, cpu
    return {"trials": n, "wall_s": round(monitor.wall, 1), "cpu_s": round(monitor.final_cpu, 2),
            "ms_per_trial": 1000 * monitor.final_cpu / n, "peak_rss_mib": round(monitor.hwm_mib, 1),
            "bins": bins}


# ---------------------------------------------------------------- part (c)

def _times(file: Path) -> tuple[float, ...]:
    """The script's first and last line, and when its process and its parent's were born."""
    return tuple(map(float, file.read_text().split()))


def _slot_use(files: list[Path], slots: int = 2) -> float:
    spans = [_times(f)[:2] for f in files]
    busy = sum(end - start for start, end in spans)
    return busy / (slots * (max(e for _, e in spans) - min(s for s, _ in spans)))


def bare_loop(root: Path, script: Path, m: int) -> float:
    ids, lock = iter(range(m)), threading.Lock()
    mine: list[list[Path]] = [[], []]

    def worker(slot: int) -> None:
        while True:
            with lock:
                i = next(ids, None)
            if i is None:
                return
            folder = root / str(i)
            mine[slot].append(folder)
            folder.mkdir()
            subprocess.run([sys.executable, "-S", str(script), "--x", "0.5"], cwd=folder,
                           stdout=subprocess.DEVNULL, check=True)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hand_overs, starts = [], []
    for folders in mine:
        spans = [_times(f / "times.txt") for f in folders]
        hand_overs += [1000 * (b[0] - a[1]) for a, b in itertools.pairwise(spans)]
        starts += [1000 * (t[0] - t[2]) for t in spans]
    BARE_GAPS.append({"hand-over": statistics.mean(hand_overs), "born -> script start": statistics.mean(starts)})
    return _slot_use(sorted(root.glob("*/times.txt")))


BARE_GAPS: list[dict[str, float]] = []  # the bare loop's mean ms per hand-over, and per interpreter start


def optuna_jobs(root: Path, script: Path, m: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        folder = root / str(trial.number)
        folder.mkdir()
        done = subprocess.run([sys.executable, "-S", str(script), "--x", repr(x)], cwd=folder,
                              capture_output=True, text=True, check=True)
        return float(json.loads(done.stdout.rsplit("[hpsweep]", 1)[1])["loss"])

    study.optimize(objective, n_trials=m, n_jobs=2)
    return _slot_use(sorted(root.glob("*/times.txt")))


def hpsweep_cli(root: Path, script: Path, m: int) -> float:
    log = root.with_suffix(".log")
    with log.open("wb") as out:
        proc = subprocess.Popen(_hpsweep_argv(root, m, script), stdout=out, stderr=subprocess.STDOUT,
                                cwd=script.parent)
        try:
            proc.wait()
        finally:
            _stop(proc)
    files = sorted(root.glob("trials/*/times.txt"))
    if proc.returncode != 0 or len(files) != m:
        raise SystemExit(f"hpsweep failed ({proc.returncode}, {len(files)} of {m}); see {log}")
    GAPS.append(gaps(root))
    return _slot_use(files)


GAPS: list[dict[str, float]] = []  # hpsweep's part (c) runs: where a slot's time between scripts goes


def gaps(study: Path) -> dict[str, float]:
    """Mean ms per hand-over on a slot, from one script's last line to the next one's first line.

    Split by the times on record: the script's end (its own), the wrapper's ``exit.json`` (written
    once the trial's tree is gone), the store's ``finished`` (the controller saw the exit) and
    ``started`` (the controller decided the next launch), the birth of the next wrapper and of its
    trial's process (``/proc``, to 10 ms each, so only the means are meaningful), and the next
    script's first line (its own).
    """
    from hpsweep.store import Store

    store = Store.open(study / "study.db", readonly=True)
    records = store.trials(with_reports=False)
    store.close()
    runs: dict[int, list[tuple[float, float, float, float, float]]] = {}
    for t in records:
        folder = Path(t.trial_dir)
        start, end, born, wrapper_born = _times(folder / "times.txt")
        wrapper_end = json.loads((folder / "exit.json").read_text())["time"]
        runs.setdefault(t.worker_id or 0, []).append(
            (t.started or 0, start, end, wrapper_end, t.finished or 0, born, wrapper_born))
    parts: dict[str, list[float]] = {k: [] for k in (
        "script end -> exit.json", "exit.json -> exit seen", "exit seen -> next launch",
        "next launch -> wrapper born", "wrapper born -> trial born", "trial born -> script start",
        "total")}
    for seq in runs.values():
        seq.sort()
        for prev, nxt in itertools.pairwise(seq):
            _, _, end, wrapper_end, seen, _, _ = prev
            launch, nstart, _, _, _, born, wrapper_born = nxt
            for key, value in zip(parts, (wrapper_end - end, seen - wrapper_end, launch - seen,
                                          wrapper_born - launch, born - wrapper_born, nstart - born,
                                          nstart - end)):
                parts[key].append(1000 * value)
    return {k: statistics.mean(v) for k, v in parts.items()}


def part_c(base: Path, scripts: Path, m: int, repeats: int) -> dict[str, list[float]]:
    methods = {"bare loop": bare_loop, "optuna n_jobs=2": optuna_jobs, "hpsweep": hpsweep_cli}
    uses: dict[str, list[float]] = {name: [] for name in methods}
    for r, (name, fn) in itertools.product(range(repeats), methods.items()):
        root = base / f"c-{r}-{name.split()[0]}"
        if fn is not hpsweep_cli:  # hpsweep makes its study folder itself
            root.mkdir()
        uses[name].append(fn(root, scripts / "sleepy.py", m))
        print(f"  (c) repeat {r + 1}: {name} {uses[name][-1] * 100:.1f} %", flush=True)
    return uses


# ---------------------------------------------------------------- report

def _machine() -> dict[str, Any]:
    import optuna

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent, check=False).stdout.strip()
    return {"node": platform.node(), "nproc": os.cpu_count(), "python": platform.python_version(),
            "optuna": optuna.__version__, "commit": commit}


def _bins_line(bins: list[dict[str, float]]) -> str:
    return ", ".join(f"{b['ms_per_trial']:.2f}" for b in bins)


def _flat(bins: list[dict[str, float]]) -> str:
    if len(bins) < 3:
        return "-"
    steady = [b["ms_per_trial"] for b in bins[1:]]
    return f"last/second {steady[-1] / steady[0]:.3f}, max/min {max(steady) / min(steady):.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=10_000, help="part (b): trivial trials")
    p.add_argument("--bin", type=int, default=1_000)
    p.add_argument("--sample", type=float, default=1.0, help="seconds between samples of the controller")
    p.add_argument("--optuna-trials", type=int, help="part (b)'s Optuna loop (default: --trials; 0 skips)")
    p.add_argument("--slot-trials", type=int, default=200, help="part (c): 0.2 s trials")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--parts", nargs="+", default=["b", "c"], choices=["b", "c"])
    p.add_argument("--json", type=Path, default=Path("benchmarks/results/scale_real.json"))
    p.add_argument("--keep", action="store_true", help="keep the studies' folders")
    p.add_argument("--optuna-child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.optuna_child:
        n, script, size, progress = args.optuna_child
        optuna_child(int(n), script, int(size), progress)
        return
    base = Path(tempfile.mkdtemp(prefix="hpsweep-scale-real-"))
    scripts = base / "scripts"
    scripts.mkdir()
    (scripts / "trivial.py").write_text(TRIVIAL)
    (scripts / "sleepy.py").write_text(SLEEPY)
    report: dict[str, Any] = {"machine": _machine(), "load_start": os.getloadavg(), "args": {
        k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "optuna_child"}}
    m = report["machine"]
    print(f"machine: {m['node']}, {m['nproc']} CPUs, Python {m['python']}, Optuna {m['optuna']}, "
          f"hpsweep {m['commit']}; load {' '.join(f'{x:.2f}' for x in report['load_start'])}", flush=True)
    try:
        if "b" in args.parts:
            b = report["b"] = part_b(base, scripts, args.trials, args.bin, args.sample)
            print(f"(b) hpsweep: {b['trials']} trials in {b['wall_s']} s, controller CPU {b['cpu_s']} s "
                  f"= {b['ms_per_trial']:.2f} ms per trial (start-up {b['startup_cpu_s']:.2f} s), "
                  f"peak RSS {b['peak_rss_mib']} MiB", flush=True)
            n_opt = args.trials if args.optuna_trials is None else args.optuna_trials
            if n_opt:
                o = report["b_optuna"] = part_b_optuna(base, scripts, n_opt, args.bin, args.sample)
                print(f"(b) optuna: {o['trials']} trials in {o['wall_s']} s, CPU {o['cpu_s']} s = "
                      f"{o['ms_per_trial']:.2f} ms per trial, peak RSS {o['peak_rss_mib']} MiB", flush=True)
        if "c" in args.parts:
            report["c"] = part_c(base, scripts, args.slot_trials, args.repeats)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    report["load_end"] = os.getloadavg()
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in report['load_end'])}")
    if "b" in report:
        b = report["b"]
        print(f"\n(b) {b['trials']} trivial trials, 2 slots, random search; controller CPU ms per ended "
              f"trial in bins of {args.bin} (the first bin carries start-up)\n")
        print("| program | trials | CPU s (whole process) | ms per trial | peak RSS MiB | ms per trial, by bin | "
              "flatness |")
        print("|---|---|---|---|---|---|---|")
        rows = [("hpsweep run (2 slots)", b)] + ([("Optuna in-memory loop (1 job)", report["b_optuna"])]
                                                 if "b_optuna" in report else [])
        for name, r in rows:
            print(f"| {name} | {r['trials']} | {r['cpu_s']:.2f} | {r['ms_per_trial']:.2f} | "
                  f"{r['peak_rss_mib']} | {_bins_line(r['bins'])} | {_flat(r['bins'])} |")
        c = b["check"]
        print(f"\nevery trial present and COMPLETED: {'PASS' if c['pass'] else 'FAIL'} "
              f"(store {c['store_completed']}/{c['store_trials']}, results.csv {c['csv_completed']}/"
              f"{c['csv_rows']}, same ids {c['same_ids']})")
    if "c" in report:
        uses = report["c"]
        bare = uses["bare loop"]
        print(f"\n(c) slot use, {args.slot_trials} trials of 0.2 s on 2 slots, timed by the scripts, "
              f"{args.repeats} interleaved repeats\n")
        print("| method | slot use (median) | runs | ratio to the bare loop (median of per-repeat ratios) |")
        print("|---|---|---|---|")
        for name, values in uses.items():
            ratios = [v / b0 for v, b0 in zip(values, bare)]
            print(f"| {name} | {statistics.median(values) * 100:.1f} % | "
                  f"{', '.join(f'{v * 100:.1f}' for v in values)} | {statistics.median(ratios):.3f} |")
        if GAPS:
            report["c_gaps"], report["c_bare_gaps"] = GAPS, BARE_GAPS
            print("\nbare loop, mean ms per hand-over on a slot, and from a trial's birth to its first line: "
                  + ", ".join(f"{g['hand-over']:.1f} / {g['born -> script start']:.1f}" for g in BARE_GAPS))
            print("\nhpsweep, mean ms per hand-over on a slot (one row per repeat)\n")
            print("| " + " | ".join(GAPS[0]) + " |")
            print("|" + "---|" * len(GAPS[0]))
            for row in GAPS:
                print("| " + " | ".join(f"{v:.1f}" for v in row.values()) + " |")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
