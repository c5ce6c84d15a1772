"""BOHB: synchronous Hyperband whose new configurations come from per-budget density models.

For the largest budget with enough observations, the observed configurations (in the unit cube)
are split into the best ``top_fraction`` and the rest, and a product-kernel density is fitted to
each: one kernel per dimension, a normal truncated to ``[0, 1]`` for numeric parameters and an
Aitchison-Aitken kernel for categorical ones. Candidates are drawn from the widened "good"
density, dimension by dimension (a datum of the good set, then a truncated normal around each of
its coordinates), and the one maximising ``l(x) / g(x)`` is started. A share
``random_fraction`` of new configurations is drawn at random from the space.

Departures from the paper (Falkner, Klein and Hutter, "BOHB: Robust and Efficient
Hyperparameter Optimization at Scale", ICML 2018) and from its reference implementation
(hpbandster):

- Kernels are truncated to the box and renormalised there, both when sampling and when
  evaluating ``l`` and ``g`` (hpbandster samples truncated normals but scores with untruncated
  kernels). Nothing is clipped to a bound: a sample never lands on a bound except with
  probability zero, so the search does not pile up in the corners of the box, where surrogate
  benchmarks extrapolate.
- Bandwidths follow the normal reference rule per dimension (``1.06 sd n^(-1/(d+4))``, as
  statsmodels' ``normal_reference``, which hpbandster uses) with a floor ``min_bandwidth``; the
  sampling kernel is ``bandwidth_factor`` times wider (paper: 3).
- Integer parameters are modelled as numbers in the encoded cube (their share of the interval
  is rounded when decoded), not as ordinal kernels.
- The model needs ``2 (d + 1)`` observations at a budget (paper: ``d + 1`` plus two).
- Brackets are run by synchronous Hyperband (see :mod:`hpsweep.schedulers.hyperband`), so
  several bracket runs proceed side by side to keep workers busy (paper: one bracket at a time
  per worker pool).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsweep.schedulers._encode import UnitEncoder, space_params
from hpsweep.schedulers._options import option
from hpsweep.schedulers.hyperband import HyperbandOptions, HyperbandScheduler
from hpsweep.space import Categorical

__all__ = ["BOHBOptions", "BOHBScheduler", "DensityRatioModel"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class _ProductKDE:
    """A product-kernel density over ``[0, 1]^d``: truncated normals and categorical kernels."""

    def __init__(self, points: np.ndarray, choices: Sequence[int], *, min_bandwidth: float) -> None:
        n, d = points.shape
        self.points = points
        self.choices = np.asarray(choices, dtype=int)
        self.cat = self.choices > 0
        sd = points.std(axis=0, ddof=1) if n > 1 else np.zeros(d)
        bw = 1.06 * sd * n ** (-1.0 / (d + 4))
        codes = np.where(self.cat, np.floor(points * np.maximum(self.choices, 1)), points)
        if self.cat.any():  # the rule on the category codes, bounded as Aitchison-Aitken needs
            csd = codes[:, self.cat].std(axis=0, ddof=1) if n > 1 else np.zeros(self.cat.sum())
            k = self.choices[self.cat]
            bw[self.cat] = np.clip(1.06 * csd * n ** (-1.0 / (d + 4)), min_bandwidth, (k - 1) / k)
        self.bandwidth = np.maximum(bw, min_bandwidth)
        self.codes = codes

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """log density of each row of ``x`` [m, d] (the mean of the n product kernels)."""
        from scipy.special import logsumexp

        n = len(self.points)
        total = np.zeros((len(x), n))
        for j in range(x.shape[1]):
            h = self.bandwidth[j]
            if self.cat[j]:
                k = int(self.choices[j])
                xc = np.floor(np.clip(x[:, j], 0.0, 1.0 - 1e-12) * k)
                same = xc[:, None] == self.codes[None, :, j]
                total += np.where(same, math.log1p(-h), math.log(h / max(k - 1, 1)))
                continue
            m = self.points[:, j]
            z = (x[:, j][:, None] - m[None, :]) / h
            mass = _log_mass((0.0 - m) / h, (1.0 - m) / h)
            total += -0.5 * z * z - _LOG_SQRT_2PI - math.log(h) - mass[None, :]
        return np.asarray(logsumexp(total, axis=1) - math.log(n))

    def sample(self, count: int, factor: float, rng: np.random.Generator) -> np.ndarray:
        """``count`` points: a random datum each, then a kernel ``factor`` times wider per dim."""
        centres = self.points[rng.integers(len(self.points), size=count)]
        out = np.empty_like(centres)
        for j in range(centres.shape[1]):
            m = centres[:, j]
            if self.cat[j]:
                k = int(self.choices[j])
                keep = rng.random(count) >= min(self.bandwidth[j] * factor, (k - 1) / k)
                code = np.where(keep, np.floor(np.clip(m, 0.0, 1.0 - 1e-12) * k),
                                rng.integers(k, size=count))
                out[:, j] = (code + 0.5) / k
                continue
            out[:, j] = _truncated_normal(m, self.bandwidth[j] * factor, rng)
        return out


def _truncated_normal(m: np.ndarray, h: float, rng: np.random.Generator) -> np.ndarray:
    """One draw per centre of N(m, h^2) truncated to the open interval (0, 1), by inverting the
    normal CDF; the rare draw that rounding puts on or outside a bound is drawn again."""
    from scipy.special import ndtr, ndtri

    lo, hi = ndtr((0.0 - m) / h), ndtr((1.0 - m) / h)
    out = np.full(len(m), np.nan)
    todo = np.arange(len(m))
    for _ in range(100):
        u = lo[todo] + rng.random(len(todo)) * (hi[todo] - lo[todo])
        x = m[todo] + h * ndtri(u)
        ok = np.isfinite(x) & (x > 0.0) & (x < 1.0)
        out[todo[ok]] = x[ok]
        todo = todo[~ok]
        if not len(todo):
            return out
    out[todo] = m[todo]  # centres that never came back inside: keep the datum itself
    return out


def _log_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a <= b, stable in the tails."""
    from scipy.special import log_ndtr

    lb, la = log_ndtr(b), log_ndtr(a)
    return np.asarray(lb + np.log1p(-np.exp(np.minimum(la - lb, -1e-300))))


