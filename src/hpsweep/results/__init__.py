"""What a study found: pure functions over a study folder.

Load (:func:`load_study_data`, :func:`trials_frame`), rank (:func:`best_trials`,
:func:`pareto_trials`), prune folders (:func:`plan_prune`), gather random seeds
(:func:`seed_sweep`, :func:`seeds_summary`), and, imported on first use because they load NumPy,
Matplotlib, Plotly or Optuna: importance (:func:`param_importance`; Optuna only for its fanova
and ped-anova), plots (:func:`write_plots`) and the Optuna conversion (:func:`to_optuna_study`,
:func:`export_to_storage`). The seed gathering is
imported on first use too (it loads NumPy, which the report does not need).

>>> from hpsweep.results import load_study_data, best_trials  # doctest: +SKIP
>>> data = load_study_data("runs/my-study")  # doctest: +SKIP
>>> [t.trial_id for t in best_trials(data, 3)]  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hpsweep._groups import ConfigGroup, config_groups, study_groups
from hpsweep.results._prune import Criterion, PrunePlan, delete_folders, parse_criteria, plan_prune
from hpsweep.results._rows import group_rows, report_rows
from hpsweep.results._study import SEEDS_FILE, StudyData, load_study_data, parse_states, trial_value
from hpsweep.results._table import (
    best_trials,
    decision_rows,
    format_cell,
    pareto_trials,
    parse_sort,
    sort_trials,
    trials_frame,
)

if TYPE_CHECKING:
    from hpsweep.results._importance import importance_note
    from hpsweep.results._seeds import (
        KeySummary,
        SeedsSummary,
        best_trial,
        choose_seeds,
        reference_seed,
        seed_sweep,
        seeds_summary,
        summary_text,
        write_seeds_summary,
    )
    from hpsweep.results._series import thin_indices

# imported on first use: the seeds module loads NumPy and the space, which `report` never needs
_LAZY = {
    **dict.fromkeys(("KeySummary", "SeedsSummary", "best_trial", "choose_seeds", "reference_seed",
                     "seed_sweep", "seeds_summary", "summary_text", "write_seeds_summary"),
                    "hpsweep.results._seeds"),
    "param_importance": "hpsweep.results._importance",
    "importance_note": "hpsweep.results._importance",
    "thin_indices": "hpsweep.results._series",
    "METHODS": "hpsweep.results._importance",
    "to_optuna_study": "hpsweep.results._optuna",
    "export_to_storage": "hpsweep.results._optuna",
    "frozen_trials": "hpsweep.results._optuna",
    "write_plots": "hpsweep.results._plots",
    "mpl_figure": "hpsweep.results._plots",
    "html_figure": "hpsweep.results._plots",
    "KINDS": "hpsweep.results._plots",
}

__all__ = [
    "KINDS",
    "METHODS",
    "SEEDS_FILE",
    "ConfigGroup",
    "Criterion",
    "KeySummary",
    "PrunePlan",
    "SeedsSummary",
    "StudyData",
    "best_trial",
    "best_trials",
    "choose_seeds",
    "config_groups",
    "decision_rows",
    "delete_folders",
    "export_to_storage",
    "format_cell",
    "frozen_trials",
    "group_rows",
    "html_figure",
    "importance_note",
    "load_study_data",
    "mpl_figure",
    "param_importance",
    "pareto_trials",
    "parse_criteria",
    "parse_sort",
    "parse_states",
    "plan_prune",
    "reference_seed",
    "report_rows",
    "seed_sweep",
    "seeds_summary",
    "sort_trials",
    "study_groups",
    "summary_text",
    "thin_indices",
    "to_optuna_study",
    "trial_value",
    "trials_frame",
    "write_plots",
    "write_seeds_summary",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hpsweep.results' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
