"""Paired gains over a baseline: the numbers behind every study page, and their figure."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from skal_power.experiments import gain_summary, paired_gains, plot_gains


def _frame(gains_by_seed, baseline=(0.5, 0.6)):
    """Two label counts per seed; the strategy is the baseline plus each seed's gain."""
    rows = []
    for seed, gain in enumerate(gains_by_seed):
        for n, accuracy in zip((10, 20), baseline):
            rows.append(("RandomSampling", seed, n, accuracy))
            rows.append(("BALD", seed, n, accuracy + gain * n / 10))
    return pd.DataFrame(rows, columns=["strategy", "seed", "n_labelled", "accuracy"])


def test_area_is_the_per_seed_mean_difference_with_a_student_t_interval():
    gains = np.array([0.01, 0.03, 0.02, 0.05])
    table = paired_gains(_frame(gains))
    area = table[table["n_labelled"] == "area"].iloc[0]
    per_seed = gains * 1.5  # the mean over 10 and 20 labels of gain * n / 10
    assert area["mean"] == pytest.approx(per_seed.mean())
    half = stats.t.ppf(0.975, 3) * per_seed.std(ddof=1) / 2
    assert area["ci95"] == pytest.approx(half) and area["n_seeds"] == 4


def test_gains_are_paired_by_seed():
    # the baseline differs a lot between seeds, the gain hardly: pairing removes the spread
    frame = _frame([0.02, 0.02, 0.021])
    frame.loc[frame["seed"] == 1, "accuracy"] -= 0.3
    area = paired_gains(frame).query("n_labelled == 'area'").iloc[0]
    assert area["ci95"] < 0.01 and "ahead" in gain_summary(frame)


def test_no_baseline_no_gains():
    frame = _frame([0.1, 0.2]).query("strategy == 'BALD'")
    assert paired_gains(frame).empty and gain_summary(frame) == ""


def test_plot_gains_one_panel_per_pool(tmp_path, figures):
    panels = {"pool A": _frame([0.02, 0.03, 0.025]), "pool B": _frame([-0.05, 0.04, 0.0])}
    path = plot_gains(panels, tmp_path / "gains.png")
    assert path.stat().st_size > 1000
    axes = figures[0][0]
    assert [axis.get_title() for axis in axes] == ["pool A", "pool B"]
    # pool A's CI excludes 0 (a filled point), pool B's does not (a hollow one)
    filled, hollow = axes[0].lines[-2:]
    assert len(filled.get_xdata()) == 1 and len(hollow.get_xdata()) == 0
    filled, hollow = axes[1].lines[-2:]
    assert len(filled.get_xdata()) == 0 and len(hollow.get_xdata()) == 1


def test_plot_gains_takes_one_frame_and_svg(tmp_path):
    assert plot_gains(_frame([0.01, 0.02]), tmp_path / "g.svg").stat().st_size > 1000


def test_one_seed_has_no_ci_and_is_drawn_hollow(tmp_path, figures):
    plot_gains(_frame([0.05]), tmp_path / "g.png")
    filled, hollow = figures[0][0][0].lines[-2:]
    assert len(filled.get_xdata()) == 0 and len(hollow.get_xdata()) == 1


def test_plot_gains_needs_the_baseline(tmp_path):
    alone = _frame([0.1, 0.2]).query("strategy == 'BALD'")
    with pytest.raises(ValueError, match="baseline 'RandomSampling' and another"):
        plot_gains({"A": alone}, tmp_path / "g.png")
    with pytest.raises(ValueError, match="png or .svg"):
        plot_gains(_frame([0.1, 0.2]), tmp_path / "g.pdf")
