"""The blocked sorted sequence behind the rung rankings agrees with a plain sorted list."""

from __future__ import annotations

import bisect
import random

import pytest

from hpsweep.schedulers._ranked import Ranked


@pytest.mark.parametrize("load", [1, 2, 3, 16])
def test_ranked_matches_a_sorted_list(load: int) -> None:
    rng = random.Random(load)
    ranked, ref = Ranked(load=load), []
    for _ in range(1500):
        item = (rng.randint(0, 200), rng.randint(0, 3))  # duplicates included
        ranked.insert(item)
        bisect.insort(ref, item)
        k = rng.randrange(len(ref))
        probe = (rng.randint(-5, 205), rng.randint(0, 3))
        assert (len(ranked), ranked[k], ranked[-1], ranked.bisect_left(probe)) == (
            len(ref), ref[k], ref[-1], bisect.bisect_left(ref, probe))
    assert list(ranked) == ref and ranked[:7] == ref[:7] and ranked == ref


def test_empty_and_out_of_range() -> None:
    ranked = Ranked()
    assert not ranked and len(ranked) == 0 and ranked.bisect_left(3) == 0 and ranked[:2] == []
    with pytest.raises(IndexError):
        ranked[0]
    ranked.insert(1.5)
    assert ranked[0] == ranked[-1] == 1.5 and ranked.bisect_left(2) == 1
    with pytest.raises(IndexError):
        ranked[1]
