"""Reproducible active-learning experiments (DESIGN.md section 8).

:func:`run_experiment` runs every (strategy, seed) trial of a config in
parallel processes, appending one row per acquisition round to a results CSV
so that a killed run resumes and gives the same numbers;
:func:`summarize`, :func:`plot_curves` and :func:`report_table` turn the
results into learning curves (mean and Student-t 95% CI over seeds).
"""

try:  # the study tools need the "study" extra; the strategies do not
    import matplotlib  # noqa: F401
    import pandas  # noqa: F401
except ImportError as _missing:
    raise ImportError(
        f"skal_power.experiments (the study tools and the skal-power command) needs pandas and "
        f"matplotlib ({_missing}); install them with pip install \"skal_power[study]\"."
    ) from None

from ._acquired import acquired_fractions, acquired_rows, copy_flags, fraction_table
from ._config import (PRESETS, ConfigError, DatasetSpec, ExperimentConfig, InitialSpec, ModelSpec,
                      StrategySpec, TransformSpec, check_config, config_hash, load_config,
                      n_rounds)
from ._costs import cost_summary, cost_table, remaining_cost, timings_path
from ._curves import experiment_title, figure_target, plot_curves, report_table, summarize
from ._gain import (complete_seeds, gain_cell, gain_summary, gain_table, paired_gains,
                    plot_gains)
from ._histograms import class_histogram, histogram_table, plot_class_histogram
from ._results import COLUMNS, ResultsFileError, load_results
from ._data import TrialData, derive_seed, make_data, validation_source
from ._runner import (config_path, evaluate, initial_indices, labelled_before, make_model,
                      make_strategy, query_round, run_experiment, train_round)
from ._sessions import machine_record, sessions_path, source_revision
from ._statistics import t_half_width, t_interval
from ._user_data import DataFileError, LabelledData, check_labelled, read_labelled

__all__ = [
    "COLUMNS",
    "PRESETS",
    "ConfigError",
    "DataFileError",
    "DatasetSpec",
    "ExperimentConfig",
    "InitialSpec",
    "LabelledData",
    "ModelSpec",
    "ResultsFileError",
    "StrategySpec",
    "TransformSpec",
    "TrialData",
    "acquired_fractions",
    "acquired_rows",
    "check_config",
    "check_labelled",
    "class_histogram",
    "complete_seeds",
    "config_hash",
    "config_path",
    "copy_flags",
    "cost_summary",
    "cost_table",
    "derive_seed",
    "evaluate",
    "fraction_table",
    "experiment_title",
    "figure_target",
    "gain_cell",
    "gain_summary",
    "gain_table",
    "histogram_table",
    "initial_indices",
    "labelled_before",
    "load_config",
    "load_results",
    "machine_record",
    "make_data",
    "make_model",
    "make_strategy",
    "n_rounds",
    "paired_gains",
    "remaining_cost",
    "plot_class_histogram",
    "plot_curves",
    "plot_gains",
    "t_half_width",
    "t_interval",
    "query_round",
    "read_labelled",
    "report_table",
    "run_experiment",
    "sessions_path",
    "source_revision",
    "summarize",
    "timings_path",
    "train_round",
    "validation_source",
]
