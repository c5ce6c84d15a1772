"""The study folder: where everything of one sweep lives, and the lock that keeps one controller.

::

    <study>/
      study.db        the store (every trial, state, config, report, event)
      sweep.json      the frozen sweep: command, space, strategy, options (enough to resume)
      results.csv     rewritten as trials end
      controller.lock held (flock) by the live controller
      trials/<id>/    stdout.log, stderr.log, reports.jsonl, manifest.json, checkpoint/
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from hpsweep.errors import StudyError, StudyLockedError

__all__ = ["StudyDir"]


class StudyDir:
    """Paths of one study folder, and its controller lock."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()
        self._lock_fh: IO[str] | None = None

    db = property(lambda self: self.root / "study.db")
    sweep_file = property(lambda self: self.root / "sweep.json")
    csv = property(lambda self: self.root / "results.csv")
    lock_file = property(lambda self: self.root / "controller.lock")
    trials_root = property(lambda self: self.root / "trials")

    def trial_dir(self, trial_id: int) -> Path:
        return self.trials_root / f"{trial_id:04d}"

    def exists(self) -> bool:
        return self.db.is_file()

    def require(self) -> StudyDir:
        if not self.root.is_dir():
            raise StudyError(f"study folder {self.root} does not exist.")
        if not self.exists():
            raise StudyError(f"{self.root} is not an hpsweep study folder (no study.db in it).")
        return self

    def read_sweep(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.sweep_file.read_text()))
        except FileNotFoundError as exc:
            raise StudyError(f"{self.sweep_file} is missing: this study cannot be resumed.") from exc
        except json.JSONDecodeError as exc:
            raise StudyError(f"{self.sweep_file} is not valid JSON: {exc}") from exc

    def write_sweep(self, sweep: dict[str, Any]) -> None:
        tmp = self.sweep_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(sweep, indent=2, default=str))
        os.replace(tmp, self.sweep_file)

    # -- the controller lock ---------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the controller lock or raise StudyLockedError naming the holder.

        The lock is an ``flock`` on ``controller.lock``: the kernel drops it when the holder dies,
        so a stale lock from a killed controller is simply taken over.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fh = self.lock_file.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown process"
            fh.close()
            raise StudyLockedError(
                f"study {self.root} is held by another live controller ({holder}); wait for it to "
                "finish, stop it, or use another --out."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}))
        fh.flush()
        self._lock_fh = fh

    def release(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def is_locked(self) -> bool:
        """True when a live controller holds the study."""
        if not self.lock_file.exists():
            return False
        with self.lock_file.open("a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False
