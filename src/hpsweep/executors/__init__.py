"""Executors: where and how trial runs happen (local, Ray, Slurm, LSF, simulated, fake)."""

from __future__ import annotations

from typing import Any

__all__ = ["make_remote_executor"]


def make_remote_executor(name: str, **kwargs: Any) -> Any:
    """The ``ray``, ``slurm`` or ``lsf`` executor (see :mod:`hpsweep.executors.remote`)."""
    from hpsweep.executors.remote import make_remote_executor as make

    return make(name, **kwargs)
