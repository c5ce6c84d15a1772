"""make_scheduler: names, aliases, options passed through, errors that name the fix."""

from __future__ import annotations

import pytest

from hpsweep.bench.functions import CrossingCurves
from hpsweep.errors import UsageError
from hpsweep.schedulers import (
    ASHAScheduler,
    BOHBScheduler,
    DyHPOScheduler,
    FIFOScheduler,
    HyperbandScheduler,
    MedianStoppingScheduler,
    PBTScheduler,
    PromotionASHAScheduler,
    PromotionHyperbandScheduler,
    make_scheduler,
    scheduler_options,
)
from tests.schedulers.helpers import SeededRandomSearcher

BENCH = CrossingCurves(dim=2, max_resource=27)


def _searcher() -> SeededRandomSearcher:
    return SeededRandomSearcher(BENCH.space(), metric="loss", mode="min", seed=0)


@pytest.mark.parametrize(("name", "cls"), [
    ("fifo", FIFOScheduler), ("median", MedianStoppingScheduler), ("asha", ASHAScheduler),
    ("promotion", PromotionASHAScheduler), ("hyperband-promotion", PromotionHyperbandScheduler),
    ("Hyperband", HyperbandScheduler), ("bohb", BOHBScheduler), ("dyhpo", DyHPOScheduler),
    ("pbt", PBTScheduler),
])
def test_names(name: str, cls: type) -> None:
    sched = make_scheduler(name, searcher=_searcher(), metric="loss", mode="min", max_resource=27)
    assert type(sched) is cls


def test_every_argument_is_passed_through() -> None:
    sched = make_scheduler("dyhpo", searcher=_searcher(), metric="loss", mode="max",
                           min_resource=2, max_resource=27,
                           reduction_factor=4, probability_sh=0.7, seed=9, n_candidates=7)
    assert isinstance(sched, DyHPOScheduler)
    assert (sched.metric, sched.mode) == ("loss", "max")
    assert (sched.min_resource, sched.max_resource, sched.reduction_factor) == (2, 27, 4)
    assert (sched.probability_sh, sched.seed, sched.n_candidates) == (0.7, 9, 7)
    assert sched.levels[:3] == [2, 4, 6]
    hb = make_scheduler("hyperband", searcher=_searcher(), metric="loss", mode="min",
                        max_resource=27, brackets=3)
    assert isinstance(hb, HyperbandScheduler) and hb.plan.brackets == 3
    pbt = make_scheduler("pbt", searcher=_searcher(), metric="loss", mode="min", max_resource=27,
                         perturbation_interval=5)
    assert isinstance(pbt, PBTScheduler) and pbt.levels == [5, 10, 15, 20, 25, 27]


@pytest.mark.parametrize(("name", "options", "message"), [
    ("nope", {}, "unknown scheduler 'nope'; choose one of"),
    ("asha", {"max_resource": None}, "needs max_resource"),
    ("asha", {"max_resource": 0}, "max_resource of scheduler 'asha' must be an integer >= 1"),
    ("asha", {"min_resource": 30}, "max_resource=27 is below min_resource=30"),
    ("asha", {"reduction_factor": 1}, "reduction_factor of scheduler 'asha' must be an integer >= 2"),
    ("dyhpo", {"probability_sh": 1.5}, r"probability_sh of scheduler 'dyhpo' must be a number in \[0, 1\]"),
    ("median", {"reduction_factor": 3}, "does not take option\\(s\\) reduction_factor"),
    ("dyhpo", {"brackets": 2}, "does not take option\\(s\\) brackets"),
    ("asha", {"brackets": 9}, r"brackets must be an integer in 1\.\.4"),
    ("asha", {"mode": "up"}, "mode must be 'min' or 'max'"),
    ("asha", {"colour": 3}, "does not take option\\(s\\) colour"),
    ("pbt", {"perturbation_interval": 0}, "perturbation_interval of scheduler 'pbt' must be an integer >= 1"),
])
def test_invalid_input(name: str, options: dict, message: str) -> None:
    kwargs = {"searcher": _searcher(), "metric": "loss", "mode": "min", "max_resource": 27,
              **options}
    with pytest.raises(UsageError, match=message):
        make_scheduler(name, **kwargs)


def test_defaults_are_the_recommended_ones() -> None:
    """Hyperband and BOHB run every bracket by default; DyHPO tries successive halving a quarter
    of the time; ASHA and promotion are successive halving (one bracket)."""
    def default(name: str, option: str) -> object:
        return next(o.default for o in scheduler_options(name) if o.name == option)

    for name in ("hyperband", "bohb", "hyperband-promotion"):
        sched = make_scheduler(name, searcher=_searcher(), metric="loss", mode="min", max_resource=27)
        assert default(name, "brackets") is None
        assert sched.plan.brackets == 4  # type: ignore[attr-defined]  # 1, 3, 9, 27
    for name in ("asha", "promotion"):
        sched = make_scheduler(name, searcher=_searcher(), metric="loss", mode="min", max_resource=27)
        assert sched.plan.brackets == 1  # type: ignore[attr-defined]
    dy = make_scheduler("dyhpo", searcher=_searcher(), metric="loss", mode="min", max_resource=27)
    assert isinstance(dy, DyHPOScheduler) and dy.probability_sh == 0.25 == default("dyhpo", "probability_sh")


def test_specs_do_not_import_heavy_libraries() -> None:
    """Reading every scheduler's options (what the command line does at start-up) leaves SciPy and
    scikit-learn unimported."""
    import subprocess
    import sys

    code = ("import sys; from hpsweep.schedulers import all_options; all_options(); "
            "print('sklearn' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_bohb_proposals_stay_inside_the_box() -> None:
    """Truncated kernels: good points on the edge of the box never yield a value on a bound."""
    import numpy as np

    from hpsweep.schedulers.bohb import DensityRatioModel

    rng = np.random.default_rng(0)
    x = rng.random((60, 3))
    x[:, 2] = (rng.integers(3, size=60) + 0.5) / 3  # a categorical of 3 choices
    y = np.abs(x[:, 0]) + np.abs(1.0 - x[:, 1])  # best at the corner x0 = 0, x1 = 1
    model = DensityRatioModel(choices=[0, 0, 3])
    props = np.array([model.propose(x, y, rng) for _ in range(200)])
    assert ((props[:, :2] > 0.0) & (props[:, :2] < 1.0)).all()
    assert set(np.round(props[:, 2] * 6).astype(int)) <= {1, 3, 5}
    assert props[:, 0].mean() < 0.3 and props[:, 1].mean() > 0.7  # it still follows the data
