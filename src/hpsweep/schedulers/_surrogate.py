"""A Gaussian-process surrogate of (configuration, budget) -> signed metric, for DyHPO.

Inputs are the configuration in the unit cube plus one budget coordinate (log budget scaled to
[0, 1]). The kernel is Matern 5/2 with one length scale per input, times an amplitude, plus
noise. scikit-learn's ``GaussianProcessRegressor`` fits those hyperparameters by marginal
likelihood on a subsample, only at data snapshots (8, 16, 32, ... observations; see
:class:`CurveSurrogate`); between snapshots the posterior is a plain Cholesky solve in NumPy and
SciPy, which keeps a decision at a few milliseconds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
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
    way); :meth:`fit` conditions the GP with the current hyperparameters on all data (NumPy and
    SciPy directly: a Cholesky factor, no per-call validation).
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
        self._fitted = False
        self._mean, self._std, self._amp = 0.0, 1.0, 1.0
        self._scales = np.ones(dim)
        self._x = np.empty((0, dim))
        self._chol: tuple[np.ndarray, bool] = (np.eye(1), True)
        self._alpha = np.empty(0)

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
        """Condition on ``(x, y)`` with the current hyperparameters (a plain Cholesky solve)."""
        finite = np.isfinite(y)
        x, y = x[finite], y[finite]
        amp, scales, noise = _kernel_parts(self._kernel, self.dim)
        self._mean = float(y.mean()) if len(y) else 0.0
        self._std = float(y.std()) if len(y) > 1 and y.std() > 0 else 1.0
        self._amp, self._scales = amp, scales
        self._x = x / scales
        gram = amp * _matern52(cdist(self._x, self._x)) + (noise + 1e-8) * np.eye(len(y))
        with self._threads.limit(limits=1, user_api="blas"):  # small matrices: one thread is faster
            self._chol = cho_factor(gram, lower=True)
            self._alpha = cho_solve(self._chol, (y - self._mean) / self._std)
        self._fitted = True

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function at ``x``."""
        if not self._fitted:
            raise RuntimeError("fit() must be called before predict()")
        cross = self._amp * _matern52(cdist(x / self._scales, self._x))
        with self._threads.limit(limits=1, user_api="blas"):
            mu = cross @ self._alpha
            v = solve_triangular(self._chol[0], cross.T, lower=True)
        var = np.maximum(self._amp - np.einsum("ij,ij->j", v, v), 1e-12)
        return mu * self._std + self._mean, np.sqrt(var) * self._std


def _matern52(d: np.ndarray) -> np.ndarray:
    """``(1 + s + s^2 / 3) exp(-s)`` with ``s = sqrt(5) d``, evaluated in place (the same
    operations in the same order, two temporaries instead of six)."""
    s = math.sqrt(5.0) * d
    out = s + 1.0
    tmp = s * s
    tmp /= 3.0
    out += tmp
    np.negative(s, out=tmp)
    np.exp(tmp, out=tmp)
    out *= tmp
    return out


def _kernel_parts(kernel: Any, dim: int) -> tuple[float, np.ndarray, float]:
    """(amplitude, length scales, noise) of ``Constant * Matern + White``."""
    params = kernel.get_params()
    amp = float(params["k1__k1__constant_value"])
    scales = np.broadcast_to(np.asarray(params["k1__k2__length_scale"], dtype=float), (dim,))
    return amp, np.array(scales), float(params["k2__noise_level"])


def budget_feature(budget: np.ndarray | float, max_resource: int) -> np.ndarray:
    """log(budget) / log(max) in [0, 1] (budget / max when max is 1)."""
    b = np.asarray(budget, dtype=float)
    if max_resource <= 1:
        return b / max(max_resource, 1)
    return np.log(np.maximum(b, 1.0)) / math.log(max_resource)
