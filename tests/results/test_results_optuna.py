"""The Optuna conversion: export to a storage, importance and plots, on real studies."""

from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from hpsweep.cli.main import main
from hpsweep.results import (
    load_study_data,
    mpl_figure,
    param_importance,
    to_optuna_study,
    write_plots,
)
from hpsweep.results._plots import KINDS


def test_export_loads_with_the_same_trials_and_values(importance_study: Path, tmp_path: Path,
                                                      capsys) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["export", str(importance_study), "--optuna", url, "--study-name", "s1"]) == 0
    assert "exported 30 trials" in capsys.readouterr().out
    loaded = optuna.load_study(study_name="s1", storage=url)
    data = load_study_data(importance_study)
    assert len(loaded.trials) == len(data.trials) == 30
    assert loaded.direction == optuna.study.StudyDirection.MINIMIZE
    by_id = {t.user_attrs["hpsweep_trial_id"]: t for t in loaded.trials}
    for trial in data.trials:
        exported = by_id[trial.trial_id]
        assert exported.state == optuna.trial.TrialState.COMPLETE
        assert exported.value == pytest.approx(trial.last_metrics["loss"])
        assert exported.params == {k: pytest.approx(v) for k, v in trial.config.items()}
        assert exported.intermediate_values == {
            r.step: pytest.approx(r.metrics["loss"]) for r in trial.reports}
        assert isinstance(exported.distributions["a"], FloatDistribution)
        assert exported.distributions["a"].low == 0.0 and exported.distributions["a"].high == 1.0
    best = min(data.trials, key=lambda t: t.last_metrics["loss"])
    assert loaded.best_trial.user_attrs["hpsweep_trial_id"] == best.trial_id


def _journal(path: Path) -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(path)))


def _same_trials(a: optuna.Study, b: optuna.Study) -> None:
    """Trial by trial: states, values, params, distributions, intermediate values, attrs."""
    left, right = a.get_trials(deepcopy=False), b.get_trials(deepcopy=False)
    assert len(left) == len(right) > 0
    for x, y in zip(left, right):
        assert (x.number, x.state, x.values, x.params) == (y.number, y.state, y.values, y.params)
        assert x.distributions == y.distributions
        assert x.intermediate_values == y.intermediate_values
        assert x.user_attrs == y.user_attrs
        assert (x.datetime_start, x.datetime_complete) == (y.datetime_start, y.datetime_complete)


def test_journal_export_loads_back_as_the_sqlite_export_does(importance_study: Path,
                                                             tmp_path: Path, capsys) -> None:
    journal, url = tmp_path / "study.log", f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["export", str(importance_study), "--optuna", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "exported 30 trials to the Optuna journal" in out and "optuna-dashboard" in out
    assert main(["export", str(importance_study), "--optuna", url]) == 0
    name = load_study_data(importance_study).name
    from_journal = optuna.load_study(study_name=name, storage=_journal(journal))
    _same_trials(from_journal, optuna.load_study(study_name=name, storage=url))
    assert from_journal.metric_names == ["loss"]
    assert from_journal.direction == optuna.study.StudyDirection.MINIMIZE
    # the journal keeps what was in it: a second study is appended, a taken name refused
    assert main(["export", str(importance_study), "--optuna", str(journal),
                 "--study-name", "again"]) == 0
    assert main(["export", str(importance_study), "--optuna", str(journal)]) == 2
    assert "--study-name" in capsys.readouterr().err
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(_journal(journal)))
    assert names == sorted([name, "again"])
    _same_trials(from_journal, optuna.load_study(study_name="again", storage=_journal(journal)))


def test_export_writes_a_journal_in_the_study_folder_by_default(importance_study: Path,
                                                                tmp_path: Path) -> None:
    study = tmp_path / "copy"
    shutil.copytree(importance_study, study)
    assert main(["export", str(study)]) == 0
    loaded = optuna.load_study(study_name=None, storage=_journal(study / "optuna.log"))
    assert len(loaded.trials) == 30
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in loaded.trials)


