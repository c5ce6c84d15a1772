from __future__ import annotations

import pytest

from hpsweep.errors import SpaceError
from hpsweep.search.base import Searcher
from hpsweep.search.basic import GridSearcher, IndexOrder, RandomSearcher
from hpsweep.space import SearchSpace, space_from_grid
from hpsweep.trial import TrialRecord, TrialState


def finite_space() -> SearchSpace:
    return SearchSpace().add_categorical("a", [1, 2, 3]).add_int("b", 0, 3)


def records(configs: list[dict]) -> list[TrialRecord]:
    return [TrialRecord(trial_id=i, config=c, state=TrialState.COMPLETED, last_metrics={"y": 1.0})
            for i, c in enumerate(configs)]


def drain(searcher: Searcher, start: int = 0) -> list[dict]:
    out = []
    trial_id = start
    while (config := searcher.suggest(trial_id)) is not None:
        out.append(config)
        trial_id += 1
    return out


def test_grid_searcher_walks_the_grid_in_order_then_stops() -> None:
    space = finite_space()
    searcher = GridSearcher(space, metric="y", mode="min", seed=0)
    assert isinstance(searcher, Searcher)
    assert searcher.total == 12
    assert drain(searcher) == list(space.grid())
    assert searcher.suggest(99) is None


def test_grid_searcher_restore_continues_from_the_store() -> None:
    space = finite_space()
    full = drain(GridSearcher(space, metric="y", mode="min", seed=0))
    resumed = GridSearcher(space, metric="y", mode="min", seed=0)
    resumed.restore(records(full[:5]))
    assert drain(resumed, start=5) == full[5:]


def test_shuffled_grid_is_a_seeded_permutation() -> None:
    space = finite_space()
    a = drain(GridSearcher(space, metric="y", mode="min", seed=3, shuffle=True))
    b = drain(GridSearcher(space, metric="y", mode="min", seed=3, shuffle=True))
    c = drain(GridSearcher(space, metric="y", mode="min", seed=4, shuffle=True))
    assert a == b != c
    assert sorted(map(repr, a)) == sorted(map(repr, space.grid()))
    resumed = GridSearcher(space, metric="y", mode="min", seed=3, shuffle=True)
    resumed.restore(records(a[:7]))
    assert drain(resumed, start=7) == a[7:]


def test_random_searcher_on_a_finite_space_never_repeats_and_resumes() -> None:
    space = finite_space()
    first = drain(RandomSearcher(space, metric="y", mode="max", seed=11))
    assert len(first) == 12 and len({repr(c) for c in first}) == 12
    assert first != list(space.grid())  # a shuffled order, not the grid order
    resumed = RandomSearcher(space, metric="y", mode="max", seed=11)
    resumed.restore(records(first[:4]))
    assert drain(resumed, start=4) == first[4:]


def test_random_searcher_on_a_continuous_space_depends_on_seed_and_trial_number() -> None:
    space = SearchSpace().add_float("lr", 1e-5, 1e-1, log=True).add_categorical("bs", [16, 32])
    one = RandomSearcher(space, metric="y", mode="min", seed=5)
    two = RandomSearcher(space, metric="y", mode="min", seed=5)
    assert one.total is None
    forward = [one.suggest(i) for i in range(6)]
    backward = {i: two.suggest(i) for i in reversed(range(6))}  # another timing, same answers
    assert forward == [backward[i] for i in range(6)]
    other = RandomSearcher(space, metric="y", mode="min", seed=6)
    assert [other.suggest(i) for i in range(6)] != forward
    assert all(space.contains(c) for c in forward)


def test_random_searcher_without_replacement_on_a_huge_grid() -> None:
    space = SearchSpace()
    for i in range(9):
        space.add_int(f"p{i}", 0, 9)
    searcher = RandomSearcher(space, metric="y", mode="min", seed=1)
    assert searcher.total == 10**9
    drawn = [searcher.suggest(i) for i in range(200)]
    assert len({repr(c) for c in drawn}) == 200
    resumed = RandomSearcher(space, metric="y", mode="min", seed=1)
    resumed.restore(records(drawn[:150]))
    assert [resumed.suggest(i) for i in range(150, 200)] == drawn[150:]


def test_index_order_is_a_permutation_for_small_and_large_sizes() -> None:
    small = IndexOrder(50, seed=2)
    assert sorted(small[k] for k in range(50)) == list(range(50))
    large = IndexOrder(10**30, seed=2)
    values = [large[k] for k in range(100)]
    assert len(set(values)) == 100 and all(0 <= v < 10**30 for v in values)
    assert max(values) > 10**28  # spread over the whole range, past 2**63
    with pytest.raises(IndexError):
        small[50]


def test_searchers_over_seed_000_conditions() -> None:
    space = space_from_grid({"o1": [1, 2], "o2": [5, 6]}, [({"o1": [1]}, {"o2": [-1]})])
    assert drain(GridSearcher(space, metric="y", mode="min", seed=0)) == list(space.grid())
    assert len(drain(RandomSearcher(space, metric="y", mode="min", seed=0))) == 3


def test_bad_arguments() -> None:
    with pytest.raises(SpaceError, match="mode"):
        GridSearcher(finite_space(), metric="y", mode="best", seed=0)  # type: ignore[arg-type]
    with pytest.raises(SpaceError, match="seed"):
        RandomSearcher(finite_space(), metric="y", mode="min", seed=-1)
    with pytest.raises(SpaceError, match="continuous"):
        GridSearcher(SearchSpace().add_float("x", 0, 1), metric="y", mode="min", seed=0)


def test_restore_ignores_repetition_laps_and_reruns() -> None:
    space = finite_space()
    full = drain(GridSearcher(space, metric="y", mode="min", seed=0))
    stored = records(full[:3])
    stored.append(TrialRecord(trial_id=3, config=full[0], state=TrialState.COMPLETED,
                              repetition=1))
    stored.append(TrialRecord(trial_id=4, config=full[1], state=TrialState.COMPLETED,
                              run_info={"rerun_of": 1}))
    for cls in (GridSearcher, RandomSearcher):
        reference = drain(cls(space, metric="y", mode="min", seed=0))
        resumed = cls(space, metric="y", mode="min", seed=0)
        resumed.restore(stored)
        assert resumed.suggest(5) == reference[3]


def test_gp_without_pytorch_fails_before_the_first_trial(tmp_path) -> None:
    """Optuna's GP sampler needs PyTorch: without it the study is refused at the start, naming
    the extra, instead of crashing after the random start-up trials."""
    import subprocess
    import sys

    blocker = tmp_path / "sitecustomize.py"  # hides torch from this one interpreter
    blocker.write_text(
        "import importlib.abc, sys\n"
        "class _NoTorch(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'torch'\")\n"
        "        return None\n"
        "sys.meta_path.insert(0, _NoTorch())\n")
    code = ("from hpsweep.search import make_searcher\n"
            "from hpsweep.space import SearchSpace\n"
            "from hpsweep.errors import UsageError\n"
            "try:\n"
            "    make_searcher('gp', SearchSpace().add_float('x', 0, 1), metric='loss', mode='min', seed=0)\n"
            "except UsageError as exc:\n"
            "    print(exc)\n")
    env = {**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{__import__('os').environ.get('PYTHONPATH', '')}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "needs PyTorch" in out.stdout and "hpsweep[torch]" in out.stdout
