"""BOHB: synchronous Hyperband whose new configurations come from per-budget density models.

For the largest budget with enough observations, the observed configurations (in the unit cube)
are split into the best ``top_fraction`` and the rest; a kernel density (scikit-learn's
``KernelDensity`` on standardized coordinates) is fitted to each, candidates are drawn from the
widened "good" density and the one maximising ``l(x) / g(x)`` is started. A share
``random_fraction`` of new configurations is drawn at random from the space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.neighbors import KernelDensity
from hpsweep.schedulers._encode import UnitEncoder, space_params
from hpsweep.schedulers._options import option
from hpsweep.schedulers.hyperband import HyperbandOptions, HyperbandScheduler

__all__ = ["BOHBOptions", "BOHBScheduler", "DensityRatioModel"]


class DensityRatioModel:
    """TPE-style ``l(x)/g(x)`` model over points in ``[0, 1]^d`` with signed values (lower=better)."""

    def __init__(self, *, top_fraction: float = 0.15, bandwidth_factor: float = 3.0,
                 n_candidates: int = 64) -> None:
        self.top_fraction = top_fraction
        self.bandwidth_factor = bandwidth_factor
        self.n_candidates = n_candidates

    def min_points(self, dim: int) -> int:
        return 2 * (dim + 1)

    @staticmethod
    def _fit(points: np.ndarray, scale: np.ndarray, factor: float) -> KernelDensity:
        from sklearn.neighbors import KernelDensity

        n, d = points.shape
        bandwidth = factor * n ** (-1.0 / (d + 4))  # Scott's rule on standardized data
        return KernelDensity(bandwidth=bandwidth).fit(points / scale)

    def propose(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, dim = x.shape
        order = np.argsort(y, kind="stable")
        n_good = max(dim + 1, math.ceil(self.top_fraction * n))
        good, bad = x[order[:n_good]], x[order[n_good:]]
        scale = np.maximum(x.std(axis=0), 0.05)
        l_kde = self._fit(good, scale, 1.0)
        g_kde = self._fit(bad, scale, 1.0)
        wide = self._fit(good, scale, self.bandwidth_factor)
        seed = int(rng.integers(2**31 - 1))
        cand = np.clip(wide.sample(self.n_candidates, random_state=seed) * scale, 0.0, 1.0)
        score = l_kde.score_samples(cand / scale) - g_kde.score_samples(cand / scale)
        return np.asarray(cand[int(np.argmax(score))])


@dataclass(frozen=True)
class BOHBOptions(HyperbandOptions):
    random_fraction: float = option(1 / 3, "share of new configurations drawn at random",
                                    kind=float, minimum=0.0, maximum=1.0)
    top_fraction: float = option(0.15, "share of observations the good density is fitted to",
                                 kind=float, minimum=0.01, maximum=0.99)
    bandwidth_factor: float = option(3.0, "widening of the good density that candidates are drawn "
                                          "from", kind=float, minimum=0.01)
    n_candidates: int = option(64, "candidates scored per new configuration", minimum=1)


class BOHBScheduler(HyperbandScheduler):
    """Synchronous Hyperband with a density-ratio model per budget for new configurations."""

    name = "bohb"
    Options = BOHBOptions

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        opts: BOHBOptions = self.options  # type: ignore[assignment]
        self.random_fraction = opts.random_fraction
        self.model = DensityRatioModel(top_fraction=opts.top_fraction,
                                       bandwidth_factor=opts.bandwidth_factor,
                                       n_candidates=opts.n_candidates)
        self.encoder = UnitEncoder(space_params(self.searcher.space))

    def _observations(self) -> tuple[int, np.ndarray, np.ndarray] | None:
        """(level, X, y) at the largest rung level with enough observations."""
        need = self.model.min_points(self.encoder.dim)
        for level in reversed(self.plan.levels):
            rows = [(t.config, v) for t in self._trials.values()
                    if (v := t.value_at(level)) is not None and math.isfinite(v)]
            if len(rows) >= need:
                x = self.encoder.encode_many(c for c, _ in rows)
                return level, x, np.array([v for _, v in rows])
        return None

    def _new_config(self, trial_id: int, level: int) -> dict[str, Any] | None:
        rng = self.rng_for(trial_id)
        data = self._observations() if self.encoder.dim else None
        if data is None or rng.random() < self.random_fraction:
            return self.searcher.suggest(trial_id)
        _, x, y = data
        return self.encoder.decode(self.model.propose(x, y, rng))
