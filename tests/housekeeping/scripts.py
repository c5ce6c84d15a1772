"""Small scripts with known behaviour for the housekeeping and trial-contract tests."""

# Binds 127.0.0.1:<base + worker id> for ~0.3 s (a bind error crashes the run), checks that
# --worker-id equals HPSWEEP_WORKER_ID and --seed equals HPSWEEP_SEED, then reports a metric that
# depends on x only, with its port and the time it held it.
PORTS = """
import argparse, json, os, socket, sys, time
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
p.add_argument("--base", type=int)
p.add_argument("--worker-id", type=int)
p.add_argument("--seed", type=int)
a = p.parse_args()
if a.worker_id != int(os.environ["HPSWEEP_WORKER_ID"]):
    sys.exit(f"worker id {a.worker_id} != HPSWEEP_WORKER_ID {os.environ['HPSWEEP_WORKER_ID']}")
if a.seed != int(os.environ["HPSWEEP_SEED"]):
    sys.exit(f"seed {a.seed} != HPSWEEP_SEED {os.environ['HPSWEEP_SEED']}")
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", a.base + a.worker_id))
sock.listen()
t0 = time.time()
time.sleep(0.3)
t1 = time.time()
sock.close()
gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "")
with open(os.path.join(os.environ["HPSWEEP_TRIAL_DIR"], "seen.json"), "w") as fh:
    json.dump({"gpu": gpu, "seed": a.seed, "trial_dir": os.environ["HPSWEEP_TRIAL_DIR"]}, fh)
loss = (a.x - 5) ** 2 / 7.0 + 0.125
print("[hpsweep] " + json.dumps({"step": 1, "loss": loss, "port": a.base + a.worker_id,
                                 "t0": t0, "t1": t1}), flush=True)
"""

# Reports its seed; the metric depends on the configuration only.
SEEDED = """
import argparse, json, os, sys
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
p.add_argument("--seed", type=int)
a = p.parse_args()
if str(a.seed) != os.environ.get("HPSWEEP_SEED"):
    sys.exit("seed argument and HPSWEEP_SEED differ")
print("[hpsweep] " + json.dumps({"step": 1, "loss": float(a.x), "seed_seen": a.seed}), flush=True)
"""

# A checkpointing trainer: continues from $HPSWEEP_CHECKPOINT_DIR/state.json up to --epochs and
# appends "<epoch it started from> <target>" to runs.txt in its trial folder for every run.
CHECKPOINTING = """
import argparse, json, os, pathlib, time
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--epochs", type=int)
a = p.parse_args()
ckpt = pathlib.Path(os.environ["HPSWEEP_CHECKPOINT_DIR"])
state = ckpt / "state.json"
done = json.loads(state.read_text())["epoch"] if state.is_file() else 0
with open(pathlib.Path(os.environ["HPSWEEP_TRIAL_DIR"]) / "runs.txt", "a") as fh:
    fh.write(f"{done} {a.epochs}\\n")
for epoch in range(done + 1, a.epochs + 1):
    time.sleep(0.02)
    (ckpt / "state.tmp").write_text(json.dumps({"epoch": epoch}))
    os.replace(ckpt / "state.tmp", state)
    loss = (a.x - 0.3) ** 2 + 1.0 / epoch
    print("[hpsweep] " + json.dumps({"step": epoch, "loss": loss}), flush=True)
"""

# x == 4 crashes, x == 5 reports NaN, the others report (x - 1)^2.
MIXED = """
import argparse, json, sys
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
a = p.parse_args()
if a.x == 4:
    sys.exit("boom")
loss = float("nan") if a.x == 5 else float((a.x - 1) ** 2)
print("[hpsweep] " + json.dumps({"step": 1, "loss": loss}), flush=True)
"""