class DensityRatioModel:
    """TPE-style ``l(x)/g(x)`` model over points in ``[0, 1]^d`` with signed values (lower=better).

    ``choices[j]`` is the number of categories of dimension ``j`` (0 for a numeric one).
    """

    def __init__(self, *, top_fraction: float = 0.15, bandwidth_factor: float = 3.0,
                 n_candidates: int = 64, min_bandwidth: float = 1e-3,
                 choices: Sequence[int] | None = None) -> None:
        self.top_fraction = top_fraction
        self.bandwidth_factor = bandwidth_factor
        self.n_candidates = n_candidates
        self.min_bandwidth = min_bandwidth
        self.choices = list(choices) if choices is not None else None

    def min_points(self, dim: int) -> int:
        return 2 * (dim + 1)

    def propose(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, dim = x.shape
        choices = self.choices if self.choices is not None else [0] * dim
        order = np.argsort(y, kind="stable")
        n_good = max(dim + 1, math.ceil(self.top_fraction * n))
        good, bad = x[order[:n_good]], x[order[n_good:]]
        if len(bad) < 2:
            bad = x
        l_kde = _ProductKDE(good, choices, min_bandwidth=self.min_bandwidth)
        g_kde = _ProductKDE(bad, choices, min_bandwidth=self.min_bandwidth)
        cand = l_kde.sample(self.n_candidates, self.bandwidth_factor, rng)
        score = l_kde.log_pdf(cand) - g_kde.log_pdf(cand)
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
        self.encoder = UnitEncoder(space_params(self.searcher.space))
        choices = [len(p.choices) if isinstance(p, Categorical) else 0 for p in self.encoder.params]
        self.model = DensityRatioModel(top_fraction=opts.top_fraction,
                                       bandwidth_factor=opts.bandwidth_factor,
                                       n_candidates=opts.n_candidates, choices=choices)

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
