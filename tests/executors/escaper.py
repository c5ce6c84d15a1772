"""A trial that starts processes which try to outlive it, then waits or ends.

``escaper.py PIDDIR MODE``: starts three sleepers that each write their own pid to PIDDIR:
one with ``start_new_session=True`` and a cleared environment (only ``PATH``), one through a
double fork (the middle process exits, the grandchild starts a new session), one under the
``setsid`` program. Once all three pid files exist it reports
``loss``; MODE ``end`` exits 0, ``wait`` sleeps until killed.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

piddir = Path(sys.argv[1])
mode = sys.argv[2]
piddir.mkdir(parents=True, exist_ok=True)
sleeper = ("import os, sys, time; p = sys.argv[1]; open(p + '.tmp', 'w').write(str(os.getpid()));"
           " os.replace(p + '.tmp', p); time.sleep(600)")

subprocess.Popen([sys.executable, "-c", sleeper, str(piddir / "session.pid")],
                 start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    if os.fork() == 0:
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", sleeper, str(piddir / "double.pid")])
    os._exit(0)
subprocess.Popen(["setsid", sys.executable, "-c", sleeper, str(piddir / "setsid.pid")],
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.wait()  # the double fork's middle process
deadline = time.monotonic() + 60
while not all((piddir / n).exists() for n in ("session.pid", "double.pid", "setsid.pid")):
    if time.monotonic() > deadline:
        sys.exit(3)
    time.sleep(0.01)
print('[hpsweep] {"step": 1, "loss": 0.5}', flush=True)
if mode == "wait":
    while True:
        time.sleep(60)
