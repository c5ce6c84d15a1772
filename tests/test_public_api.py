"""The public names of hpsweep and of each package: a change to them is a change of the API,
made on purpose (update this list with it)."""

from __future__ import annotations

import importlib

import pytest

PUBLIC: dict[str, list[str]] = {
    "hpsweep": [
        "LRFinderConfig", "LearningRateFinder", "SearchConfig", "SearchEngine", "SearchResult",
        "SearchSpace", "TrialManager", "TrialPruned", "__version__", "report"
    ],
    "hpsweep.space": [
        "ArgSlot", "ArgStyle", "BoolStyle", "Categorical", "Condition", "ConfigFile",
        "DISTRIBUTIONS", "Fixed", "Float", "Grid", "Int", "MAX_BRANCHES", "MAX_EXPANDED",
        "OptionForm", "PLACEHOLDERS", "Param", "RenderedTrial", "SearchSpace", "Sweep",
        "TrialContext", "format_option", "format_value", "grid_module_conventions", "none_sweep", "param_from_dict",
        "parse_inline", "parse_literal", "parse_sweep_value", "space_from_grid",
        "sweep_from_grid_module", "sweep_from_yaml"
    ],
    "hpsweep.search": [
        "Mode", "OptunaSearcher", "PointsFirst", "STRATEGIES", "Searcher", "make_searcher",
        "pareto_front"
    ],
    "hpsweep.schedulers": [
        "ASHAScheduler", "BOHBScheduler", "DyHPOScheduler", "FIFOScheduler", "HyperbandScheduler",
        "MedianStoppingScheduler", "PBTScheduler", "PromotionASHAScheduler",
        "PromotionHyperbandScheduler", "SCHEDULERS", "Scheduler", "TrackingScheduler",
        "all_options", "geometric_rungs", "linear_rungs", "make_scheduler", "register_scheduler",
        "scheduler_class", "scheduler_options"
    ],
    "hpsweep.tuner": [
        "Launcher", "TuneResult", "Tuner", "TunerCallback", "derive_seed", "reached_step"
    ],
    "hpsweep.executors": [
        "make_remote_executor"
    ],
    "hpsweep.store": [
        "Event", "ResultsCsv", "SCHEMA_VERSION", "Store", "StudyDir", "active_seconds", "trial_row",
        "write_failure"
    ],
    "hpsweep.results": [
        "ConfigGroup", "Criterion", "KINDS", "KeySummary", "METHODS", "PrunePlan", "SEEDS_FILE",
        "SeedsSummary", "StudyData", "best_trial", "best_trials", "choose_seeds", "config_groups",
        "decision_rows", "delete_folders", "export_to_storage", "format_cell", "frozen_trials",
        "group_rows", "html_figure", "importance_note", "load_study_data", "mpl_figure",
        "param_importance", "pareto_trials", "parse_criteria", "parse_sort", "parse_states",
        "plan_prune", "reference_seed", "report_rows", "seed_sweep", "seeds_summary",
        "sort_trials", "study_groups", "summary_text", "thin_indices", "to_optuna_study",
        "trial_value", "trials_frame", "write_plots", "write_seeds_summary"
    ],
    "hpsweep.api": [
        "LRFinderConfig", "LRFinderResult", "LearningRateFinder", "SearchConfig", "SearchEngine",
        "SearchResult", "TrialHandle", "TrialManager", "TrialPruned"
    ],
    "hpsweep.bench": [
        "Benchmark", "CrossingCurves", "LCBENCH_DEV_TASKS", "LCBench", "LCBenchModel"
    ],
    "hpsweep.testing": [],
    "hpsweep.testing.executors": [
        "ExecutorConformance", "FakeTarget", "FunctionTarget", "PROGRAM", "SimulatedTarget",
        "Target", "collect", "exited", "exits", "make_spec", "reports"
    ],
    "hpsweep.testing.schedulers": [
        "MAX_RESOURCE", "SchedulerFactory", "check_decisions", "check_end_state", "check_restore",
        "check_scheduler", "check_seeded", "simulate"
    ],
    "hpsweep.testing.searchers": [
        "SearcherFactory", "check_branches", "check_failures", "check_in_space", "check_parallel",
        "check_restore", "check_searcher", "check_seeded", "conditional_space", "drive",
        "finite_space", "objective"
    ],
    "hpsweep.testing.store": [
        "DATA", "check_concurrent_readers", "check_every_version_kept", "check_opens_version",
        "check_round_trip", "check_store", "contents", "write_example"
    ],
    "hpsweep.dashboard": [
        "Dashboard", "DashboardServer", "Response", "export_html", "is_loopback"
    ],
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_public_names_are_pinned(package: str) -> None:
    module = importlib.import_module(package)
    names = sorted(getattr(module, "__all__", []))
    assert names == PUBLIC[package], f"{package}.__all__ changed"
    for name in names:  # every public name resolves
        assert getattr(module, name) is not None


def test_no_package_imports_another_packages_private_modules() -> None:
    """What one package uses of another is in that package's ``__all__``."""
    import re
    from pathlib import Path

    import hpsweep

    root = Path(hpsweep.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        package = path.relative_to(root).parts[0].removesuffix(".py")
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = re.match(r"\s*from hpsweep\.(\w+)\.(_\w+) import", line)
            if match and match.group(1) != package:
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert found == []
