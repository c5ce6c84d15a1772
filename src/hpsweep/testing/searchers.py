"""The contract every searcher keeps (see :mod:`hpsweep.search.base`), as checks to call.

:func:`check_searcher` runs them all on a factory ``make(space, seed)``:

- suggestions lie in the space, and a conditional parameter appears exactly when its condition
  holds; both branches of a condition are visited;
- a seed reproduces its suggestions (and another seed changes them, unless ``seeded=False``,
  as for a grid whose order is fixed);
- a searcher rebuilt from the store's records (``restore``) continues exactly as if it had never
  stopped, and a finite searcher never repeats a point after a resume;
- trials suggested before any result comes back differ;
- failed trials and NaN values do not break it.

The objective is closed-form and the suggestions are driven one after the other, as the tuner
would, so the checks take a fraction of a second for model-free searchers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hpsweep.search.base import Searcher
from hpsweep.space import SearchSpace
from hpsweep.trial import TrialRecord, TrialState

__all__ = [
    "SearcherFactory",
    "check_branches",
    "check_failures",
    "check_in_space",
    "check_parallel",
    "check_restore",
    "check_searcher",
    "check_seeded",
    "conditional_space",
    "drive",
    "finite_space",
    "objective",
]

SearcherFactory = Callable[[SearchSpace, int], Searcher]


def conditional_space() -> SearchSpace:
    """Log-scaled, integer, categorical and fixed parameters, and two conditional parts."""
    sgd = SearchSpace().add_float("momentum", 0.0, 0.99).add_categorical("nesterov", [True, False])
    adam = SearchSpace().add_float("beta1", 0.8, 0.999)
    space = (SearchSpace()
             .add_float("lr", 1e-5, 1e-1, log=True)
             .add_int("batch", 16, 128, step=16)
             .add_categorical("optimizer", ["sgd", "adam"])
             .add_fixed("epochs", 3))
    space.add_conditional("sgd_part", "optimizer == 'sgd'", sgd)
    space.add_conditional("adam_part", "optimizer == 'adam'", adam)
    return space


def finite_space() -> SearchSpace:
    """A finite space (for a grid), with a conditional part."""
    sgd = SearchSpace().add_categorical("momentum", [0.0, 0.9])
    space = (SearchSpace()
             .add_categorical("lr", [0.1, 0.01, 0.001])
             .add_int("layers", 1, 3)
             .add_categorical("optimizer", ["sgd", "adam"]))
    space.add_conditional("sgd_part", "optimizer == 'sgd'", sgd)
    return space


def objective(config: dict[str, Any]) -> float:
    lr = float(config["lr"])
    extra = float(config.get("momentum", 0.5)) + float(config.get("beta1", 0.9))
    return (math.log10(lr) + 2.5) ** 2 + 0.1 * float(config.get("layers", config.get("batch", 1))) \
        / 16 + 0.01 * extra


def drive(searcher: Searcher, n: int, start: int = 0) -> list[TrialRecord]:
    """Suggest and complete ``n`` trials one after the other, as the tuner would."""
    records = []
    for tid in range(start, start + n):
        config = searcher.suggest(tid)
        if config is None:
            break
        record = TrialRecord(trial_id=tid, config=config, state=TrialState.COMPLETED,
                             last_metrics={"loss": objective(config)})
        searcher.on_trial_complete(record)
        records.append(record)
    return records


def check_in_space(make: SearcherFactory, space: SearchSpace, n: int) -> None:
    records = drive(make(space, 1), n)
    assert records, "the searcher suggested nothing"
    for record in records:
        config = record.config
        assert space.contains(config), f"suggestion outside the space: {config}"
        if "optimizer" in config:
            assert ("momentum" in config) == (config["optimizer"] == "sgd"), \
                f"the sgd part appears exactly when optimizer == 'sgd': {config}"
            if "epochs" in space.names:
                assert ("beta1" in config) == (config["optimizer"] == "adam"), \
                    f"the adam part appears exactly when optimizer == 'adam': {config}"
                assert config["epochs"] == 3, f"a fixed parameter keeps its value: {config}"


def check_branches(make: SearcherFactory, space: SearchSpace, n: int) -> None:
    records = drive(make(space, 2), n)
    assert {r.config["optimizer"] for r in records} == {"sgd", "adam"}, \
        "both branches of a condition are visited"


def check_seeded(make: SearcherFactory, space: SearchSpace, n: int, *, seeded: bool = True) -> None:
    first = [r.config for r in drive(make(space, 7), n)]
    again = [r.config for r in drive(make(space, 7), n)]
    assert first == again, "the same seed must give the same suggestions"
    if seeded:
        other = [r.config for r in drive(make(space, 8), n)]
        assert other != first, "another seed must change the suggestions"


def check_restore(make: SearcherFactory, space: SearchSpace, n: int, *, finite: bool = False) -> None:
    half = n // 2 + 1
    original = make(space, 3)
    history = drive(original, half)
    restored = make(space, 3)
    restored.restore(history)
    tail_original = [r.config for r in drive(original, n - half, start=half)]
    tail_restored = [r.config for r in drive(restored, n - half, start=half)]
    assert tail_restored == tail_original, "a restored searcher must continue the same study"
    if finite:
        seen = [r.config for r in history]
        assert not any(c in seen for c in tail_restored), "a finite space repeats no point"


def check_parallel(make: SearcherFactory, space: SearchSpace, n: int) -> None:
    searcher = make(space, 4)
    drive(searcher, max(0, n - 3))
    pending = [searcher.suggest(100 + i) for i in range(3)]
    assert all(p is not None for p in pending), "pending trials must not exhaust the searcher"
    keys = {tuple(sorted((k, repr(v)) for k, v in p.items())) for p in pending if p is not None}
    assert len(keys) == 3, f"trials asked before any result must differ: {pending}"


def check_failures(make: SearcherFactory, space: SearchSpace) -> None:
    searcher = make(space, 5)
    for tid in range(6):
        config = searcher.suggest(tid)
        assert config is not None
        if tid % 3 == 0:
            record = TrialRecord(trial_id=tid, config=config, state=TrialState.FAILED)
        elif tid % 3 == 1:
            record = TrialRecord(trial_id=tid, config=config, state=TrialState.FAILED,
                                 last_metrics={"loss": math.nan})
        else:
            record = TrialRecord(trial_id=tid, config=config, state=TrialState.COMPLETED,
                                 last_metrics={"loss": objective(config)})
        searcher.on_trial_complete(record)
    nxt = searcher.suggest(6)
    assert nxt is not None and space.contains(nxt), "failed and NaN trials broke the searcher"


def check_searcher(make: SearcherFactory, *, finite: bool = False, n: int = 24) -> None:
    """Every check; ``finite`` for a searcher that needs a finite space (and whose order does not
    depend on the seed), ``n`` trials per check (fewer for a slow model-based searcher)."""
    space = finite_space() if finite else conditional_space()
    check_in_space(make, space, n)
    check_branches(make, space, n)
    check_seeded(make, space, n, seeded=not finite)
    check_restore(make, space, n, finite=finite)
    check_parallel(make, space, n)
    check_failures(make, space)
