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

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from hpsweep._faults import kill_point
from hpsweep.errors import StudyError, StudyLockedError

__all__ = ["StudyDir", "write_failure"]

_FULL = (errno.ENOSPC, errno.EDQUOT)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def write_failure(path: str | Path, exc: BaseException, study: str | Path | None = None
                  ) -> StudyError:
    """A clear error for a failed write of ``path`` (the disk is full, the folder is read-only,
    the folder cannot be made) that says what to do."""
    target = Path(path)
    where = Path(study) if study is not None else target.parent
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in _FULL or "disk is full" in text or "disk quota" in text:
        return StudyError(
            f"cannot write {target}: the disk is full. What was stored before is kept; free space "
            f"on the disk that holds {where}, then `hpsweep resume {where}` continues the study.")
    if code in _READ_ONLY or "readonly" in text or "read-only" in text:
        return StudyError(
            f"cannot write {target}: {getattr(exc, 'strerror', None) or exc} (the folder is "
            f"read-only). Readers (report, status, ls, export, plot, dashboard) still work; to run "
            f"or resume, make {where} writable or copy the study to a writable folder.")
    return StudyError(f"cannot write {target}: {getattr(exc, 'strerror', None) or exc}; choose "
                      "a folder that can be created and written (--out).")


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
        if self.creation_unfinished():
            raise StudyError(
                f"{self.root} has sweep.json but no study.db: its controller stopped while "
                f"creating the study, before any trial ran. `hpsweep resume {self.root}` "
                "finishes creating it and runs the sweep.")
        if not self.exists():
            raise StudyError(f"{self.root} is not an hpsweep study folder (no study.db in it).")
        return self

    def creation_unfinished(self) -> bool:
        """``sweep.json`` was written but ``study.db`` was not (the controller died between)."""
        return self.sweep_file.is_file() and not self.exists()

    def finish_creation(self) -> None:
        """Create the missing store of a study whose ``sweep.json`` exists (the caller holds the
        lock); nothing when the store exists."""
        if not self.creation_unfinished():
            return
        from hpsweep.store._sqlite import Store

        options = dict(self.read_sweep().get("options") or {})
        store = Store.create(self.db, name=options.get("name") or self.root.name,
                             spec={"options": options})
        try:
            store.set_meta("seed", options.get("seed"))
        finally:
            store.close()

    def read_sweep(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.sweep_file.read_text()))
        except FileNotFoundError as exc:
            raise StudyError(f"{self.sweep_file} is missing: this study cannot be resumed.") from exc
        except json.JSONDecodeError as exc:
            raise StudyError(f"{self.sweep_file} is not valid JSON: {exc}") from exc

    def write_sweep(self, sweep: dict[str, Any]) -> None:
        kill_point("before-study")
        tmp = self.sweep_file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(sweep, indent=2, default=str))
            os.replace(tmp, self.sweep_file)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise write_failure(self.sweep_file, exc, self.root) from None
        kill_point("after-sweep")

    # -- the controller lock ---------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the controller lock or raise StudyLockedError naming the holder.

        The lock is an ``flock`` on ``controller.lock``: the kernel drops it when the holder dies,
        so a stale lock from a killed controller is simply taken over.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fh = self.lock_file.open("a+")
        except OSError as exc:
            raise write_failure(exc.filename or self.lock_file, exc, self.root) from None
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
        """True when a live controller holds the study. Opens the lock file for reading only
        (a shared lock test), so it works on a read-only study folder."""
        try:
            fh = self.lock_file.open("r")
        except OSError:  # missing (never run, or not a study) or unreadable
            return False
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            except OSError:
                return False
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False