def test_export_names_what_is_wrong_with_a_journal_target(importance_study: Path,
                                                          tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.log").write_text("not a journal\n")
    for target, words in [(tmp_path / "notes.log", "not an Optuna journal"),
                          (tmp_path, "is a folder"),
                          (tmp_path / "missing" / "x.log", "does not exist"),
                          (tmp_path / "x.sqlite3", "sqlite:///")]:
        assert main(["export", str(importance_study), "--optuna", str(target)]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    assert (tmp_path / "notes.log").read_text() == "not a journal\n"
    assert not (tmp_path / "x.sqlite3").exists()


def test_export_refuses_a_taken_name(importance_study: Path, tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["export", str(importance_study), "--optuna", url, "--study-name", "s"]) == 0
    assert main(["export", str(importance_study), "--optuna", url, "--study-name", "s"]) == 2
    assert "--study-name" in capsys.readouterr().err
    assert main(["export", str(importance_study), "--optuna", "x.db"]) == 2


def test_categorical_values_and_multi_objective(multi_study: Path, seeded_study: Path) -> None:
    study = to_optuna_study(load_study_data(seeded_study))
    dist = study.trials[0].distributions["x"]
    assert isinstance(dist, CategoricalDistribution) and set(dist.choices) == {1, 2, 3.5}
    multi = to_optuna_study(load_study_data(multi_study))
    assert len(multi.directions) == 2 and multi.metric_names == ["m", "cost"]
    assert all(len(t.values) == 2 for t in multi.trials)


@pytest.mark.parametrize("method", ["fanova", "ped-anova", "mdi"])
def test_importance_ranks_informative_parameters_first(importance_study: Path,
                                                       method: str) -> None:
    scores = param_importance(load_study_data(importance_study), method=method, seed=0)
    assert set(scores) == {"a", "b", "c"}
    assert sum(scores.values()) == pytest.approx(1.0)
    assert scores["a"] > scores["c"] and scores["b"] > scores["c"]
    if method != "ped-anova":  # the model-based ones also see b clearly
        assert scores["b"] > 0.05 and scores["a"] > scores["b"]


def test_importance_of_another_metric(importance_study: Path) -> None:
    scores = param_importance(load_study_data(importance_study), metric="acc")
    assert max(scores, key=scores.__getitem__) == "a" and scores["c"] < scores["b"]


def test_every_plot_written_and_not_empty(importance_study: Path, tmp_path: Path,
                                          capsys) -> None:
    out = tmp_path / "plots"
    assert main(["plot", str(importance_study), "--out", str(out)]) == 0
    written = [Path(p) for p in capsys.readouterr().out.split()]
    expected = {f"{k}.{ext}" for k in KINDS if k != "seeds" for ext in ("png", "html")}
    assert {p.name for p in written} == expected
    for path in written:
        head = path.read_bytes()[:16]
        assert path.stat().st_size > 5000, path
        if path.suffix == ".png":
            assert head.startswith(b"\x89PNG")
        else:
            assert b"plotly" in path.read_bytes()[-2_000_000:].lower()


def test_plot_rejects_unknown_kind(importance_study: Path, capsys) -> None:
    assert main(["plot", str(importance_study), "--kind", "pie"]) == 2
    assert "--kind 'pie'" in capsys.readouterr().err


def test_history_figure_has_both_panels(importance_study: Path) -> None:
    fig = mpl_figure("history", load_study_data(importance_study))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["best so far over trials", "best so far over time"]
    best_line = fig.axes[0].lines[0].get_ydata()
    assert list(best_line) == sorted(best_line, reverse=True)  # best so far never gets worse


def test_write_plots_with_kinds_and_formats(seeded_study: Path, tmp_path: Path) -> None:
    data = load_study_data(seeded_study)
    written = write_plots(data, tmp_path, kinds=["history", "slice"], formats=["html"])
    assert sorted(p.name for p in written) == ["history.html", "slice.html"]


def test_auto_method_and_unknown_method(importance_study: Path) -> None:
    from hpsweep.errors import UsageError
    from hpsweep.results._importance import resolve_method

    assert resolve_method("auto", 30) == "fanova" and resolve_method("auto", 5000) == "mdi"
    data = load_study_data(importance_study)
    assert param_importance(data) == param_importance(data, method="fanova")
    with pytest.raises(UsageError, match="importance method 'shap'"):
        param_importance(data, method="shap")


def test_learning_curves_draw_every_trial_report(importance_study: Path) -> None:
    from matplotlib.collections import LineCollection

    data = load_study_data(importance_study)
    ax = mpl_figure("curves", data).axes[0]
    (bundle,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    drawn = [tuple(round(v, 9) for v in seg[:, 1]) for seg in bundle.get_segments()]
    drawn += [tuple(round(v, 9) for v in line.get_ydata()) for line in ax.get_lines()]
    assert len(ax.get_lines()) == 1 and len(drawn) == 30  # the winner on its own, on top
    reported = sorted(tuple(round(r.metrics["loss"], 9) for r in t.reports) for t in data.trials)
    assert sorted(drawn) == reported


def test_parallel_coordinates_one_line_per_completed_trial(importance_study: Path) -> None:
    from matplotlib.collections import LineCollection

    from hpsweep.results import html_figure
    from hpsweep.results._mpl import parallel_axes

    data = load_study_data(importance_study)
    axes = parallel_axes(data)
    assert [a.name for a in axes.columns] == ["a", "b", "c", "loss"] and axes.n == 30
    ax = mpl_figure("parallel", data).axes[0]
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == 30
    best = min(data.trials, key=lambda t: t.last_metrics["loss"])
    a = axes.columns[0]
    low, high = min(t.config["a"] for t in data.trials), max(t.config["a"] for t in data.trials)
    (red,) = [line for line in ax.get_lines() if line.get_label() == "best trial"]
    assert red.get_ydata()[0] == pytest.approx((best.config["a"] - low) / (high - low))
    assert min(a.values) == 0.0 and max(a.values) == 1.0
    dims = html_figure("parallel", data).data[0].dimensions
    assert [d.label for d in dims] == ["a", "b", "c", "loss"] and len(dims[0].values) == 30
