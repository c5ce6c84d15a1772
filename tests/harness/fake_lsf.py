"""A fake LSF: ``bsub``, ``bjobs`` and ``bkill`` as small Python scripts on PATH.

``bsub`` records its arguments, gives the job a number and runs the job script on this machine in
the background (a runner process waits for it and writes its exit status); ``bjobs`` answers from
that state in LSF's format; ``bkill`` sends SIGTERM to the job. :meth:`FakeLsf.lose` kills a job
the hard way and makes ``bjobs`` say ``UNKWN``, as when its host stops answering.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FakeLsf", "install_fake_lsf", "main"]

_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FakeLsf:
    bin_dir: Path
    state: Path

    def calls(self, tool: str | None = None) -> list[list[str]]:
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [r["argv"] for r in rows if tool is None or r["tool"] == tool]

    def lose(self, job_id: str) -> None:
        (self.state / f"{job_id}.lost").write_text("lost")
        _kill_job(self.state, job_id, signal.SIGKILL, with_children=True)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def install_fake_lsf(base: Path) -> FakeLsf:
    """Write the three tools into ``base/bin`` (state in ``base/state``)."""
    bin_dir, state = base / "bin", base / "state"
    bin_dir.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)
    for tool in ("bsub", "bjobs", "bkill"):
        script = bin_dir / tool
        script.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(_ROOT)!r})\n"
            "from tests.harness.fake_lsf import main\n"
            f"sys.exit(main({tool!r}, {str(state)!r}, sys.argv[1:]))\n"
        )
        script.chmod(0o755)
    return FakeLsf(bin_dir=bin_dir, state=state)


def _record(state: Path, tool: str, argv: list[str]) -> None:
    with (state / "calls.jsonl").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps({"tool": tool, "argv": argv}) + "\n")


def _next_id(state: Path) -> str:
    with (state / "counter").open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        value = int(fh.read().strip() or "100") + 1
        fh.seek(0)
        fh.truncate()
        fh.write(str(value))
    return str(value)


def _options(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        opts[argv[i]] = argv[i + 1]
        i += 2
    return opts, argv[i:]


def _bsub(state: Path, argv: list[str]) -> int:
    opts, command = _options(argv)
    if not command:
        print("bsub: no command", file=sys.stderr)
        return 255
    job_id = _next_id(state)
    job = {"id": job_id, "command": command, "out": opts.get("-o"), "cwd": opts.get("-cwd"),
           "name": opts.get("-J")}
    (state / f"{job_id}.json").write_text(json.dumps(job))
    subprocess.Popen(
        [sys.executable, "-c",
         f"import sys; sys.path.insert(0, {str(_ROOT)!r}); "
         "from tests.harness.fake_lsf import main; "
         f"main('_run', {str(state)!r}, [{job_id!r}])"],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"Job <{job_id}> is submitted to queue <normal>.")
    return 0


def _run(state: Path, job_id: str) -> int:
    job = json.loads((state / f"{job_id}.json").read_text())
    out = open(job["out"], "ab") if job["out"] else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(["bash", *job["command"]], cwd=job["cwd"], stdout=out, stderr=out,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    (state / f"{job_id}.pid").write_text(str(proc.pid))
    code = proc.wait()
    (state / f"{job_id}.status").write_text(str(code))
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stat(state: Path, job_id: str) -> str | None:
    if not (state / f"{job_id}.json").exists():
        return None
    if (state / f"{job_id}.lost").exists():
        return "UNKWN"
    status = state / f"{job_id}.status"
    if status.exists():
        return "DONE" if status.read_text().strip() == "0" else "EXIT"
    pid_file = state / f"{job_id}.pid"
    if not pid_file.exists():
        return "PEND"
    return "RUN" if _alive(int(pid_file.read_text())) else "EXIT"


def _bjobs(state: Path, argv: list[str]) -> int:
    opts, ids = _options([a for a in argv if a not in ("-noheader", "-a")])
    if "-J" in opts:
        for path in sorted(state.glob("*.json")):
            if json.loads(path.read_text()).get("name") == opts["-J"]:
                print(path.stem)
        return 0
    missing = False
    for job_id in ids:
        stat = _stat(state, job_id)
        if stat is None:
            print(f"Job <{job_id}> is not found", file=sys.stderr)
            missing = True
        else:
            print(f"{job_id}|{stat}")
    return 255 if missing else 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry.name))
    return out


def _kill_job(state: Path, job_id: str, sig: int, *, with_children: bool = False) -> None:
    try:
        pid = int((state / f"{job_id}.pid").read_text())
    except (OSError, ValueError):
        return
    if with_children:
        for child in _children(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, sig)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _bkill(state: Path, argv: list[str]) -> int:
    for job_id in argv:
        _kill_job(state, job_id, signal.SIGTERM)
        print(f"Job <{job_id}> is being terminated")
    return 0


def main(tool: str, state_dir: str, argv: list[str]) -> Any:
    state = Path(state_dir)
    if tool != "_run":
        _record(state, tool, argv)
    handlers = {"bsub": _bsub, "bjobs": _bjobs, "bkill": _bkill}
    if tool == "_run":
        return _run(state, argv[0])
    return handlers[tool](state, argv)
