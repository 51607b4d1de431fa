"""Tests for skal_power.distill: the self-distilled, pool-augmented second model M′."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal_power.distill import SHORT_EPOCHS, distill, eval_subset, last_layer, soft_targets


def mean_kl(p, q, floor=1e-6):
    p, q = np.clip(p, floor, 1), np.clip(q, floor, 1)
    return float(np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1)))


@pytest.fixture(scope="module")
def split():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:60], y[:60], X[60:560]


# ----------------------------------------------------------------- eval subsets
def test_eval_subset_sizes_and_reproducibility():
    assert eval_subset(7).tolist() == list(range(7))
    chosen = eval_subset(100, 10, random_state=0)
    assert len(chosen) == 10 and np.all(np.diff(chosen) > 0)
    np.testing.assert_array_equal(chosen, eval_subset(100, 10, random_state=0))
    assert len(eval_subset(100, 0.25, random_state=0)) == 25
    assert len(eval_subset(5, 50, random_state=0)) == 5


@pytest.mark.parametrize("bad, error", [(0, ValueError), (1.5, ValueError), ("all", TypeError),
                                        (True, TypeError)])
def test_eval_subset_rejects_bad_sizes(bad, error):
    with pytest.raises(error, match="eval_size"):
        eval_subset(10, bad)


# ----------------------------------------------------------------- sklearn classifiers
def test_forest_distills_the_predictive_distribution(split):
    X_train, y_train, X_eval = split
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X_train, y_train)
    second = distill(model, X_train, y_train, X_eval, random_state=0)
    train_only = clone(model).set_params(random_state=1).fit(X_train, y_train)
    target = soft_targets(model, X_eval)
    assert mean_kl(target, second.predict_proba(X_eval)) < 0.1 * mean_kl(
        target, train_only.predict_proba(X_eval)
    )
    assert np.mean(second.predict(X_train) == y_train) >= 0.95  # hard labels are kept


def test_logistic_regression_is_its_own_distillation(split):
    # M minimises the train loss and has KL = 0 to itself on the eval set, so M′ ≈ M
    # (up to the weaker relative regularisation of a larger data set).
    X_train, y_train, X_eval = split
    model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    second = distill(model, X_train, y_train, X_eval, random_state=0)
    assert mean_kl(model.predict_proba(X_eval), second.predict_proba(X_eval)) < 1e-2
    np.testing.assert_array_equal(second.classes_, model.classes_)


@pytest.mark.parametrize("bad", ["warmest", None, 1])
def test_refit_must_be_known(split, bad):
    X_train, y_train, X_eval = split
    model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    with pytest.raises(ValueError, match=r"refit must be one of \['full', 'warm', 'head'\]"):
        distill(model, X_train, y_train, X_eval, refit=bad)


@pytest.mark.parametrize("refit", ["warm", "head"])
@pytest.mark.parametrize("make", [
    lambda: RandomForestClassifier(n_estimators=10, random_state=0),  # warm_start adds trees
    lambda: LogisticRegression(max_iter=2000),  # warm_start would stop within tol of M
], ids=["forest", "logistic"])
def test_sklearn_estimators_are_refitted_in_full(split, refit, make):
    X_train, y_train, X_eval = split
    model = make().fit(X_train, y_train)
    full = distill(model, X_train, y_train, X_eval, refit="full", random_state=0)
    other = distill(model, X_train, y_train, X_eval, refit=refit, random_state=0)
    np.testing.assert_array_equal(full.predict_proba(X_eval), other.predict_proba(X_eval))
    assert other is not model


def test_pipeline_with_sample_weight_and_string_labels(split):
    X_train, y_train, X_eval = split
    names = np.array([f"digit{d}" for d in range(10)])[y_train]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(X_train, names)
    second = distill(model, X_train, names, X_eval, eval_size=100, random_state=0)
    assert second.classes_.tolist() == sorted(set(names.tolist()))
    assert second.predict_proba(X_eval).shape == (len(X_eval), 10)


def test_pipeline_transformers_see_train_and_eval_once(split):
    # before: the scaler was fitted on the expanded rows (each eval point up to
    # C times), its mean off by up to 0.33 feature standard deviations
    X_train, y_train, X_eval = split
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(X_train, y_train)
    second = distill(model, X_train, y_train, X_eval, random_state=0)
    union = np.concatenate([X_train, X_eval])
    np.testing.assert_allclose(second[0].mean_, union.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(second[0].var_, union.var(axis=0), rtol=1e-10, atol=1e-12)
    assert second[0].n_samples_seen_ == len(union)
    # the final classifier alone saw the soft targets: more rows than the union
    assert second[-1].n_features_in_ == X_train.shape[1]
    assert model[0].n_samples_seen_ == len(X_train)  # M itself is untouched


def test_pipeline_with_a_supervised_transformer(split):
    from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_classif

    X_train, y_train, X_eval = split
    X_train = X_train[:, X_train.std(axis=0) > 0]  # no constant pixels: F is defined
    X_eval = X_eval[:, split[0].std(axis=0) > 0]
    model = make_pipeline(VarianceThreshold(), SelectKBest(f_classif, k=20),
                          LogisticRegression(max_iter=2000)).fit(X_train, y_train)
    second = distill(model, X_train, y_train, X_eval, eval_size=200, random_state=0)
    assert second[1].get_support().sum() == 20
    assert second.predict_proba(X_eval).shape == (len(X_eval), 10)


def test_random_state_reproduces(split):
    X_train, y_train, X_eval = split
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    first = distill(model, X_train, y_train, X_eval, eval_size=50, random_state=3)
    again = distill(model, X_train, y_train, X_eval, eval_size=50, random_state=3)
    np.testing.assert_array_equal(first.predict_proba(X_eval), again.predict_proba(X_eval))


def test_precomputed_targets_give_the_same_model(split):
    X_train, y_train, X_eval = split
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    targets = soft_targets(model, X_eval)
    given = distill(model, X_train, y_train, X_eval, targets=targets, eval_size=40,
                    random_state=2)
    computed = distill(model, X_train, y_train, X_eval, eval_size=40, random_state=2)
    np.testing.assert_array_equal(given.predict_proba(X_eval), computed.predict_proba(X_eval))
    with pytest.raises(ValueError, match="targets must have shape"):
        distill(model, X_train, y_train, X_eval, targets=targets[:10])
    with pytest.raises(ValueError, match="probability rows"):
        distill(model, X_train, y_train, X_eval, targets=2 * targets)


# ----------------------------------------------------------------- bad input
def test_unfitted_estimator(split):
    X_train, y_train, X_eval = split
    with pytest.raises(NotFittedError):
        distill(LogisticRegression(), X_train, y_train, X_eval)


def test_eval_features_must_match(split):
    X_train, y_train, X_eval = split
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    with pytest.raises(ValueError, match="X_eval has 10 features"):
        distill(model, X_train, y_train, X_eval[:, :10])


def test_estimator_without_soft_target_support(split):
    X_train, y_train, X_eval = split
    model = KNeighborsClassifier().fit(X_train, y_train)
    with pytest.raises(TypeError, match="KNeighborsClassifier.*sample_weight"):
        distill(model, X_train, y_train, X_eval)


def test_unknown_train_labels(split):
    X_train, y_train, X_eval = split
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    with pytest.raises(ValueError, match="y_train holds labels \\[42\\]"):
        distill(model, X_train, np.r_[y_train[:-1], 42], X_eval)


# ----------------------------------------------------------------- skorch
@pytest.mark.torch
class TestSkorch:
    @pytest.fixture(autouse=True)
    def _torch(self):
        torch = pytest.importorskip("torch")
        pytest.importorskip("skorch")
        torch.set_num_threads(1)

    def test_mc_dropout_net_distils_and_keeps_hard_labels(self, split):
        from skal_power.models import MCDropoutClassifier, SoftTargetKLLoss

        X_train, y_train, X_eval = split
        model = MCDropoutClassifier(module__hidden_units=(128,), module__dropout=0.25,
                                    max_epochs=60, lr=0.01, random_state=0)
        model.fit(X_train, y_train)
        second = distill(model, X_train, y_train, X_eval, n_samples=50, random_state=0)
        train_only = clone(model).set_params(random_state=1).fit(X_train, y_train)
        target = soft_targets(model, X_eval, n_samples=50, random_state=5)
        kl_second = mean_kl(target, soft_targets(second, X_eval, n_samples=50, random_state=6))
        kl_train_only = mean_kl(
            target, soft_targets(train_only, X_eval, n_samples=50, random_state=6)
        )
        assert kl_second < 0.6 * kl_train_only
        assert isinstance(second.criterion, type) and second.criterion is SoftTargetKLLoss
        assert np.mean(second.predict(X_train) == y_train) >= 0.9

    def test_plain_skorch_classifier_with_probability_output(self, split):
        import torch
        from skorch import NeuralNetClassifier

        X_train, y_train, X_eval = split
        module = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                     torch.nn.Linear(32, 10), torch.nn.Softmax(dim=-1))
        model = NeuralNetClassifier(module, max_epochs=20, lr=0.5, train_split=None, verbose=0)
        model.fit(X_train.astype(np.float32), y_train)
        second = distill(model, X_train, y_train, X_eval, random_state=0)
        np.testing.assert_array_equal(second.classes_, np.arange(10))
        probs = second.predict_proba(X_eval.astype(np.float32))
        np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
        assert np.mean(second.predict(X_train.astype(np.float32)) == y_train) >= 0.8

    def test_pipeline_ending_in_mc_dropout_net(self, split):
        from skal_power.models import MCDropoutClassifier

        X_train, y_train, X_eval = split
        names = np.array(list("abcdefghij"))[y_train]
        model = make_pipeline(StandardScaler(), MCDropoutClassifier(
            module__hidden_units=(32,), max_epochs=5, random_state=0))
        model.fit(X_train, names)
        second = distill(model, X_train, names, X_eval, eval_size=0.5, random_state=0,
                         clone_params={"mcdropoutclassifier__max_epochs": 2})
        assert second[-1].classes_.tolist() == list("abcdefghij")
        assert second[-1].max_epochs == 2
        assert second.predict_proba(X_eval).shape == (len(X_eval), 10)

    @pytest.fixture
    def net(self, split):
        from skal_power.models import MCDropoutClassifier

        X_train, y_train, _ = split
        return MCDropoutClassifier(module__hidden_units=(32,), max_epochs=4, lr=0.02,
                                   iterator_train__samples_per_epoch=512,
                                   random_state=0).fit(X_train, y_train)

    def test_warm_without_an_epoch_is_m(self, split, net):
        X_train, y_train, X_eval = split
        second = distill(net, X_train, y_train, X_eval, refit="warm",
                         clone_params={"max_epochs": 0}, random_state=0)
        np.testing.assert_array_equal(second.predict_proba(X_eval), net.predict_proba(X_eval))
        np.testing.assert_array_equal(
            second.predict_proba_samples(X_eval, 4, random_state=1),
            net.predict_proba_samples(X_eval, 4, random_state=1))

    @pytest.mark.parametrize("refit", ["warm", "head"])
    def test_copy_of_m_fits_the_soft_targets_and_leaves_m_alone(self, split, net, refit):
        import torch

        X_train, y_train, X_eval = split
        before = {name: value.clone() for name, value in net.module_.state_dict().items()}
        uniform = np.full((len(X_eval), 10), 0.1)
        second = distill(net, X_train, y_train, X_eval, targets=uniform, refit=refit,
                         clone_params={"max_epochs": 4}, random_state=0)
        for name, value in net.module_.state_dict().items():
            assert torch.equal(value, before[name]), name
        assert len(second.history) == 4 and net.warm_start is second.warm_start is False
        entropy = [float(-np.mean(np.sum(p * np.log(p), axis=1)))
                   for p in (net.predict_proba(X_eval), second.predict_proba(X_eval))]
        assert entropy[0] < 1.5 and entropy[1] > entropy[0] + 0.3  # pulled towards uniform
        assert all(p.requires_grad for p in second.module_.parameters())

    def test_warm_trains_for_the_short_schedule(self, split, net):
        X_train, y_train, X_eval = split
        second = distill(net, X_train, y_train, X_eval, refit="warm", random_state=0)
        assert len(second.history) == SHORT_EPOCHS and second.max_epochs == SHORT_EPOCHS
        full = distill(net, X_train, y_train, X_eval, refit="full", random_state=0)
        assert len(full.history) == net.max_epochs

    def test_head_trains_the_last_layer_only(self, split, net):
        import torch

        X_train, y_train, X_eval = split
        second = distill(net, X_train, y_train, X_eval, refit="head",
                         clone_params={"max_epochs": 2}, random_state=0)
        last = {id(p) for p in last_layer(second.module_).parameters()}
        changed = {name for (name, p), q in zip(second.module_.named_parameters(),
                                                net.module_.parameters())
                   if not torch.equal(p, q)}
        assert changed == {name for name, p in second.module_.named_parameters()
                           if id(p) in last}
        assert changed == {"layers.3.weight", "layers.3.bias"}

    def test_warm_copy_takes_iterator_and_optimizer_params(self, split, net):
        X_train, y_train, X_eval = split
        second = distill(net, X_train, y_train, X_eval, refit="warm", random_state=0,
                         clone_params={"iterator_train__samples_per_epoch": 128, "lr": 0.5})
        assert second.optimizer_.param_groups[0]["lr"] == 0.5
        assert net.iterator_train__samples_per_epoch == 512
        assert second.iterator_train__samples_per_epoch == 128
        with pytest.raises(ValueError, match="module__dropout.*refit='full'"):
            distill(net, X_train, y_train, X_eval, refit="head",
                    clone_params={"module__dropout": 0.1})

    def test_warm_pipeline_keeps_the_fitted_transformers(self, split):
        from skal_power.models import MCDropoutClassifier

        X_train, y_train, X_eval = split
        model = make_pipeline(StandardScaler(), MCDropoutClassifier(
            module__hidden_units=(32,), max_epochs=2, random_state=0)).fit(X_train, y_train)
        second = distill(model, X_train, y_train, X_eval, refit="warm", random_state=0)
        np.testing.assert_array_equal(second[0].mean_, model[0].mean_)
        assert second.predict_proba(X_eval).shape == (len(X_eval), 10)

    def test_unfitted_net(self, split):
        from skal_power.models import MCDropoutClassifier

        X_train, y_train, X_eval = split
        with pytest.raises(NotFittedError):
            distill(MCDropoutClassifier(), X_train, y_train, X_eval)

    @settings(max_examples=25, deadline=None)
    @given(st.integers(1, 5), st.integers(2, 6), st.integers(0, 2**31 - 1))
    def test_soft_target_loss_is_non_negative_and_zero_at_the_target(self, rows, classes, seed):
        import torch

        from skal_power.models import SoftTargetKLLoss

        generator = torch.Generator().manual_seed(seed)
        logits = 3 * torch.randn(rows, classes, generator=generator, dtype=torch.float64)
        target = torch.softmax(3 * torch.randn(rows, classes, generator=generator,
                                               dtype=torch.float64), -1)
        assert SoftTargetKLLoss()(logits, target).item() >= -1e-12
        own = torch.softmax(logits, -1)
        assert abs(SoftTargetKLLoss()(logits, own).item()) < 1e-9

    def test_soft_target_loss_is_kl(self):
        import torch

        from skal_power.models import SoftTargetKLLoss

        generator = torch.Generator().manual_seed(0)
        logits = torch.randn(6, 4, generator=generator)
        target = torch.softmax(torch.randn(6, 4, generator=generator), -1)
        expected = torch.nn.functional.kl_div(
            torch.log_softmax(logits, -1), target, reduction="batchmean"
        )
        torch.testing.assert_close(SoftTargetKLLoss()(logits, target), expected)
        hard = torch.tensor([0, 3, 1, 2, 2, 0])
        torch.testing.assert_close(
            SoftTargetKLLoss()(logits, hard), torch.nn.functional.cross_entropy(logits, hard)
        )
