"""The rbv2_rpart surrogate read in place from the shared YAHPO data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpsweep.errors import UsageError

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "yahpo"
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.skipif(not (DATA / "rbv2_rpart" / "model.onnx").is_file(),
                                reason="YAHPO rbv2_rpart data not found")


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    from hpsweep.bench.rbv2 import RBV2RpartModel

    return RBV2RpartModel(DATA)


def test_curves_time_and_statistics(model) -> None:  # type: ignore[no-untyped-def]
    from hpsweep.bench.rbv2 import OUTPUTS

    bench = model.task("31")
    rng = np.random.default_rng(0)
    configs = [bench.space().sample(rng) for _ in range(6)]
    curves = bench.curves(configs)
    assert curves.shape == (6, 20, len(OUTPUTS))
    t = OUTPUTS.index("timetrain")
    assert (np.diff(curves[:, :, t], axis=1) >= 0).all()
    raw = model.predict("31", [configs[0]] * 20, np.arange(1, 21) / 20)
    # the suffix minimum leaves the full training set's time as the surrogate gives it
    assert curves[0, -1, t] == pytest.approx(raw[-1, t])
    assert (curves[0, :, t] <= raw[:, t] + 1e-12).all()
    lo, hi = bench.metric_range()
    acc = curves[:, :, OUTPUTS.index("acc")]
    assert lo < hi and (acc > lo - 0.2).all() and (acc < hi + 0.2).all()
    rows = bench.evaluate(configs[0], [1, 20])
    assert rows[1]["time"] == pytest.approx(curves[0, 19, t])
    assert rows[0]["trainsize"] == 0.05 and rows[1]["epoch"] == 20.0
    assert bench.full_time() > 0


def test_bad_input_is_a_usage_error(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="unknown rbv2_rpart instance"):
        model.task("999999")
    bench = model.task("3")
    with pytest.raises(UsageError, match="lacks parameter"):
        bench.curves([{"cp": 0.01}])
    config = bench.space().sample(np.random.default_rng(1))
    with pytest.raises(UsageError, match=r"1\.\.20"):
        bench.evaluate(config, [21])
