"""A sorted sequence whose insertions and positional look-ups cost O(log n) and a short copy.

A rung's ranking grows with the study (at 100,000 trials the lowest rung holds every trial):
kept as one sorted list, each insertion moves half of it. :class:`Ranked` keeps the items in
sorted blocks of at most ``2 * load`` and a Fenwick tree of the blocks' lengths, so an insertion
is a bisection over the blocks' last items and a copy within one block, and the ``k``-th item is
a walk down the tree.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any, overload

__all__ = ["Ranked"]


class Ranked:
    """Sorted items (every item comparable with the others; duplicates allowed).

    >>> r = Ranked(load=2)
    >>> for x in [5, 1, 4, 2, 3, 0]:
    ...     r.insert(x)
    >>> len(r), r[0], r[-1], r[2], r[:3], r.bisect_left(3)
    (6, 0, 5, 2, [0, 1, 2], 3)
    """

    def __init__(self, load: int = 256) -> None:
        self._load = load
        self._blocks: list[list[Any]] = []
        self._lasts: list[Any] = []  # each block's last (largest) item
        self._tree: list[int] = []  # Fenwick tree of the blocks' lengths (1-based)
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Any]:
        for block in self._blocks:
            yield from block

    def __repr__(self) -> str:
        return f"Ranked({list(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ranked):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def insert(self, item: Any) -> None:
        blocks = self._blocks
        if not blocks:
            self._blocks, self._lasts = [[item]], [item]
            self._rebuild()
            self._len = 1
            return
        i = bisect.bisect_right(self._lasts, item)
        if i == len(blocks):  # beyond every block: the last block takes it
            i -= 1
            blocks[i].append(item)
            self._lasts[i] = item
        else:
            bisect.insort_right(blocks[i], item)
        self._len += 1
        if len(blocks[i]) > 2 * self._load:  # split the block in two; the tree is rebuilt
            block = blocks[i]
            half = len(block) // 2
            blocks[i:i + 1] = [block[:half], block[half:]]
            self._lasts[i:i + 1] = [block[half - 1], block[-1]]
            self._rebuild()
        else:
            self._add(i, 1)

    def bisect_left(self, item: Any) -> int:
        """How many items are smaller than ``item``."""
        i = bisect.bisect_left(self._lasts, item)
        if i == len(self._blocks):
            return self._len
        return self._prefix(i) + bisect.bisect_left(self._blocks[i], item)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("Ranked index out of range")
        block, offset = self._locate(index)
        return self._blocks[block][offset]

    # -- the Fenwick tree over block lengths ----------------------------------------------------

    def _rebuild(self) -> None:
        n = len(self._blocks)
        tree = [0] * (n + 1)
        for i, block in enumerate(self._blocks, start=1):
            tree[i] += len(block)
            parent = i + (i & -i)
            if parent <= n:
                tree[parent] += tree[i]
        self._tree = tree

    def _add(self, block: int, delta: int) -> None:
        tree, i = self._tree, block + 1
        while i < len(tree):
            tree[i] += delta
            i += i & -i

    def _prefix(self, block: int) -> int:
        """Items in the blocks before ``block``."""
        tree, i, total = self._tree, block, 0
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total

    def _locate(self, index: int) -> tuple[int, int]:
        """(block, offset) of the ``index``-th item."""
        tree = self._tree
        pos, step = 0, 1 << (len(tree) - 1).bit_length()
        while step:
            nxt = pos + step
            if nxt < len(tree) and tree[nxt] <= index:
                pos = nxt
                index -= tree[nxt]
            step >>= 1
        return pos, index
