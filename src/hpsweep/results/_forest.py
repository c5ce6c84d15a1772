"""Mean decrease in impurity (MDI) of a regression random forest, in NumPy, trees grown together.

Breiman's random forest (2001) with CART regression trees and the importance of a feature as the
total decrease in squared error of the splits on it (Breiman, Friedman, Olshen & Stone, 1984),
with the settings of Optuna's ``MeanDecreaseImpurityImportanceEvaluator``: 64 trees, each on a
bootstrap sample of the rows, every feature considered at every split (Breiman draws a subset
per split; with all of them the forest is bagged CART, as scikit-learn's default regressor),
grown until a node is pure, holds one distinct row, or is 64 deep; two values closer than 1e-7 are
never split apart (scikit-learn's rule). A tree's importances are normalised
to sum 1 and the forest's are their mean, normalised again (as scikit-learn does).

Where it departs from the paper and from scikit-learn's forest: the trees are grown level by level,
:data:`_CHUNK` of them together (one pass of array operations per level over those trees' rows,
which keeps the cost in NumPy rather than in Python per node; a fully grown tree is the same
either way); the target is summed in 61-bit fixed point (exact sums, whatever the order); a
bootstrap sample is held as weights on the distinct rows drawn (scikit-learn does the same); a
threshold lies midway between two adjacent distinct values; among features with equal best
decrease, the first in an order drawn at random at each level wins (scikit-learn draws the order
per node). The random draws are NumPy's, so the scores equal scikit-learn's only in distribution,
not number for number.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mdi_importances"]

_GAP = 1e-7  # two values closer than this are not split apart (scikit-learn's FEATURE_THRESHOLD)
_PURE = float(np.finfo(float).eps)  # a node whose weighted variance is below this is a leaf


def mdi_importances(x: np.ndarray, y: np.ndarray, *, n_trees: int = 64, max_depth: int = 64,
                    seed: int = 0) -> np.ndarray:
    """The MDI importance of each column of ``x`` (rows: samples) for ``y`` (finite values),
    summing to 1; all zeros when no tree could split (``y`` constant, or one distinct row)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = x.shape
    if n < 2 or d == 0:
        return np.zeros(d)
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_trees)])
    y = y - y.mean()  # the decreases do not change; the sums below stay small
    spread = float(np.abs(y).max())
    if not spread > 0:
        return np.zeros(d)  # a constant target: no split decreases anything
    distinct = [np.unique(x[:, f]) for f in range(d)]
    # a few trees at a time: their arrays stay small enough for the processor's caches
    gains = np.concatenate([_grow(x, y, counts[i:i + _CHUNK], distinct, spread, max_depth, rng)
                            for i in range(0, n_trees, _CHUNK)])
    per_tree = gains.sum(axis=1)
    grown = per_tree > 0
    if not grown.any():
        return np.zeros(d)
    mean = (gains[grown] / per_tree[grown, None]).mean(axis=0)
    return np.asarray(mean / mean.sum())


_CHUNK = 16  # trees grown together


