"""Build a scale-out executor (``ray``, ``slurm``, ``lsf``) from command-line options.

Options arrive as strings (``--executor-option cpus_per_trial=0.5``) or already typed; each is
converted and checked here, and an unknown option is an error that lists the known ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hpsweep.errors import UsageError
from hpsweep.executors.base import Executor
from hpsweep.executors.metrics import MetricParser

__all__ = ["EXECUTOR_OPTIONS", "make_remote_executor"]


def _float(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} {value!r} is not a number; use e.g. {name}=0.5.") from None


def _int(name: str, value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer():
        raise UsageError(f"{name} {value!r} is not a whole number; use e.g. {name}=4.")
    return int(number)


def _bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("auto", ""):
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{name} {value!r}: use true, false or auto.")


def _str(name: str, value: Any) -> str:
    return str(value)


def _resources(name: str, value: Any) -> dict[str, float]:
    if isinstance(value, dict):
        data = value
    else:
        try:
            data = json.loads(str(value))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{name} {value!r} is not JSON; use e.g. "
                             f"{name}='{{\"accelerator_type:A100\": 0.01}}'.") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{name} {value!r} must be a JSON object of resource amounts.")
    return {str(k): _float(f"{name}[{k}]", v) for k, v in data.items()}


_Conv = Callable[[str, Any], Any]
EXECUTOR_OPTIONS: dict[str, dict[str, tuple[str, _Conv]]] = {
    # option name -> (constructor keyword, converter)
    "ray": {
        "ray_address": ("address", _str), "address": ("address", _str),
        "cpus_per_trial": ("cpus_per_trial", _float), "gpus_per_trial": ("gpus_per_trial", _float),
        "resources": ("resources", _resources), "shared_dir": ("shared_dir", _bool),
        "max_concurrent": ("max_concurrent", _int),
    },
    "slurm": {
        "partition": ("partition", _str), "gres": ("gres", _str), "mem": ("mem", _str),
        "time": ("time", _str), "qos": ("qos", _str), "constraint": ("constraint", _str),
        "max_jobs": ("max_jobs", _int), "cpus_per_trial": ("cpus_per_trial", _int),
    },
    "lsf": {
        "lsf_resources": ("resources", _str), "resources": ("resources", _str),
        "time": ("time", _str), "queue": ("queue", _str), "max_jobs": ("max_jobs", _int),
        "cpus_per_trial": ("cpus_per_trial", _int),
    },
}


def _convert(name: str, options: dict[str, Any]) -> dict[str, Any]:
    known = EXECUTOR_OPTIONS[name]
    out: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key not in known:
            raise UsageError(f"--executor {name} has no option {key!r}; known options: "
                             f"{', '.join(sorted(known))}.")
        keyword, conv = known[key]
        out[keyword] = conv(f"--{key.replace('_', '-')}", value)
    return out


def make_remote_executor(
    name: str,
    *,
    parser: MetricParser | None = None,
    summary_file: str | None = None,
    parallel: int | None = None,
    **options: Any,
) -> Executor:
    """The executor called ``name`` with its options; ``parallel`` caps parallel trials."""
    if name not in EXECUTOR_OPTIONS:
        raise UsageError(f"--executor {name!r}: use local, ray, slurm or lsf.")
    kwargs = _convert(name, options)
    common: dict[str, Any] = {"parser": parser, "summary_file": summary_file}
    if name == "ray":
        from hpsweep.executors.ray import RayExecutor

        if parallel is not None:
            kwargs.setdefault("max_concurrent", parallel)
        return RayExecutor(**kwargs, **common)
    if parallel is not None:
        kwargs.setdefault("max_jobs", parallel)
    if name == "slurm":
        from hpsweep.executors.slurm import slurm_executor

        return slurm_executor(**kwargs, **common)
    from hpsweep.executors.lsf import lsf_executor

    return lsf_executor(**kwargs, **common)
