"""A Gaussian-process surrogate of (configuration, budget) -> signed metric, for DyHPO.

Inputs are the configuration in the unit cube plus one budget coordinate (log budget scaled to
[0, 1]). scikit-learn's ``GaussianProcessRegressor`` (Matern 5/2 with one length scale per input,
plus noise) does the work; its kernel hyperparameters are re-optimized on a subsample only every
data snapshots (see :class:`CurveSurrogate`) and reused in between, which keeps a decision at a few milliseconds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel
from threadpoolctl import ThreadpoolController

__all__ = ["CurveSurrogate", "budget_feature", "expected_improvement"]


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: np.ndarray) -> np.ndarray:
    """EI of minimisation below ``best`` (per candidate) under N(mu, sigma^2)."""
    sigma = np.maximum(sigma, 1e-12)
    z = (best - mu) / sigma
    return np.asarray((best - mu) * norm.cdf(z) + sigma * norm.pdf(z))


class CurveSurrogate:
    """GP regression whose kernel hyperparameters are optimized only at given snapshots.

    :meth:`tune` re-optimizes the hyperparameters on a data snapshot identified by ``key``
    (the caller passes the same snapshot for the same key, so a rebuilt scheduler tunes the same
    way); :meth:`fit` conditions the GP with the current hyperparameters on all data.
    """

    def __init__(self, *, dim: int, tune_points: int = 100, tune_iterations: int = 50) -> None:
        self.dim = dim
        self.tune_points = tune_points
        self.tune_iterations = tune_iterations
        self._initial: Kernel = (
            ConstantKernel(1.0, (1e-2, 1e2))
            * Matern(length_scale=np.full(dim, 0.5), length_scale_bounds=(1e-2, 1e2), nu=2.5)
            + WhiteKernel(1e-2, (1e-6, 1e0))
        )
        self._kernel: Kernel = self._initial
        self.tuned_key: int | None = None
        self._threads = ThreadpoolController()
        self._gp: GaussianProcessRegressor | None = None

    def tune(self, key: int, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        finite = np.isfinite(y)
        x, y = x[finite], y[finite]
        self.tuned_key = key
        if len(y) < 3:
            self._kernel = self._initial
            return
        if len(y) > self.tune_points:
            idx = rng.choice(len(y), size=self.tune_points, replace=False)
            x, y = x[idx], y[idx]
        gp = GaussianProcessRegressor(kernel=self._initial, normalize_y=True,
                                      optimizer=self._optimizer, random_state=0)
        with warnings.catch_warnings(), self._threads.limit(limits=1, user_api="blas"):
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(x, y)
        self._kernel = gp.kernel_

    def _optimizer(self, objective: Callable[..., Any], theta: np.ndarray,
                   bounds: np.ndarray) -> tuple[np.ndarray, float]:
        result = minimize(objective, theta, method="L-BFGS-B", jac=True, bounds=bounds,
                          options={"maxiter": self.tune_iterations})
        return np.asarray(result.x), float(result.fun)

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        finite = np.isfinite(y)
        self._gp = GaussianProcessRegressor(kernel=self._kernel, normalize_y=True, optimizer=None)
        with self._threads.limit(limits=1, user_api="blas"):  # small matrices: one thread is faster
            self._gp.fit(x[finite], y[finite])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._gp is None:
            raise RuntimeError("fit() must be called before predict()")
        with self._threads.limit(limits=1, user_api="blas"):
            mu, sd = self._gp.predict(x, return_std=True)
        return np.asarray(mu), np.asarray(sd)


def budget_feature(budget: np.ndarray | float, max_resource: int) -> np.ndarray:
    """log(budget) / log(max) in [0, 1] (budget / max when max is 1)."""
    b = np.asarray(budget, dtype=float)
    if max_resource <= 1:
        return b / max(max_resource, 1)
    return np.log(np.maximum(b, 1.0)) / math.log(max_resource)
