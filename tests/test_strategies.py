"""Every strategy passes the common check suite; strategy-specific behaviour."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skal_power
from skal_power import (
    BALD,
    BatchBALD,
    BatchEIG,
    BatchEPIG,
    BatchEvaluationBALD,
    MaxEntropy,
    PowerBALD,
    PowerEntropy,
    RandomSampling,
    SoftmaxBALD,
    SoftrankBALD,
    ThompsonBALD,
    UniformTopBALD,
)
from skal_power.sampling import LinearSchedule
from skal_power.scores import bald
from skal_power.adapters import sampled_log_proba
from skal_power.strategies import QueryStrategy



def all_strategy_classes():
    classes = []
    for name in skal_power.__all__:
        obj = getattr(skal_power, name)
        if inspect.isclass(obj) and issubclass(obj, QueryStrategy) and obj is not QueryStrategy:
            classes.append(obj)
    return classes


def test_every_named_strategy_of_the_design_that_exists_is_exported():
    names = {cls.__name__ for cls in all_strategy_classes()}
    assert {"BALD", "PowerBALD", "SoftmaxBALD", "SoftrankBALD", "UniformTopBALD",
            "ThompsonBALD", "RandomSampling"} <= names


# The common checks of every strategy run in tests/test_common.py, one test per
# (strategy, check).


@pytest.mark.parametrize(
    "strategy",
    [BALD(), PowerBALD(), SoftmaxBALD(), SoftrankBALD(), UniformTopBALD(), ThompsonBALD()],
    ids=lambda s: type(s).__name__,
)
def test_bald_family_on_a_point_estimate_says_what_to_use(strategy):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    with pytest.raises(ValueError, match="ensemble.*Committee.*MC-dropout"):
        strategy(model, X, n_instances=1)


@pytest.mark.parametrize("strategy", [MaxEntropy(), PowerEntropy(random_state=0)],
                         ids=lambda s: type(s).__name__)
def test_entropy_strategies_work_on_a_point_estimate(strategy):
    X = np.linspace(-2, 2, 20)[:, None]
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    indices, scores = strategy(model, X, n_instances=3)
    assert len(set(indices.tolist())) == 3


def test_bald_top_b_matches_scores(fitted_forest, digits_split):
    X_pool = digits_split[2]
    indices, scores = BALD()(fitted_forest, X_pool, n_instances=10)
    expected = bald(sampled_log_proba(fitted_forest, X_pool))
    np.testing.assert_allclose(scores, np.sort(expected)[::-1][:10])
    np.testing.assert_allclose(expected[indices], scores)


def test_huge_alpha_is_top_b(fitted_forest, digits_split):
    X_pool = digits_split[2]
    # Forest BALD scores tie often; compare the selected scores, not the tie-broken indices.
    _, top = BALD()(fitted_forest, X_pool, n_instances=8)
    _, power = PowerBALD(alpha=1e7, random_state=3)(fitted_forest, X_pool, n_instances=8)
    np.testing.assert_allclose(np.sort(power), np.sort(top))


def test_alpha_zero_ignores_scores_and_matches_random_distribution(fitted_forest, digits_split):
    X_pool = digits_split[2][:50]
    counts = np.zeros(len(X_pool))
    for seed in range(300):
        indices, _ = PowerBALD(alpha=0.0, random_state=seed)(fitted_forest, X_pool, n_instances=5)
        counts[indices] += 1
    # Each point is picked with probability 5/50 per draw: 30 expected of 300.
    # Max over 50 binomial(300, 0.1) counts exceeds 55 with probability < 1e-5.
    assert counts.max() < 55 and counts.min() > 8


def test_seeds_reproduce_and_differ(fitted_forest, digits_split):
    X_pool = digits_split[2]
    runs = {seed: PowerBALD(random_state=seed)(fitted_forest, X_pool, n_instances=10)[0]
            for seed in (0, 1)}
    again = PowerBALD(random_state=0)(fitted_forest, X_pool, n_instances=10)[0]
    np.testing.assert_array_equal(runs[0], again)
    assert not np.array_equal(runs[0], runs[1])


def test_random_state_instance_advances_between_calls(fitted_forest, digits_split):
    X_pool = digits_split[2]
    strategy = PowerBALD(random_state=np.random.RandomState(0))
    first = strategy(fitted_forest, X_pool, n_instances=10)[0]
    second = strategy(fitted_forest, X_pool, n_instances=10)[0]
    assert not np.array_equal(first, second)


def test_chunk_size_does_not_change_the_batch(fitted_forest, digits_split):
    X_pool = digits_split[2]
    whole = PowerBALD(random_state=5, chunk_size=10_000)(fitted_forest, X_pool, n_instances=12)
    chunked = PowerBALD(random_state=5, chunk_size=37)(fitted_forest, X_pool, n_instances=12)
    np.testing.assert_array_equal(whole[0], chunked[0])
    np.testing.assert_allclose(whole[1], chunked[1])


def test_schedule_follows_round_keyword(fitted_forest, digits_split):
    X_pool = digits_split[2]
    schedule = LinearSchedule(0.0, 1e7, n_rounds=1)
    cold = PowerBALD(alpha=schedule, random_state=1)
    uniform, _ = cold(fitted_forest, X_pool, n_instances=6, round=0)
    plain_random, _ = PowerBALD(alpha=0.0, random_state=1)(fitted_forest, X_pool, n_instances=6)
    np.testing.assert_array_equal(uniform, plain_random)
    _, sharp = cold(fitted_forest, X_pool, n_instances=6, round=5)
    _, top = BALD()(fitted_forest, X_pool, n_instances=6)
    np.testing.assert_allclose(np.sort(sharp), np.sort(top))


def test_schedule_uses_query_counter_by_default(fitted_forest, digits_split):
    X_pool = digits_split[2]
    strategy = PowerBALD(alpha=LinearSchedule(0.0, 1e7, n_rounds=1), random_state=1)
    strategy(fitted_forest, X_pool, n_instances=6)
    assert strategy.n_queries_ == 1
    _, second = strategy(fitted_forest, X_pool, n_instances=6)
    _, top = BALD()(fitted_forest, X_pool, n_instances=6)
    np.testing.assert_allclose(np.sort(second), np.sort(top))


@pytest.mark.parametrize(
    "strategy, message",
    [
        (PowerBALD(alpha=-1.0), "alpha"),
        (PowerBALD(alpha=np.nan), "alpha"),
        (PowerBALD(alpha=LinearSchedule(0.0, -2.0, 1)), "alpha"),
        (SoftmaxBALD(beta=-0.5), "beta"),
        (SoftrankBALD(beta="sharp"), "beta"),
        (UniformTopBALD(factor=0), "factor"),
        (BALD(n_samples=0), "n_samples"),
        (BALD(chunk_size=0), "chunk_size"),
        (RandomSampling(random_state=-3), "random_state"),
        (BatchBALD(max_memory=0), "max_memory"),
    ],
    ids=lambda x: x if isinstance(x, str) else type(x).__name__,
)
def test_invalid_parameters_are_rejected_by_name(strategy, message, fitted_forest, digits_split):
    with pytest.raises((ValueError, TypeError), match=message):
        strategy(fitted_forest, digits_split[2][:20], n_instances=2, round=3)


def test_nan_predictions_are_an_error_not_a_batch(digits_split):
    class Broken:
        classes_ = np.array([0, 1])

        def predict_proba_samples(self, X, n_samples):
            probs = np.full((len(X), n_samples, 2), 0.5)
            probs[3, 1, 0] = np.nan
            return probs

    with pytest.raises(ValueError, match="NaN"):
        PowerBALD(random_state=0)(Broken(), np.zeros((10, 2)), n_instances=2)


def test_pipeline_of_scaler_and_forest(digits_split):
    X_train, y_train, X_pool, _ = digits_split
    pipe = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=8, random_state=0))
    pipe.fit(X_train, y_train)
    for strategy in (BALD(), PowerBALD(random_state=0), ThompsonBALD(random_state=0)):
        indices, scores = strategy(pipe, X_pool, n_instances=5)
        assert len(set(indices.tolist())) == 5 and np.all(scores >= 0)


def test_uniform_top_draws_from_top_b_times_classes(fitted_forest, digits_split):
    X_pool = digits_split[2]
    indices, _ = UniformTopBALD(random_state=0)(fitted_forest, X_pool, n_instances=3)
    scores = bald(sampled_log_proba(fitted_forest, X_pool))
    threshold = np.sort(scores)[::-1][3 * 10 - 1]
    assert np.all(scores[indices] >= threshold)


def test_thompson_scores_are_single_sample_kl(fitted_forest, digits_split):
    X_pool = digits_split[2][:80]
    indices, scores = ThompsonBALD(random_state=0)(fitted_forest, X_pool, n_instances=5)
    log_probs = sampled_log_proba(fitted_forest, X_pool).astype(np.float64)
    probs = np.exp(log_probs)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_mean = np.log(probs.mean(1))
        kl = np.nansum(probs * (log_probs - log_mean[:, None, :]), axis=-1)
    # Each score is the KL of its point under some posterior sample.
    for index, score in zip(indices, scores):
        assert np.isclose(kl[index], score, atol=1e-5).any()


def test_strategies_clone_with_params():
    strategy = PowerBALD(alpha=LinearSchedule(0, 8, 4), n_samples=7, random_state=2)
    copy = clone(strategy)
    assert copy.get_params() == strategy.get_params()


def model_strategy_classes():
    """Strategies that look at the classifier (all but RandomSampling)."""
    return [c for c in all_strategy_classes() if c is not RandomSampling]


@pytest.mark.parametrize("strategy_class", model_strategy_classes(), ids=lambda c: c.__name__)
def test_unfitted_classifier_is_an_error(strategy_class, digits_split, query_kwargs_for):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        strategy_class(random_state=0)(RandomForestClassifier(), digits_split[2][:10],
                                       n_instances=2, **query_kwargs_for(strategy_class))


@pytest.mark.parametrize("strategy_class", model_strategy_classes(), ids=lambda c: c.__name__)
def test_pool_features_must_match_the_model(strategy_class, fitted_forest, query_kwargs_for):
    with pytest.raises(ValueError, match="features"):
        strategy_class(random_state=0)(fitted_forest, np.zeros((10, 5)), n_instances=2,
                                       **query_kwargs_for(strategy_class))


# ------------------------------------------------- issue 29: K = 1 and uninformative scores
@pytest.mark.parametrize("strategy_class", [skal_power.EPIG, skal_power.PowerEPIG])
def test_epig_on_a_single_model_raises_the_k1_error(strategy_class, digits_split):
    # issue 29 item 1: every score was 0.0 and the picks were the seeded tie-break
    X_train, y_train, X_pool, _ = digits_split
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(X_train,
                                                                                y_train)
    with pytest.raises(ValueError, match=rf"{strategy_class.__name__} needs at least 2 "
                                         r"posterior samples per point, but LogisticRegression "
                                         r"gives K = 1"):
        strategy_class(random_state=0)(model, X_pool, n_instances=3)


@pytest.mark.parametrize("strategy_class", [BALD, skal_power.MaxEntropy, skal_power.EPIG])
def test_top_b_on_a_one_class_model_warns_as_power_does(strategy_class, digits_split):
    # issue 29 item 3: all scores 0, a random batch and no warning
    X_train, _, X_pool, _ = digits_split
    model = RandomForestClassifier(n_estimators=4, random_state=0).fit(
        X_train, np.zeros(len(X_train), dtype=int))
    with pytest.warns(skal_power.sampling.AcquisitionWarning,
                      match=r"Only 0 of 500 pool points have a positive acquisition score; 3 "
                            r"points .* tie-break"):
        strategy_class(random_state=0)(model, X_pool, n_instances=3)


# ------------------------------------------------------------- issue 29: progress bars
@pytest.fixture
def bars(monkeypatch):
    """``(description, count, total)`` of every tqdm bar closed during the test."""
    import tqdm.auto

    closed = []

    class Recording(tqdm.auto.tqdm):
        def close(self):
            if not getattr(self, "recorded", False):  # tqdm closes again when collected
                self.recorded = True
                closed.append((self.desc, self.n, self.total))
            super().close()

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    return closed


@pytest.mark.parametrize("make", [
    lambda: BALD(chunk_size=100, random_state=0, progress=True),
    lambda: skal_power.PowerBALD(chunk_size=100, random_state=0, progress=True),
    lambda: skal_power.EPIG(chunk_size=100, random_state=0, progress=True),
    lambda: skal_power.ThompsonBALD(chunk_size=100, random_state=0, progress=True),
    # (the raw objective: 8 trees are spent within a few picks, which would warn)
    lambda: skal_power.BatchBALD(chunk_size=100, random_state=0, progress=True,
                                 on_saturation="continue"),
])
def test_progress_shows_a_bar_over_pool_chunks_and_changes_no_pick(make, digits_split,
                                                                  fitted_forest, capsys,
                                                                  bars):
    _, _, X_pool, _ = digits_split
    strategy = make()
    shown = strategy(fitted_forest, X_pool, n_instances=3)
    assert f"{type(strategy).__name__} pool" in capsys.readouterr().err
    assert (f"{type(strategy).__name__} pool", 500, 500) in bars  # every chunk counted
    quiet = clone(strategy).set_params(progress=False)(fitted_forest, X_pool, n_instances=3)
    assert capsys.readouterr().err == ""
    np.testing.assert_array_equal(shown[0], quiet[0])
    np.testing.assert_array_equal(shown[1], quiet[1])


def test_progress_of_evaluation_strategies_covers_both_passes(digits_split, fitted_forest,
                                                            bars):
    X_train, y_train, X_pool, _ = digits_split
    skal_power.EIG(chunk_size=200, eval_size=50, random_state=0, progress=True)(
        fitted_forest, X_pool, n_instances=2, X_training=X_train, y_training=y_train)
    assert bars == [("EIG pool pass", 500, 500)] * 2  # M, then M′


def test_progress_must_be_a_bool(digits_split, fitted_forest):
    with pytest.raises((TypeError, ValueError), match="progress"):
        BALD(progress="yes")(fitted_forest, digits_split[2], n_instances=2)


def test_repr_summarises_array_parameters_and_keeps_them():
    # The repr used to print the whole X_target array (hundreds of characters per strategy).
    X_target = np.random.default_rng(0).random((300, 64))
    for strategy in (skal_power.EPIG(X_target=X_target, random_state=0),
                     skal_power.PowerEPIG(X_target=X_target, alpha=2.0)):
        text = repr(strategy)
        assert "X_target=<ndarray of shape (300, 64), float64>" in text
        assert len(text) < 100 and "array(" not in text
        assert strategy.X_target is X_target          # the repr changed nothing
        assert np.array_equal(clone(strategy).X_target, X_target)
    assert repr(skal_power.PowerBALD(alpha=3.0)) == "PowerBALD(alpha=3.0)"


@pytest.mark.parametrize("strategy, steps", [
    (BatchBALD(random_state=0), ["pool pass"]),
    (BatchEIG(random_state=0), ["first pass (M)", "fit M′", "second pass (M′)"]),
    (BatchEvaluationBALD(random_state=0), ["first pass (M)", "fit M′", "second pass (M′)"]),
    (BatchEPIG(target_size=20, random_state=0), ["pool pass", "target pass"]),
], ids=lambda value: type(value).__name__ if not isinstance(value, list) else "")
def test_greedy_strategies_time_each_step_and_the_greedy(strategy, steps, digits_split,
                                                         fitted_forest):
    """timings_ says where a greedy query's time went; timing leaves the picks as they were."""
    X_train, y_train, X_pool = digits_split[0], digits_split[1], digits_split[2][:150]
    kwargs = ({"X_training": X_train, "y_training": y_train}
              if isinstance(strategy, (BatchEIG, BatchEvaluationBALD)) else {})
    indices, scores = strategy(fitted_forest, X_pool, n_instances=2, **kwargs)
    assert list(strategy.timings_) == steps + ["greedy"]
    assert all(seconds >= 0 for seconds in strategy.timings_.values())
    again, _ = clone(strategy)(fitted_forest, X_pool, n_instances=2, **kwargs)
    np.testing.assert_array_equal(indices, again)
    assert "timings_ : dict" in type(strategy).__doc__
