"""Parameter importance for the dashboard, through the results package (``auto``: fANOVA up to
300 completed trials, MDI above)."""

from __future__ import annotations

import math
from typing import Any

from hpsweep.results import StudyData, trial_value
from hpsweep.trial import TrialState

__all__ = ["importance"]


def importance(data: StudyData) -> dict[str, Any]:
    """``{"params": {name: share}, "n": trials used, "note": why empty}`` for the objective."""
    from hpsweep.results import importance_note, param_importance

    if data.seeds_info() is not None or (data.sweep.get("options") or {}).get("scheduler") == "pbt":
        return {"params": {}, "n": 0, "note": importance_note(data, {})}
    done = [t for t in data.trials
            if t.state is TrialState.COMPLETED and trial_value(t, data.metric) is not None]
    try:
        shares = param_importance(data)
    except Exception as exc:  # an evaluator that cannot fit this history leaves the chart empty
        return {"params": {}, "n": len(done), "note": f"importance unavailable: {exc}"}
    if not shares:
        return {"params": {}, "n": len(done),
                "note": "needs completed trials whose searched parameters vary"}
    clean = {str(k): float(v) for k, v in shares.items() if math.isfinite(float(v))}
    ordered = dict(sorted(clean.items(), key=lambda kv: -kv[1]))
    return {"params": ordered, "n": len(done), "note": importance_note(data, ordered)}
