"""From a trial to a process: the command line, its files, its environment and its manifest."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hpsweep.executors.base import LaunchSpec, Slot
from hpsweep.space import Sweep, TrialContext, format_option
from hpsweep.store import StudyDir
from hpsweep.trial import TrialRecord

__all__ = ["CommandLauncher", "ContractArgs", "git_info"]


@dataclass(frozen=True)
class ContractArgs:
    """Options of the user's script that carry hpsweep's side of the contract (None: not passed)."""

    out_dir_arg: str | None = None  # e.g. "out_dir" -> --out_dir=<trial_dir>
    seed_arg: str | None = None  # e.g. "seed" -> --seed=<trial seed>
    resource_arg: str | None = None  # e.g. "epochs" -> --epochs=<target budget>


@lru_cache(maxsize=32)
def git_info(directory: str) -> dict[str, Any]:
    """The git commit and dirty flag of the repository holding ``directory`` (empty if none)."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", directory, *args], capture_output=True, text=True,
                                  timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status), "root": git("rev-parse", "--show-toplevel")}


def _script_dir(argv: list[str], cwd: str) -> str:
    """The folder of the first argument that names an existing file (the user's script)."""
    for token in argv:
        if token and not token.startswith("-"):
            folder = _file_folder(cwd, token)
            if folder is not None:
                return folder
    return cwd


@lru_cache(maxsize=256)
def _file_folder(cwd: str, token: str) -> str | None:
    """The resolved folder of ``token`` when it names a file (looked up once per study)."""
    path = Path(cwd, token)
    return str(path.resolve().parent) if path.is_file() else None


