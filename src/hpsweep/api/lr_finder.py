"""Smith's learning-rate range test for PyTorch models (the ``hpsweep[torch]`` extra).

The learning rate grows exponentially from ``start_lr`` to ``end_lr`` over ``num_steps`` training
steps; the loss is smoothed with an exponential moving average and the test stops early when the
smoothed loss exceeds ``divergence_threshold`` times its best value (or is not finite). The
model's weights, the optimizer's state, the training flag and the torch random state are restored
afterwards, so the test leaves no trace.

Example:
    >>> finder = LearningRateFinder(model, torch.optim.SGD, LRFinderConfig())  # doctest: +SKIP
    >>> result = finder.find(train_loader, torch.nn.functional.cross_entropy)  # doctest: +SKIP
    >>> low, high = finder.suggested_lr()  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpsweep.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["LRFinderConfig", "LRFinderResult", "LearningRateFinder", "plot_limits", "suggest_range"]


@dataclass(frozen=True)
class LRFinderConfig:
    """Seed 004's settings: the sweep's range and length, smoothing and divergence rule."""

    start_lr: float = 1e-7
    end_lr: float = 10.0
    num_steps: int = 100
    smooth_factor: float = 0.05  # weight of the newest loss in the moving average
    divergence_threshold: float = 5.0  # stop when smoothed loss > threshold x best loss

    def __post_init__(self) -> None:
        for name in ("start_lr", "end_lr"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise UsageError(
                    f"LRFinderConfig.{name} must be a finite number > 0, got {value!r}."
                )
        if self.start_lr >= self.end_lr:
            raise UsageError(
                f"LRFinderConfig: start_lr ({self.start_lr}) must be below end_lr ({self.end_lr}); "
                "swap them."
            )
        if isinstance(self.num_steps, bool) or not isinstance(self.num_steps, int) \
                or self.num_steps < 5:
            raise UsageError(f"LRFinderConfig.num_steps must be an integer >= 5, got "
                             f"{self.num_steps!r}.")
        if not 0 < self.smooth_factor <= 1:
            raise UsageError(f"LRFinderConfig.smooth_factor must lie in (0, 1], got "
                             f"{self.smooth_factor!r}.")
        if not self.divergence_threshold > 1:
            raise UsageError(f"LRFinderConfig.divergence_threshold must be > 1, got "
                             f"{self.divergence_threshold!r}.")

    def schedule(self) -> np.ndarray:
        """The ``num_steps`` learning rates of the sweep (geometric from start to end)."""
        return np.geomspace(self.start_lr, self.end_lr, self.num_steps)


@dataclass(frozen=True)
class LRFinderResult:
    """One range test: learning rates tried, raw and smoothed losses, and the suggestion."""

    lrs: tuple[float, ...]
    losses: tuple[float, ...]  # smoothed
    raw_losses: tuple[float, ...]
    diverged: bool
    suggestion: tuple[float, float]  # (min_lr, max_lr)
    config: LRFinderConfig

    @property
    def best_lr(self) -> float:
        """The learning rate at the lowest smoothed loss."""
        return self.lrs[int(np.argmin(self.losses))]


def suggest_range(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, float]:
    """``(min_lr, max_lr)`` from a smoothed range-test curve.

    ``max_lr`` is a tenth of the learning rate at the lowest loss (the minimum already sits at
    the edge of instability); ``min_lr`` is the point of steepest descent before the minimum,
    the learning rate at which the loss fell fastest. Both lie strictly inside the swept range
    (between its second and its second-to-last learning rate) and ``min_lr < max_lr``.
    """
    if len(lrs) < 4 or len(lrs) != len(losses):
        raise UsageError(f"suggest_range needs >= 4 points of equal length, got {len(lrs)} "
                         f"learning rates and {len(losses)} losses.")
    log_lr = np.log(lrs)
    low, high = float(log_lr[1]), float(log_lr[-2])
    i_min = int(np.argmin(losses))
    max_log = min(max(float(log_lr[i_min]) - math.log(10.0), low), high)
    slope = np.gradient(losses, log_lr)
    end = max(i_min, 2)
    i_steep = int(np.argmin(slope[:end]))
    min_log = min(max(float(log_lr[i_steep]), low), high)
    if min_log >= max_log:  # the steepest point is at or past max_lr: a decade below it
        min_log = max(max_log - math.log(10.0), low)
    if min_log >= max_log:  # squeezed against the lower edge of the sweep
        max_log = min(min_log + (high - low) / 4, high)
    return float(math.exp(min_log)), float(math.exp(max_log))


def _torch() -> Any:
    """PyTorch, or a clear error naming the extra that installs it."""
    try:
        import torch
    except ImportError:
        raise UsageError("LearningRateFinder needs PyTorch, which is not installed: "
                         "pip install 'hpsweep[torch]' (or install torch yourself).") from None
    return torch


def plot_limits(smoothed: Iterable[float]) -> tuple[float, float] | None:
    """The loss axis of the range test's plot: from the smoothed minimum to a quarter above the
    highest smoothed loss before that minimum, so that the descent fills the picture and neither
    a single raw-loss spike nor the diverging tail squeezes it flat."""
    values = [v for v in smoothed if math.isfinite(v)]
    if len(values) < 2:
        return None
    low_at = int(np.argmin(values))
    low = values[low_at]
    high = max(values[: low_at + 1])
    if high <= low:
        high = max(values)
    span = (high - low) or abs(low) or 1.0
    return low - 0.05 * span, high + 0.25 * span


class LearningRateFinder:
    """Run Smith's range test on ``model``.

    ``optimizer_cls`` is an optimizer class (``torch.optim.SGD``; created with
    ``optimizer_kwargs`` and each step's learning rate) or an optimizer instance already bound to
    the model's parameters (its state is saved and restored).
    """

    def __init__(self, model: Any, optimizer_cls: Any, config: LRFinderConfig | None = None, *,
                 optimizer_kwargs: Mapping[str, Any] | None = None) -> None:
        torch = _torch()

        if not isinstance(model, torch.nn.Module):
            raise UsageError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
        is_instance = isinstance(optimizer_cls, torch.optim.Optimizer)
        if not is_instance and not (isinstance(optimizer_cls, type)
                                    and issubclass(optimizer_cls, torch.optim.Optimizer)):
            raise UsageError(
                "optimizer_cls must be a torch.optim.Optimizer subclass (e.g. torch.optim.SGD) or "
                f"an optimizer instance, got {optimizer_cls!r}."
            )
        self.model = model
        self.optimizer_cls = optimizer_cls
        self.config = config or LRFinderConfig()
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self._result: LRFinderResult | None = None

    @property
    def result(self) -> LRFinderResult | None:
        return self._result

    def find(self, train_loader: Iterable[Any], criterion: Callable[..., Any]) -> LRFinderResult:
        """Sweep the learning rate over batches of ``train_loader`` (cycled when it runs out).

        A batch is ``(inputs, targets)``; the loss is ``criterion(model(inputs), targets)``.
        """
        import torch

        cfg = self.config
        saved_model = copy.deepcopy(self.model.state_dict())
        was_training = self.model.training
        rng_state = torch.get_rng_state()
        optimizer, saved_optimizer = self._optimizer()
        lrs: list[float] = []
        raw: list[float] = []
        smooth: list[float] = []
        diverged = False
        try:
            self.model.train()
            batches = _cycle(train_loader)
            device = _device(self.model)
            best = math.inf
            for lr in cfg.schedule():
                for group in optimizer.param_groups:
                    group["lr"] = float(lr)
                inputs, targets = next(batches)
                loss = self._step(optimizer, criterion, inputs.to(device), targets.to(device))
                if not math.isfinite(loss):
                    diverged = True
                    break
                value = loss if not smooth else cfg.smooth_factor * loss + \
                    (1 - cfg.smooth_factor) * smooth[-1]
                lrs.append(float(lr))
                raw.append(loss)
                smooth.append(value)
                best = min(best, value)
                if value > cfg.divergence_threshold * best:
                    diverged = True
                    break
        finally:
            self.model.load_state_dict(saved_model)
            if saved_optimizer is not None:
                optimizer.load_state_dict(saved_optimizer)
            self.model.train(was_training)
            torch.set_rng_state(rng_state)
        if len(lrs) < 4:
            raise UsageError(
                f"the loss diverged after {len(lrs)} steps, before any learning rate could be "
                f"judged; lower start_lr (now {cfg.start_lr:g}) or check the model and loss."
            )
        suggestion = suggest_range(np.asarray(lrs), np.asarray(smooth))
        self._result = LRFinderResult(lrs=tuple(lrs), losses=tuple(smooth), raw_losses=tuple(raw),
                                      diverged=diverged, suggestion=suggestion, config=cfg)
        return self._result

    def suggested_lr(self) -> tuple[float, float]:
        """``(min_lr, max_lr)`` of the last :meth:`find` (see :func:`suggest_range`)."""
        return self._require().suggestion

    def plot(self) -> Figure:
        """The smoothed (and raw) loss against the learning rate, the suggestion shaded."""
        from matplotlib.figure import Figure

        result = self._require()
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        ax.plot(result.lrs, result.raw_losses, color="0.75", linewidth=0.8, label="loss")
        ax.plot(result.lrs, result.losses, color="C0", label="smoothed loss")
        limits = plot_limits(result.losses)
        if limits is not None:  # the smoothed curve sets the scale; a raw spike is cut off
            ax.set_ylim(*limits)
        low, high = result.suggestion
        ax.axvspan(low, high, color="C2", alpha=0.2, label=f"suggested {low:.2g} to {high:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate range test" + (" (stopped: diverged)" if result.diverged
                                                   else ""))
        ax.legend()
        fig.tight_layout()
        return fig

    # -- internals ------------------------------------------------------------------------------

    def _require(self) -> LRFinderResult:
        if self._result is None:
            raise UsageError("no range test has run yet; call find(train_loader, criterion) first.")
        return self._result

    def _optimizer(self) -> tuple[Any, dict[str, Any] | None]:
        import torch

        if isinstance(self.optimizer_cls, torch.optim.Optimizer):
            return self.optimizer_cls, copy.deepcopy(self.optimizer_cls.state_dict())
        kwargs = {**self.optimizer_kwargs, "lr": self.config.start_lr}
        return self.optimizer_cls(self.model.parameters(), **kwargs), None

    def _step(self, optimizer: Any, criterion: Callable[..., Any], inputs: Any,
              targets: Any) -> float:
        optimizer.zero_grad()
        loss = criterion(self.model(inputs), targets)
        value = float(loss.detach().item())
        if math.isfinite(value):
            loss.backward()
            optimizer.step()
        return value


def _cycle(loader: Iterable[Any]) -> Iterator[Any]:
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise UsageError("train_loader yielded no batch; give it at least one.")


def _device(model: Any) -> Any:
    for param in model.parameters():
        return param.device
    import torch

    return torch.device("cpu")
