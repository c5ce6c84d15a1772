"""Grid and random search: functions of a position and a seed, so a resumed study continues.

``GridSearcher`` gives grid point ``n`` to its ``n``-th trial (optionally in a seeded shuffled
order). ``RandomSearcher`` draws grid points *without replacement* from a finite space and fresh
samples from a continuous one. Both rebuild their position from the number of trials in the
store that they suggested (repetition laps and reruns are not counted), and the ``n``-th
configuration depends only on the seed and ``n``, never on timing.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpsweep.errors import SpaceError
from hpsweep.search.base import Mode, Searcher

if TYPE_CHECKING:
    from hpsweep.space import Grid, SearchSpace
    from hpsweep.trial import TrialRecord

__all__ = ["GridSearcher", "IndexOrder", "RandomSearcher", "suggested_count"]

PERMUTE_LIMIT = 2_000_000  # grids up to this size are shuffled with one stored permutation


def suggested_count(trials: Sequence[TrialRecord]) -> int:
    """How many of ``trials`` came from a searcher's ``suggest``: repetition laps
    (``repetition > 0``) and reruns of interrupted trials (``run_info["rerun_of"]``) did not."""
    return sum(1 for t in trials
               if t.repetition == 0 and "rerun_of" not in (t.run_info or {}))


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        raise SpaceError(f"mode {mode!r} is not 'min' or 'max'; choose one.")


def _resolve_seed(seed: int | None) -> int:
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpaceError(f"seed must be a non-negative integer or None, got {seed!r}.")
    return int(seed)


class IndexOrder:
    """A seeded order of ``range(size)`` without repeats: ``order[k]`` for the ``k``-th draw.

    Small sizes use one permutation; large ones draw each index from a generator seeded with
    ``(seed, k, attempt)`` and reject repeats, replaying earlier draws to know them (so the order
    is the same however many times it is rebuilt).
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self._perm: np.ndarray | None = None
        self._drawn: list[int] = []
        self._used: set[int] = set()

    def __getitem__(self, k: int) -> int:
        if not 0 <= k < self.size:
            raise IndexError(k)
        if self.size <= PERMUTE_LIMIT:
            if self._perm is None:
                self._perm = np.random.default_rng([self.seed, 0]).permutation(self.size)
            return int(self._perm[k])
        while len(self._drawn) <= k:
            self._draw_next()
        return self._drawn[k]

    def _draw_next(self) -> None:
        k = len(self._drawn)
        attempt = 0
        while True:
            rng = np.random.default_rng([self.seed, 1, k, attempt])
            index = _big_integer(rng, self.size)
            if index not in self._used:
                self._used.add(index)
                self._drawn.append(index)
                return
            attempt += 1


def _big_integer(rng: np.random.Generator, size: int) -> int:
    """A uniform integer in ``[0, size)``, also for sizes past 2**63."""
    if size < 2**62:
        return int(rng.integers(size))
    bits = size.bit_length()
    while True:
        words = rng.integers(0, 2**32, size=(bits + 31) // 32, dtype=np.uint64)
        value = 0
        for word in words:
            value = (value << 32) | int(word)
        value >>= (len(words) * 32 - bits)
        if value < size:
            return value


class GridSearcher(Searcher):
    """Trial ``n`` gets grid point ``n`` (or the ``n``-th of a seeded shuffle); None when done."""

    def __init__(self, space: SearchSpace, *, metric: str, mode: Mode, seed: int | None,
                 shuffle: bool = False) -> None:
        _check_mode(mode)
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        self.grid: Grid = space.grid()
        self.shuffle = bool(shuffle)
        self._order = IndexOrder(self.grid.size, _resolve_seed(seed)) if shuffle else None
        self.position = 0

    @property
    def total(self) -> int:
        return self.grid.size

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        if self.position >= self.grid.size:
            return None
        k = self.position
        self.position += 1
        return self.grid[self._order[k] if self._order is not None else k]

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        super().restore(trials)
        self.position = min(suggested_count(trials), self.grid.size)


class RandomSearcher(Searcher):
    """Random search: grid points without replacement (finite space), else fresh samples.

    In a continuous space, trial ``n``'s configuration is ``space.sample`` with a generator
    seeded by ``(seed, n)``; in a finite one it is grid point ``order[k]`` for the ``k``-th
    suggestion, and the searcher is exhausted after the whole grid.
    """

    def __init__(self, space: SearchSpace, *, metric: str, mode: Mode, seed: int | None) -> None:
        _check_mode(mode)
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        self._seed = _resolve_seed(seed)
        self.grid: Grid | None = space.grid() if space.is_finite else None
        self._order = IndexOrder(self.grid.size, self._seed) if self.grid is not None else None
        self.position = 0

    @property
    def total(self) -> int | None:
        return self.grid.size if self.grid is not None else None

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        if self.grid is None or self._order is None:
            self.position += 1
            return self.space.sample(np.random.default_rng([self._seed, 2, int(trial_id)]))
        if self.position >= self.grid.size:
            return None
        k = self.position
        self.position += 1
        return self.grid[self._order[k]]

    def restore(self, trials: Sequence[TrialRecord]) -> None:
        super().restore(trials)
        count = suggested_count(trials)
        self.position = count if self.grid is None else min(count, self.grid.size)