class CommandLauncher:
    """Builds each run of a trial from the frozen :class:`Sweep`."""

    def __init__(self, *, sweep: Sweep, study: StudyDir, cwd: str, contract: ContractArgs,
                 study_seed: int) -> None:
        self.sweep = sweep
        self.study = study
        self.cwd = cwd
        self.contract = contract
        self.study_seed = study_seed
        # running trial -> its manifest, and its values as encoded at the start
        self._manifests: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}

    def build(self, trial: TrialRecord, slot: Slot, *, resume: bool,
              checkpoint_from: TrialRecord | None) -> LaunchSpec:
        trial_dir = self.study.trial_dir(trial.trial_id)
        checkpoint = trial_dir / "checkpoint"
        checkpoint.mkdir(parents=True, exist_ok=True)
        if checkpoint_from is not None:  # PBT's exploit: continue from a better trial's state
            source = Path(checkpoint_from.trial_dir) / "checkpoint"
            shutil.rmtree(checkpoint, ignore_errors=True)
            if source.is_dir():
                shutil.copytree(source, checkpoint)
            else:
                checkpoint.mkdir(parents=True, exist_ok=True)
        ctx = TrialContext(trial_id=trial.trial_id, trial_dir=str(trial_dir),
                           worker_id=slot.worker_id, seed=trial.seed, resource=trial.resource)
        rendered = self.sweep.render(trial.config, ctx)
        argv = list(rendered.argv)
        style = self.sweep.style
        for name, value in ((self.contract.out_dir_arg, str(trial_dir)),
                            (self.contract.seed_arg, trial.seed),
                            (self.contract.resource_arg, trial.resource)):
            if name and value is not None:
                argv += format_option(name, value, style)
        for rel, text in rendered.files.items():
            target = trial_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        env = {
            "HPSWEEP_STUDY_DIR": str(self.study.root),
            "HPSWEEP_TRIAL_ID": str(trial.trial_id),
            "HPSWEEP_TRIAL_DIR": str(trial_dir),
            "HPSWEEP_WORKER_ID": str(slot.worker_id),
            "HPSWEEP_CHECKPOINT_DIR": str(checkpoint),
            "HPSWEEP_REPORT_FILE": str(trial_dir / "reports.jsonl"),
            "HPSWEEP_CONFIG": json.dumps(trial.config, default=str),
        }
        if trial.seed is not None:
            env["HPSWEEP_SEED"] = str(trial.seed)
        if trial.resource is not None:
            env["HPSWEEP_RESOURCE"] = str(trial.resource)
        self._write_manifest(trial, trial_dir, argv, slot, resume)
        return LaunchSpec(trial_id=trial.trial_id, argv=tuple(argv), trial_dir=str(trial_dir),
                          env=env, cwd=self.cwd, resource=trial.resource, config=dict(trial.config))

    def _write_manifest(self, trial: TrialRecord, trial_dir: Path, argv: list[str], slot: Slot,
                        resume: bool) -> None:
        path = trial_dir / "manifest.json"
        previous: dict[str, Any] = {}
        if resume and path.is_file():
            try:
                previous = json.loads(path.read_text())
            except json.JSONDecodeError:
                previous = {}
        from hpsweep import __version__

        # The run's span as the tuner keeps it (results.csv's duration_s): its start, and its end
        # in finished(), on the tuner's clock.
        began = trial.run_info.get("run_started")
        started = float(began) if isinstance(began, (int, float)) else time.time()
        manifest = {
            "study": str(self.study.root), "trial_id": trial.trial_id, "config": trial.config,
            "seed": trial.seed, "study_seed": self.study_seed, "repetition": trial.repetition,
            "resource": trial.resource, "argv": argv, "cwd": self.cwd,
            "git": git_info(_script_dir(argv, self.cwd)), "hostname": socket.gethostname(),
            "worker_id": slot.worker_id, "gpu": slot.gpu,
            "python": platform.python_version(), "python_executable": sys.executable,
            "hpsweep": __version__, "started": previous.get("started", started),
            "runs": [*previous.get("runs", []), {"started": started, "resource": trial.resource,
                                                 "argv": argv}],
            "finished": None, "state": "running",
        }
        self._manifests[trial.trial_id] = manifest, _write_json(path, manifest)

    def finished(self, trial: TrialRecord) -> None:
        path = Path(trial.trial_dir) / "manifest.json"
        kept = self._manifests.pop(trial.trial_id, None)
        if kept is None:  # started by an earlier controller
            try:
                manifest, encoded = json.loads(path.read_text()), None
            except (OSError, json.JSONDecodeError):
                return
        else:
            manifest, encoded = kept
        now = trial.finished if trial.finished is not None else time.time()
        runs = manifest.get("runs") or []
        if runs and isinstance(runs[-1], dict):
            runs[-1]["finished"] = now  # each run's own span: paused time is not work
        manifest.update(finished=now, state=trial.state.value, exit_code=trial.exit_code,
                        metrics=trial.last_metrics)
        _write_json(path, manifest, encoded)


_quote = json.encoder.encode_basestring_ascii  # the C function json.dumps uses for a str


def _json_value(value: Any) -> str:
    """``json.dumps(value, default=str)``, without its per-call set-up for the common scalars."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    return json.dumps(value, default=str)


_CHANGED_AT_END = ("runs", "finished", "state", "exit_code", "metrics")


def _write_json(path: Path, data: dict[str, Any], encoded: dict[str, str] | None = None,
                ) -> dict[str, str]:
    """Write ``data`` one key a line, each value compact (readable, and written by the C
    encoder: an indent would make json use its pure-Python one, the largest cost of a launch).
    ``encoded``: the values as written at the run's start, of which only those a run's end
    changes are encoded again. Returns the encoded values."""
    if encoded is None:
        encoded = {k: _json_value(v) for k, v in data.items()}
    else:
        encoded.update({k: _json_value(data.get(k)) for k in _CHANGED_AT_END})
    body = ",\n".join(f"  {_quote(k)}: {v}" for k, v in encoded.items())
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("{\n" + body + "\n}\n")
    os.replace(tmp, path)
    return encoded
