"""sampled_log_proba: every supported posterior gives aligned (N, K, C) log-probs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skal_power.adapters import posterior_classes, sampled_log_proba


def _normalised(log_probs):
    return np.allclose(np.exp(log_probs.astype(np.float64)).sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "ensemble",
    [
        RandomForestClassifier(n_estimators=6, random_state=0),
        ExtraTreesClassifier(n_estimators=5, random_state=0),
        BaggingClassifier(DecisionTreeClassifier(), n_estimators=4, max_features=0.5,
                          random_state=0),
    ],
    ids=["forest", "extra-trees", "bagging-feature-subsets"],
)
def test_ensemble_members_are_the_samples_and_average_to_predict_proba(ensemble, digits_split):
    X_train, y_train, X_pool, _ = digits_split
    ensemble.fit(X_train, y_train)
    log_probs = sampled_log_proba(ensemble, X_pool[:40])
    assert log_probs.shape == (40, len(ensemble.estimators_), 10)
    assert log_probs.dtype == np.float32
    assert _normalised(log_probs)
    mean = np.exp(log_probs.astype(np.float64)).mean(axis=1)
    np.testing.assert_allclose(mean, ensemble.predict_proba(X_pool[:40]), atol=1e-6)


def test_members_that_saw_fewer_classes_are_aligned_on_classes():
    # Labels are strings; a bagging member trained on a bootstrap that misses a class
    # must put zero (-inf) mass on it, in the ensemble's column order.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = np.array(["cat"] * 37 + ["dog", "emu", "emu"])
    bag = BaggingClassifier(KNeighborsClassifier(n_neighbors=1), n_estimators=8,
                            max_samples=10, random_state=0).fit(X, y)
    member_class_counts = {len(m.classes_) for m in bag.estimators_}
    assert min(member_class_counts) < 3, "fixture should contain a member missing a class"
    log_probs = sampled_log_proba(bag, X)
    assert log_probs.shape == (40, 8, 3)
    assert _normalised(log_probs)
    np.testing.assert_allclose(np.exp(log_probs.astype(np.float64)).mean(1),
                               bag.predict_proba(X), atol=1e-6)
    assert posterior_classes(bag).tolist() == ["cat", "dog", "emu"]


def test_voting_classifier_members_follow_encoded_labels():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 4))
    y = np.where(X[:, 0] > 0, 7, 3)
    vote = VotingClassifier(
        [("lr", LogisticRegression()), ("nb", GaussianNB())], voting="soft"
    ).fit(X, y)
    log_probs = sampled_log_proba(vote, X)
    assert log_probs.shape == (60, 2, 2)
    np.testing.assert_allclose(np.exp(log_probs.astype(np.float64)).mean(1),
                               vote.predict_proba(X), atol=1e-6)


def test_pipeline_transforms_then_uses_final_step(digits_split):
    X_train, y_train, X_pool, _ = digits_split
    pipe = make_pipeline(StandardScaler(),
                         RandomForestClassifier(n_estimators=5, random_state=0))
    pipe.fit(X_train, y_train)
    log_probs = sampled_log_proba(pipe, X_pool[:10])
    assert log_probs.shape == (10, 5, 10)
    direct = sampled_log_proba(pipe[-1], pipe[0].transform(X_pool[:10]))
    np.testing.assert_array_equal(log_probs, direct)


def test_plain_predict_proba_is_one_sample():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    log_probs = sampled_log_proba(model, X)
    assert log_probs.shape == (4, 1, 2)
    np.testing.assert_allclose(np.exp(log_probs[:, 0]), model.predict_proba(X), rtol=1e-6)


def test_gradient_boosting_is_not_mistaken_for_a_posterior_ensemble(digits_split):
    X_train, y_train, X_pool, _ = digits_split
    boost = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X_train, y_train)
    assert sampled_log_proba(boost, X_pool[:5]).shape == (5, 1, 10)


def test_zero_probabilities_become_minus_inf(digits_split):
    X_train, y_train, X_pool, _ = digits_split
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_train, y_train)
    log_probs = sampled_log_proba(forest, X_pool[:20])
    assert np.isneginf(log_probs).any()
    assert not np.isnan(log_probs).any()


class _Sampler:
    """A posterior with predict_proba_samples, recording the seeds it was given."""

    classes_ = np.array([0, 1])

    def __init__(self):
        self.seeds = []

    def predict_proba_samples(self, X, n_samples, random_state=None):
        self.seeds.append(random_state)
        rng = np.random.default_rng(random_state)
        p = rng.uniform(0.1, 0.9, size=(1, n_samples, 1))
        probs = np.concatenate([p, 1 - p], axis=-1)
        return np.broadcast_to(probs, (len(X), n_samples, 2))


def test_predict_proba_samples_gets_n_samples_and_seed():
    sampler = _Sampler()
    log_probs = sampled_log_proba(sampler, np.zeros((3, 2)), n_samples=7, random_state=11)
    assert log_probs.shape == (3, 7, 2)
    assert sampler.seeds == [11]


def test_pandas_pool_is_accepted(digits_split, fitted_forest):
    _, _, X_pool, _ = digits_split
    frame = pd.DataFrame(X_pool[:8])
    forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(
        pd.DataFrame(digits_split[0]), digits_split[1]
    )
    assert sampled_log_proba(forest, frame).shape == (8, 4, 10)


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        sampled_log_proba(RandomForestClassifier(), np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        sampled_log_proba(LogisticRegression(), np.zeros((2, 3)))


def test_feature_mismatch_is_a_clear_error(fitted_forest):
    with pytest.raises(ValueError, match="features"):
        sampled_log_proba(fitted_forest, np.zeros((2, 5)))


def test_object_without_probabilities_is_a_type_error():
    with pytest.raises(TypeError, match="predict_proba"):
        sampled_log_proba(object(), np.zeros((2, 3)))


def test_bad_n_samples_is_rejected(fitted_forest):
    with pytest.raises(ValueError, match="n_samples"):
        sampled_log_proba(fitted_forest, np.zeros((2, 64)), n_samples=0)


def test_registering_a_new_type():
    class Constant:
        pass

    @sampled_log_proba.register(Constant)
    def _(estimator, X, *, n_samples=20, random_state=None, dtype=np.float32):
        return np.log(np.full((len(X), 3, 4), 0.25, dtype=dtype))

    assert sampled_log_proba(Constant(), np.zeros((5, 1))).shape == (5, 3, 4)


# --- which ensembles are posteriors (issue: any object with estimators_ counted) -----

def _not_a_posterior(estimator, digits_split):
    from skal_power.scores import bald

    X_train, y_train, X_pool, _ = digits_split
    estimator.fit(X_train, y_train)
    log_probs = sampled_log_proba(estimator, X_pool[:20])
    assert log_probs.shape == (20, 1, len(np.unique(y_train)))
    np.testing.assert_allclose(np.exp(log_probs[:, 0]), estimator.predict_proba(X_pool[:20]),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        bald(log_probs)


@pytest.mark.parametrize("name", ["one-vs-rest", "adaboost", "gradient-boosting",
                                  "hist-gradient-boosting"])
def test_boosting_and_one_vs_rest_members_are_not_posterior_samples(name, digits_split):
    from sklearn.ensemble import AdaBoostClassifier, HistGradientBoostingClassifier
    from sklearn.multiclass import OneVsRestClassifier

    estimator = {
        "one-vs-rest": OneVsRestClassifier(GaussianNB()),
        "adaboost": AdaBoostClassifier(n_estimators=5, random_state=0),
        "gradient-boosting": GradientBoostingClassifier(n_estimators=3, random_state=0),
        "hist-gradient-boosting": HistGradientBoostingClassifier(max_iter=3, random_state=0),
    }[name]
    _not_a_posterior(estimator, digits_split)


def test_stacking_with_string_labels_is_one_sample(digits_split):
    from sklearn.ensemble import StackingClassifier

    X_train, y_train, X_pool, _ = digits_split
    labels = np.array([f"digit {d}" for d in y_train])
    stack = StackingClassifier([("nb", GaussianNB()), ("tree", DecisionTreeClassifier())],
                               final_estimator=GaussianNB(), cv=2).fit(X_train, labels)
    log_probs = sampled_log_proba(stack, X_pool[:5])
    assert log_probs.shape == (5, 1, 10)
    assert posterior_classes(stack).tolist() == sorted(set(labels.tolist()))


def test_soft_voting_members_are_samples_hard_voting_gives_no_probabilities(digits_split):
    from sklearn.ensemble import VotingClassifier

    X_train, y_train, X_pool, _ = digits_split
    members = [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(random_state=0))]
    soft = VotingClassifier(members, voting="soft").fit(X_train, y_train)
    assert sampled_log_proba(soft, X_pool[:5]).shape == (5, 2, 10)
    hard = VotingClassifier(members, voting="hard").fit(X_train, y_train)
    with pytest.raises(TypeError, match="gives no probabilities"):
        sampled_log_proba(hard, X_pool[:5])


def test_register_ensemble_declares_members_as_samples(digits_split):
    from sklearn.ensemble import AdaBoostClassifier

    from skal_power.adapters import register_ensemble

    X_train, y_train, X_pool, _ = digits_split

    class Averaged(AdaBoostClassifier):  # pretend its members are independent fits
        pass

    model = Averaged(n_estimators=3, random_state=0).fit(X_train, y_train)
    assert sampled_log_proba(model, X_pool[:4]).shape[1] == 1
    register_ensemble(Averaged, label_encoded=False)
    assert sampled_log_proba(model, X_pool[:4]).shape[1] == len(model.estimators_)
    with pytest.raises(TypeError, match="takes a class"):
        register_ensemble(model)


# --- pandas pools and regressors (modAL's example scripts) ---------------------------

@pytest.mark.parametrize("ensemble", [
    RandomForestClassifier(n_estimators=5, random_state=0),
    BaggingClassifier(DecisionTreeClassifier(), n_estimators=3, max_features=0.5,
                      random_state=0),
], ids=["forest", "bagging"])
def test_named_dataframe_pool_gives_no_feature_name_warnings(ensemble, digits_split):
    import warnings

    X_train, y_train, X_pool, _ = digits_split
    columns = [f"pixel {i}" for i in range(X_train.shape[1])]
    ensemble.fit(pd.DataFrame(X_train, columns=columns), y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 300 UserWarnings in 3 queries before
        frame = pd.DataFrame(X_pool[:10], columns=columns)
        from_frame = sampled_log_proba(ensemble, frame)
        np.testing.assert_allclose(np.exp(from_frame.astype(np.float64)).mean(axis=1),
                                   ensemble.predict_proba(frame), rtol=1e-5, atol=1e-6)
    # what the ensemble itself says about wrong names, we say too
    with pytest.raises(ValueError, match="feature names should match"):
        sampled_log_proba(ensemble, pd.DataFrame(X_pool[:3]).set_axis(
            [f"other {i}" for i in range(X_train.shape[1])], axis=1))


def test_regressors_are_refused_with_a_clear_message():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.linear_model import Ridge

    from skal_power import BALD, MaxEntropy

    X = np.random.default_rng(0).normal(size=(20, 3))
    for regressor in (GaussianProcessRegressor(optimizer=None), Ridge(),
                      make_pipeline(StandardScaler(), Ridge())):
        regressor.fit(X, X[:, 0])
        with pytest.raises(TypeError, match="regressor; skal_power scores classifiers only"):
            sampled_log_proba(regressor, X)
        with pytest.raises(TypeError, match="classifiers only"):
            MaxEntropy()(regressor, X, n_instances=2)
        with pytest.raises(TypeError, match="classifiers only"):
            BALD()(regressor, X, n_instances=2)


# ---------------------------------------------------------- issue 29: models that are no posterior
def test_weighted_soft_voting_is_refused_with_the_reason():
    # issue 29 item 2: the weights were ignored; the sampled mean differed from predict_proba
    X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
    members = [("lr", LogisticRegression()), ("nb", GaussianNB())]
    weighted = VotingClassifier(members, voting="soft", weights=[1, 3]).fit(X, y)
    with pytest.raises(ValueError, match=r"weights its members \(\[1, 3\]\).*weights=None"):
        sampled_log_proba(weighted, X[:5])
    equal = VotingClassifier(members, voting="soft", weights=[2, 2]).fit(X, y)
    log_probs = sampled_log_proba(equal, X[:5], dtype=np.float64)
    np.testing.assert_allclose(np.exp(log_probs).mean(axis=1), equal.predict_proba(X[:5]),
                               atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda X, Y: RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y),
    lambda X, Y: __import__("sklearn.multioutput", fromlist=["x"]).MultiOutputClassifier(
        LogisticRegression()).fit(X, Y),
    lambda X, Y: DecisionTreeClassifier(random_state=0).fit(X, Y),
])
def test_multilabel_and_multi_output_models_are_a_clear_error(make):
    # issue 29 item 7: a raw numpy broadcasting error
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(50, 3)), (rng.random((50, 2)) > 0.5).astype(int)
    model = make(X, Y)
    with pytest.raises(TypeError, match="several outputs .*multilabel or multi-output"):
        sampled_log_proba(model, X[:5])


def test_boosting_is_explained_as_a_single_model():
    # issue 29 item 8: "use an ensemble" for a model that is one
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

    from skal_power import BALD

    X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
    for model in (GradientBoostingClassifier(n_estimators=5), HistGradientBoostingClassifier(
            max_iter=5)):
        pipeline = make_pipeline(StandardScaler(), model).fit(X, y)
        with pytest.raises(ValueError, match=r"stages of a boosting model .* not posterior "
                                             r"samples.*BaggingClassifier"):
            BALD()(pipeline, X, 2)
