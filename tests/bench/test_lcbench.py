"""The LCBench surrogate read in place from the shared YAHPO data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpsweep.errors import UsageError

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "yahpo"
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.skipif(not (DATA / "lcbench" / "model.onnx").is_file(),
                                reason="YAHPO data folder not found")


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    from hpsweep.bench.lcbench import LCBenchModel

    return LCBenchModel(DATA)


def test_curves_are_plausible(model) -> None:  # type: ignore[no-untyped-def]
    bench = model.task("3945")
    rng = np.random.default_rng(0)
    configs = [bench.space().sample(rng) for _ in range(8)]
    curves = bench.curves(configs)
    assert curves.shape == (8, 52, 6)
    assert (np.diff(curves[:, :, 0], axis=1) >= 0).all()  # cumulative time
    lo, hi = bench.metric_range()
    assert lo < hi
    assert (curves[:, :, 1] > lo - 5).all() and (curves[:, :, 1] < hi + 5).all()
    rows = bench.evaluate(configs[0], [1, 52])
    assert rows[1]["time"] == pytest.approx(curves[0, 51, 0])
    assert rows[0]["epoch"] == 1.0 and "val_accuracy" in rows[0]


def test_full_time_and_regret(model) -> None:  # type: ignore[no-untyped-def]
    bench = model.task("7593")
    t_full = bench.full_time(n=16, seed=0)
    assert t_full > 0 and t_full == bench.full_time(n=16, seed=0)
    lo, hi = bench.metric_range()
    assert bench.normalized_regret(hi) == 0.0
    assert bench.normalized_regret(lo) == pytest.approx(1.0)


def test_errors_name_the_fix(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hpsweep.bench.lcbench import LCBenchModel

    with pytest.raises(UsageError, match="unknown LCBench task '1'"):
        model.task("1")
    with pytest.raises(UsageError, match="no LCBench surrogate"):
        LCBenchModel(tmp_path)
    with pytest.raises(UsageError, match="lacks parameter 'batch_size'"):
        model.task("3945").evaluate({"lr": 0.1}, [1])
    with pytest.raises(UsageError, match=r"epoch must be in 1\.\.52"):
        model.task("3945").evaluate(model.task("3945").space().sample(0), [53])
