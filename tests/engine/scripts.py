"""Small training scripts with known behaviour, used by the end-to-end tests."""

QUADRATIC = """
import argparse, hpsweep
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--y", type=float, default=0.0)
a = p.parse_args()
for step in (1, 2):
    hpsweep.report(step=step, loss=(a.x - 2.0) ** 2 + (a.y + 1.0) ** 2 + 1.0 / step)
"""

CHANNELS = """
import argparse, json, os, pathlib, sys
p = argparse.ArgumentParser()
p.add_argument("--channel")
p.add_argument("--out_dir")
a = p.parse_args()
value = {"report": 1.0, "marker": 2.0, "tune": 3.0, "regex": 4.0, "kv": 5.0, "json": 6.0, "yaml": 7.0}[a.channel]
if a.channel == "report":
    import hpsweep
    hpsweep.report(step=1, loss=value)
elif a.channel == "marker":
    print("[hpsweep] " + json.dumps({"step": 1, "loss": value}))
elif a.channel == "tune":
    print("[tune-metric]: " + json.dumps({"epoch": 1, "loss": value}))
elif a.channel == "regex":
    print(f"epoch 1 done, loss={value} (so far)")
else:
    out = pathlib.Path(a.out_dir)
    if a.channel == "kv":
        (out / "summary.txt").write_text(f"loss {value}\\nfinished 1\\n")
    elif a.channel == "json":
        (out / "summary.json").write_text(json.dumps({"loss": value}))
    else:
        (out / "summary.yaml").write_text(f"loss: {value}\\n")
"""

BEHAVIOURS = """
import argparse, hpsweep, time, sys
p = argparse.ArgumentParser()
p.add_argument("--kind")
a = p.parse_args()
if a.kind == "ok":
    hpsweep.report(step=1, loss=0.5)
elif a.kind == "crash":
    print("boom: something broke", file=sys.stderr)
    sys.exit(3)
elif a.kind == "nan":
    hpsweep.report(step=1, loss=float("nan"))
elif a.kind == "silent":
    print("no metric here")
elif a.kind == "hang":
    time.sleep(600)
"""

# Sleeps, records its process group, then reports; used by kill/resume tests.
SLOW = """
import argparse, os, time, hpsweep, pathlib
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
p.add_argument("--pgids")
p.add_argument("--sleep", type=float, default=0.6)
a = p.parse_args()
with open(a.pgids, "a") as fh:
    fh.write(f"{os.getpgid(0)}\\n")
time.sleep(a.sleep)
hpsweep.report(step=1, loss=float(a.x))
"""
