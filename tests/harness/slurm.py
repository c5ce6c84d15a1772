"""Start and stop a real single-node Slurm (munged, slurmctld, slurmd) on localhost.

Everything lives in one temporary folder: the munge key and socket, a generated ``slurm.conf``
and ``cgroup.conf``, spool and state folders, logs and pid files. The daemons listen on free
loopback ports, so a Slurm already installed on the machine is left alone. Client commands find
the cluster through ``SLURM_CONF`` (see :attr:`SlurmCluster.env`).

Needs Debian's ``slurm-wlm`` and ``munge`` packages (``apt-get install -y slurm-wlm munge``).

Example (as a pytest fixture, see ``tests/executors/conftest.py``)::

    with start_slurm(tmp_path, cpus=4) as cluster:
        subprocess.run(["sinfo"], env=cluster.env, check=True)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SlurmCluster", "SlurmUnavailable", "missing_slurm_programs", "start_slurm"]

NODE_NAME = "hpsweep-node"
PARTITION = "debug"
_PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")


class SlurmUnavailable(RuntimeError):
    """Slurm cannot be started on this machine (the message says why)."""


@dataclass(frozen=True)
class SlurmCluster:
    """A running local Slurm: its config file, the environment for client commands, its parts."""

    root: Path
    conf: Path
    node: str
    partition: str
    cpus: int
    env: dict[str, str] = field(default_factory=dict)

    def scontrol(self, *args: str) -> str:
        done = subprocess.run(
            ["scontrol", *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def node_state(self) -> str:
        out = subprocess.run(
            ["sinfo", "-h", "-n", self.node, "-o", "%T"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip()

    def set_node_down(self, reason: str = "test") -> None:
        self.scontrol("update", f"nodename={self.node}", "state=down", f"reason={reason}")

    def resume_node(self, timeout: float = 30.0) -> None:
        # fails harmlessly when the node already came back by itself (ReturnToService=2)
        subprocess.run(["scontrol", "update", f"nodename={self.node}", "state=resume"],
                       env=self.env, capture_output=True, check=False)
        _wait_idle(self, timeout)


def missing_slurm_programs() -> list[str]:
    """The Slurm/munge programs not found on PATH (or in /usr/sbin)."""
    return [p for p in _PROGRAMS if _which(p) is None]


def _which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _slurm_conf(root: Path, *, cpus: int, ports: list[int], munge_socket: Path) -> str:
    user = os.environ.get("USER") or "root"
    lines = [
        "ClusterName=hpsweep",
        "SlurmctldHost=localhost(127.0.0.1)",
        f"SlurmctldPort={ports[0]}",
        f"SlurmdPort={ports[1]}",
        f"SlurmUser={user}",
        f"SlurmdUser={user}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={munge_socket}",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'slurmctld.log'}",
        f"SlurmdLogFile={root / 'slurmd.log'}",
        "SlurmctldDebug=info",
        "SlurmdDebug=info",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "MpiDefault=none",
        "SwitchType=switch/none",
        "SchedulerType=sched/builtin",
        "SchedulerParameters=sched_interval=1,sched_min_interval=100000",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "SlurmdParameters=config_overrides",
        "ReturnToService=2",
        "MinJobAge=600",
        "KillWait=2",
        "InactiveLimit=0",
        "SlurmctldTimeout=30",
        "SlurmdTimeout=30",
        "MessageTimeout=10",
        (
            f"NodeName={NODE_NAME} NodeAddr=127.0.0.1 NodeHostname={socket.gethostname()} "
            f"CPUs={cpus} RealMemory=4096 State=UNKNOWN"
        ),
        f"PartitionName={PARTITION} Nodes={NODE_NAME} Default=YES MaxTime=INFINITE State=UP",
    ]
    return "\n".join(lines) + "\n"


def _start_munge(root: Path) -> tuple[Path, Path]:
    munge_dir = root / "munge"
    munge_dir.mkdir(mode=0o700)
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    sock = munge_dir / "munge.socket"
    pid_file = munge_dir / "munged.pid"
    subprocess.run(
        [
            _which("munged") or "munged",
            "--force",
            f"--key-file={key}",
            f"--socket={sock}",
            f"--pid-file={pid_file}",
            f"--log-file={munge_dir / 'munged.log'}",
            f"--seed-file={munge_dir / 'munged.seed'}",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return sock, pid_file


def _wait_idle(cluster: SlurmCluster, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = cluster.node_state()
        if state in ("idle", "mixed", "allocated"):
            return
        time.sleep(0.25)
    raise SlurmUnavailable(
        f"node {cluster.node} did not become idle in {timeout} s (state {state!r})"
    )


def _kill_pid_file(pid_file: Path, timeout: float = 10.0) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def start_slurm(base: Path, *, cpus: int = 4, timeout: float = 60.0) -> Iterator[SlurmCluster]:
    """Start munged, slurmctld and slurmd under ``base``; stop them all on exit.

    Raises :class:`SlurmUnavailable` when a program is missing or a daemon does not come up.
    """
    missing = missing_slurm_programs()
    if missing:
        raise SlurmUnavailable(
            f"missing programs {missing}; install them with: apt-get install -y slurm-wlm munge"
        )
    root = Path(base).resolve()
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool"):
        (root / sub).mkdir(exist_ok=True)
    pid_files: list[Path] = []
    try:
        cluster = _start_daemons(root, cpus=cpus, timeout=timeout, pid_files=pid_files)
    except BaseException:
        for pid_file in reversed(pid_files):
            _kill_pid_file(pid_file)
        raise
    try:
        yield cluster
    finally:
        _cancel_all(cluster)
        for pid_file in reversed(pid_files):
            _kill_pid_file(pid_file)


def _cancel_all(cluster: SlurmCluster, timeout: float = 15.0) -> None:
    """Cancel every job and wait until none is left running, so no job process outlives Slurm."""
    user = os.environ.get("USER") or "root"
    subprocess.run(["scancel", "-u", user], env=cluster.env, capture_output=True, check=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            ["squeue", "-h", "-t", "RUNNING,COMPLETING,PENDING", "-o", "%i"],
            env=cluster.env, capture_output=True, text=True, check=False,
        )
        if out.returncode != 0 or not out.stdout.strip():
            return
        time.sleep(0.2)


def _start_daemons(root: Path, *, cpus: int, timeout: float, pid_files: list[Path]) -> SlurmCluster:
    try:
        munge_socket, munge_pid = _start_munge(root)
        pid_files.append(munge_pid)
        conf = root / "slurm.conf"
        ports = _free_ports(2)
        conf.write_text(_slurm_conf(root, cpus=cpus, ports=ports, munge_socket=munge_socket))
        (root / "cgroup.conf").write_text("CgroupPlugin=cgroup/v1\nIgnoreSystemd=yes\n")
        env = {**os.environ, "SLURM_CONF": str(conf)}
        cluster = SlurmCluster(
            root=root, conf=conf, node=NODE_NAME, partition=PARTITION, cpus=cpus, env=env
        )
        pid_files.append(root / "slurmctld.pid")
        subprocess.run(
            [_which("slurmctld") or "slurmctld", "-c", "-f", str(conf)],
            env=env, check=True, capture_output=True, timeout=30,
        )
        pid_files.append(root / "slurmd.pid")
        subprocess.run(
            [_which("slurmd") or "slurmd", "-N", NODE_NAME, "-f", str(conf)],
            env=env, check=True, capture_output=True, timeout=30,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise SlurmUnavailable(
            f"could not start Slurm: {exc}\n{_log_tail(root / 'slurmctld.log')}\n"
            f"{_log_tail(root / 'slurmd.log')}"
        ) from None
    try:
        _wait_idle(cluster, timeout)
    except SlurmUnavailable as exc:
        raise SlurmUnavailable(
            f"{exc}\nslurmctld.log:\n{_log_tail(root / 'slurmctld.log')}\n"
            f"slurmd.log:\n{_log_tail(root / 'slurmd.log')}"
        ) from None
    return cluster