def _grow(x: np.ndarray, y: np.ndarray, counts: np.ndarray, distinct: list[np.ndarray],
          spread: float, max_depth: int, rng: np.random.Generator) -> np.ndarray:
    """The total decrease in squared error per (tree, feature) of the trees whose bootstrap
    counts are the rows of ``counts``."""
    n, d = x.shape
    n_trees = len(counts)
    tree, sample = np.nonzero(counts)  # one row per distinct sample of each tree's bootstrap
    weight = counts[tree, sample]
    # the weighted targets in fixed point: integer sums are exact and the same in any order
    scale = 2.0 ** 61 / (spread * n_trees * n)
    wy = weight * np.round(y * scale).astype(np.int64)[sample]
    wy2 = weight * (y * y)[sample]
    gains = np.zeros((n_trees, d))
    flat = x.ravel()
    grouped = {f: np.searchsorted(distinct[f], x[sample, f]) for f in range(d)
               if len(distinct[f]) <= _FEW}  # split by the sums per value
    sorted_ = [f for f in range(d) if f not in grouped]  # split along the sorted values
    # every tree's live rows, grouped by node (each node a segment, in the same order
    # everywhere); each sorted feature's copy is in value order within each node
    rows = np.arange(len(sample))
    cols: list[list[np.ndarray]] = []  # per sorted feature: rows, values, weights, weighted y
    for f in sorted_:
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(x[:, f], kind="stable")] = np.arange(n)
        order = np.argsort(tree * n + rank[sample], kind="stable")
        cols.append([order, x[sample[order], f], weight[order], wy[order]])
    size = np.bincount(tree, minlength=n_trees)
    starts = np.concatenate(([0], np.cumsum(size)[:-1]))
    live = _impure(size, np.add.reduceat(weight, starts), np.add.reduceat(wy, starts) / scale,
                   np.add.reduceat(wy2, starts))
    keep = np.repeat(live, size)
    rows, cols = rows[keep], [[arr[keep] for arr in col] for col in cols]
    size, node_tree = size[live], np.arange(n_trees)[live]
    is_left = np.ones(len(sample), dtype=bool)  # by row: goes to the left child at this level
    for _ in range(max_depth):
        m, a = len(size), len(rows)
        if not m:
            break
        starts = np.concatenate(([0], np.cumsum(size)[:-1]))
        w_rows, s_rows = weight[rows], wy[rows]
        w_node = np.add.reduceat(w_rows, starts)  # integers: exact, the same in every order
        s_node = np.add.reduceat(s_rows, starts)
        best = np.full(m, -1.0)
        best_feature = np.zeros(m, dtype=np.int64)
        best_threshold = np.zeros(m)
        positions = np.arange(a)
        if cols:
            inner = np.ones(a)  # 0 at each node's last row: no split after it
            inner[starts + size - 1] = 0.0
            sums = (np.repeat(w_node, size).astype(float), np.repeat(s_node, size).astype(float),
                    np.repeat(np.cumsum(w_node) - w_node, size),  # in the nodes before
                    np.repeat(np.cumsum(s_node) - s_node, size))
        for f in rng.permutation(d):
            if f in grouped:
                top, threshold = _grouped_split(grouped[f][rows], distinct[f], w_rows, s_rows,
                                                w_node, s_node, starts)
            else:
                top, threshold = _sorted_split(cols[sorted_.index(f)], starts, size, sums, inner,
                                               positions)
            better = top > best
            best[better] = top[better]
            best_feature[better] = f
            best_threshold[better] = threshold[better]
        split = best >= 0
        s_float = s_node.astype(float)
        decrease = (best - s_float * s_float / w_node) / (scale * scale)  # squared error
        np.add.at(gains, (node_tree[split], best_feature[split]), np.maximum(decrease[split], 0))
        # each row of a split node goes to its left or its right child (left first)
        k = np.repeat(np.arange(m), size)
        goes_left = flat[sample[rows] * d + best_feature[k]] <= best_threshold[k]
        is_left[rows] = goes_left
        n_left = np.add.reduceat(goes_left.astype(np.int64), starts)
        w_left = np.add.reduceat(w_rows * goes_left, starts)
        s_left = np.add.reduceat(s_rows * goes_left, starts)
        s2_rows = wy2[rows]
        s2_left = np.add.reduceat(s2_rows * goes_left, starts)
        s2_node = np.add.reduceat(s2_rows, starts)
        child_size = np.column_stack([n_left, size - n_left]).ravel()
        live = _impure(child_size, np.column_stack([w_left, w_node - w_left]).ravel(),
                       np.column_stack([s_left, s_node - s_left]).ravel() / scale,
                       np.column_stack([s2_left, s2_node - s2_left]).ravel())
        live &= np.repeat(split, 2)
        # a stable partition of each node's segment into its children, in every order, with
        # the rows of leaves moved past the end
        kept = np.where(live, child_size, 0)
        dropped = child_size - kept
        new_start = np.where(live, np.cumsum(kept) - kept,
                             kept.sum() + np.cumsum(dropped) - dropped)
        left_base = np.repeat(new_start[0::2], size)
        right_base = np.repeat(new_start[1::2] - starts, size) + positions
        lefts_before = np.repeat(np.cumsum(n_left) - n_left, size)
        total = int(kept.sum())
        regrouped = []
        for col in [[rows], *cols]:
            went_left = goes_left if col[0] is rows else is_left[col[0]]
            rank = np.cumsum(went_left) - went_left - lefts_before  # lefts before, in the node
            pos = right_base - rank + went_left * (left_base + 2 * rank - right_base)
            moved = []
            for arr in col:
                out = np.empty_like(arr)
                out[pos] = arr
                moved.append(out[:total])
            regrouped.append(moved)
        rows, cols = regrouped[0][0], regrouped[1:]
        size, node_tree = child_size[live], np.repeat(node_tree, 2)[live]
    return gains


_FEW = 8  # features with at most this many distinct values are split by the sums per value


def _sorted_split(col: list[np.ndarray], starts: np.ndarray, size: np.ndarray,
                  sums: tuple[np.ndarray, ...], inner: np.ndarray, positions: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each node's best split on one feature held in (node, value) order: its score
    (``left_s**2 / left_w + right_s**2 / right_w``, -1 where none) and threshold."""
    _, xv, wv, sv = col
    w_total, s_total, w_before, s_before = sums
    a = len(xv)
    left_w = (np.cumsum(wv) - w_before).astype(float)
    left_s = (np.cumsum(sv) - s_before).astype(float)
    right_w = w_total - left_w + (1.0 - inner)  # 1, not 0, after a node's last row (masked)
    right_s = s_total - left_s
    ok = inner.copy()
    ok[:-1] *= xv[:-1] + _GAP < xv[1:]
    score = (left_s * left_s / left_w + right_s * right_s / right_w) * ok + (ok - 1.0)
    top = np.maximum.reduceat(score, starts)
    first = np.minimum.reduceat(positions + a * (score < np.repeat(top, size)), starts)
    first = np.minimum(first, a - 2)  # a node without a split gets any threshold
    return top, (xv[first] + xv[first + 1]) / 2


def _grouped_split(code: np.ndarray, distinct: np.ndarray, w: np.ndarray, s: np.ndarray,
                   w_node: np.ndarray, s_node: np.ndarray, starts: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each node's best split on a feature of few values (``code``: each row's value index),
    from the sums of the rows at or below each value."""
    best = np.full(len(starts), -1.0)
    threshold = np.zeros(len(starts))
    for j in range(len(distinct) - 1):
        below = code <= j
        left_w = np.add.reduceat(w * below, starts).astype(float)
        left_s = np.add.reduceat(s * below, starts).astype(float)
        right_w = w_node - left_w
        right_s = s_node - left_s
        ok = (left_w > 0) & (right_w > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(ok, left_s * left_s / left_w + right_s * right_s / right_w, -1.0)
        better = score > best
        best[better] = score[better]
        threshold[better] = (distinct[j] + distinct[j + 1]) / 2
    return best, threshold


def _impure(size: np.ndarray, w: np.ndarray, s: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Which nodes may split: two rows or more and a target that varies (``w``, ``s``, ``s2``:
    the sums of the weights, weighted targets and weighted squared targets)."""
    safe = np.where(w > 0, w, 1.0)
    mean = s / safe
    return np.asarray((size >= 2) & (s2 / safe - mean * mean > _PURE))
