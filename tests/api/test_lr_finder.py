"""LearningRateFinder on a small real PyTorch model and synthetic data (seed 004's gate)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpsweep.errors import UsageError

torch = pytest.importorskip("torch")

from hpsweep.api import LearningRateFinder, LRFinderConfig, LRFinderResult  # noqa: E402
from hpsweep.api.lr_finder import suggest_range  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> object:
    """Tiny models run fastest on one thread; more only contend on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield None
    torch.set_num_threads(threads)


def make_data(seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1024, 16, generator=gen)
    w = torch.randn(16, 4, generator=gen)
    y = (x @ w + 0.3 * torch.randn(1024, 4, generator=gen)).argmax(dim=1)
    return [(x[i:i + 64], y[i:i + 64]) for i in range(0, 1024, 64)]


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))


@pytest.fixture(scope="module")
def finished() -> tuple[LearningRateFinder, LRFinderResult, dict[str, torch.Tensor]]:
    model = make_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    finder = LearningRateFinder(model, torch.optim.SGD, LRFinderConfig(start_lr=1e-5, end_lr=50.0,
                                                                        num_steps=120))
    result = finder.find(make_data(), torch.nn.functional.cross_entropy)
    return finder, result, before


def test_the_curve_is_finite_and_smooth(finished: tuple[LearningRateFinder, LRFinderResult,
                                                         dict[str, torch.Tensor]]) -> None:
    _, result, _ = finished
    losses = np.asarray(result.losses)
    raw = np.asarray(result.raw_losses)
    assert len(losses) >= 20 and np.all(np.isfinite(losses))
    # Smooth: the smoothed curve moves far less from step to step than the raw loss does.
    assert np.abs(np.diff(losses)).mean() < 0.5 * np.abs(np.diff(raw)).mean()
    # The learning rates grow geometrically from start_lr.
    ratios = np.diff(np.log(result.lrs))
    assert result.lrs[0] == pytest.approx(1e-5)
    assert np.allclose(ratios, ratios[0])
    # The loss falls somewhere: a real range test, not a flat line.
    assert losses.min() < 0.9 * losses[0]


def test_the_suggestion_lies_strictly_inside_the_range(finished: tuple[
        LearningRateFinder, LRFinderResult, dict[str, torch.Tensor]]) -> None:
    finder, result, _ = finished
    low, high = finder.suggested_lr()
    assert math.isfinite(low) and math.isfinite(high)
    assert 1e-5 < low < high < 50.0
    assert result.lrs[0] < low and high < result.lrs[-1]
    # The suggested maximum sits below the lowest-loss learning rate (the edge of instability).
    assert high <= result.best_lr


def test_divergence_stops_the_sweep_early(finished: tuple[LearningRateFinder, LRFinderResult,
                                                          dict[str, torch.Tensor]]) -> None:
    _, result, _ = finished
    assert result.diverged
    assert len(result.lrs) < 120
    assert result.losses[-1] > result.config.divergence_threshold * min(result.losses)


def test_the_model_is_restored_afterwards(finished: tuple[LearningRateFinder, LRFinderResult,
                                                          dict[str, torch.Tensor]]) -> None:
    finder, _, before = finished
    after = finder.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_an_optimizer_instance_gets_its_state_back() -> None:
    model = make_model(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = make_data(1)
    # Give the optimizer some state of its own first.
    for x, y in data[:3]:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    state = {k: v.clone() for k, v in optimizer.state_dict()["state"][0].items()
             if isinstance(v, torch.Tensor)}
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    model.eval()
    finder = LearningRateFinder(model, optimizer, LRFinderConfig(num_steps=30, end_lr=1.0))
    finder.find(data, torch.nn.functional.cross_entropy)
    after = optimizer.state_dict()
    assert all(torch.equal(state[k], after["state"][0][k]) for k in state)
    assert after["param_groups"][0]["lr"] == 1e-3
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert not model.training  # the training flag is put back too


def test_plot_is_a_figure_with_the_curve(finished: tuple[LearningRateFinder, LRFinderResult,
                                                         dict[str, torch.Tensor]]) -> None:
    from matplotlib.figure import Figure

    finder, result, _ = finished
    fig = finder.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    smoothed = [line for line in ax.get_lines() if line.get_label() == "smoothed loss"]
    assert smoothed and np.allclose(smoothed[0].get_ydata(), result.losses)


def test_suggest_range_on_a_textbook_curve() -> None:
    lrs = np.geomspace(1e-6, 1.0, 61)
    x = np.log10(lrs)
    losses = 2.0 - 1.5 / (1 + np.exp(-3 * (x + 3))) + np.where(x > -1, 5 * (x + 1) ** 2, 0.0)
    low, high = suggest_range(lrs, losses)
    assert lrs[0] < low < high < lrs[-1]
    assert 10 ** -3.5 < low < 10 ** -2.5  # steepest descent at 1e-3
    assert high == pytest.approx(lrs[int(np.argmin(losses))] / 10, rel=1e-6)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"start_lr": 0.0}, "start_lr"),
    ({"start_lr": 1.0, "end_lr": 0.1}, "below end_lr"),
    ({"num_steps": 2}, "num_steps"),
    ({"smooth_factor": 0.0}, "smooth_factor"),
    ({"divergence_threshold": 1.0}, "divergence_threshold"),
])
def test_bad_settings_are_usage_errors(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        LRFinderConfig(**kwargs)  # type: ignore[arg-type]


def test_bad_inputs_are_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"torch\.nn\.Module"):
        LearningRateFinder(object(), torch.optim.SGD, LRFinderConfig())
    with pytest.raises(UsageError, match="optimizer_cls"):
        LearningRateFinder(make_model(), dict, LRFinderConfig())
    finder = LearningRateFinder(make_model(), torch.optim.SGD, LRFinderConfig())
    with pytest.raises(UsageError, match="find"):
        finder.suggested_lr()
    with pytest.raises(UsageError, match="no batch"):
        finder.find([], torch.nn.functional.cross_entropy)


def test_the_plot_is_scaled_to_the_smoothed_descent(finished: tuple[LearningRateFinder, LRFinderResult,
                                                                    dict[str, torch.Tensor]]) -> None:
    """The raw loss spikes where the sweep diverges; the picture is scaled to the smoothed curve
    up to its minimum, so the part a user reads is not squeezed into a flat line."""
    finder, result, _ = finished
    low, high = finder.plot().axes[0].get_ylim()
    best = int(np.argmin(result.losses))
    assert low <= min(result.losses) and high >= max(result.losses[: best + 1])
    assert high < max(result.raw_losses)  # the spike is cut off, not the scale
