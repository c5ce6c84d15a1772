"""Reading a trial's log files for the dashboard without ever leaving the study folder."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PathRefused", "resolve_inside", "tail"]

MAX_TAIL = 1 << 20


class PathRefused(Exception):
    """A requested file lies outside the study folder or is not a plain file."""


def resolve_inside(root: Path, relative: str) -> Path:
    """``root / relative`` with links and ``..`` resolved; refuses anything outside ``root``."""
    if not relative or "\x00" in relative:
        raise PathRefused("empty or malformed path")
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise PathRefused(f"path {relative!r} must be relative to the study folder, without '..'")
    base = root.resolve()
    target = (base / candidate).resolve()
    if target != base and base not in target.parents:
        raise PathRefused(f"path {relative!r} leads outside the study folder")
    if not target.is_file():
        raise FileNotFoundError(relative)
    return target


def tail(path: Path, limit: int) -> tuple[str, int]:
    """The last ``limit`` bytes of ``path`` as text, and the file's full size."""
    limit = max(0, min(limit, MAX_TAIL))
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - limit))
        data = fh.read(limit)
    return data.decode("utf-8", errors="replace"), size
