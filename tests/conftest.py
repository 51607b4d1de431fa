"""Shared fixtures; modAL availability rules for the two test environments."""

from __future__ import annotations

import os

# Thread policy for the suite (see skal_power.threads): one BLAS/OpenMP/torch thread per
# test process. Set before torch is imported (it reads OMP_NUM_THREADS once); BLAS
# libraries numpy already loaded are capped by threadpoolctl below.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sklearn  # noqa: E402
import threadpoolctl  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402

threadpoolctl.threadpool_limits(limits=int(os.environ["OPENBLAS_NUM_THREADS"]))

REQUIRE_MODAL = os.environ.get("SKAL_POWER_REQUIRE_MODAL") == "1"
# CI sets this: the compiled kernel must have been built, so its tests never skip there.
REQUIRE_NATIVE = os.environ.get("SKAL_POWER_REQUIRE_NATIVE") == "1"

KERNEL_BACKENDS = ["native", "torch", "numpy"]


def native_kernel_built() -> bool:
    try:
        from skal_power import _native  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(params=KERNEL_BACKENDS)
def backend(request, monkeypatch):
    """Run a test once per entropy kernel: compiled, torch and numpy."""
    from skal_power._kernels import native_or_none, torch_or_none

    monkeypatch.setenv("SKAL_POWER_BACKEND", request.param)
    if request.param == "native" and not native_kernel_built():
        if REQUIRE_NATIVE:
            pytest.fail("SKAL_POWER_REQUIRE_NATIVE=1 but skal_power._native is not built")
        pytest.skip("the compiled kernel skal_power._native is not built")
    if request.param == "torch":
        if torch_or_none() is None:
            pytest.skip("torch is not installed")
        assert native_or_none() is None
    if request.param == "numpy":
        assert native_or_none() is None and torch_or_none() is None
    return request.param


@pytest.fixture(scope="module", params=["native", "torch"])
def joint_kernel(request):
    """Run a test with each joint-entropy kernel: the fused compiled one and torch's."""
    from skal_power._kernels import joint_plogp_kernel, torch_or_none

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKAL_POWER_BACKEND", request.param)
        if request.param == "torch" and torch_or_none() is None:
            pytest.skip("torch is not installed")
        if request.param == "native" and joint_plogp_kernel() is None:
            if REQUIRE_NATIVE:
                pytest.fail("SKAL_POWER_REQUIRE_NATIVE=1 but the compiled kernel is not built")
            pytest.skip("the compiled kernel skal_power._native is not built")
        yield request.param


def _sklearn_version() -> tuple[int, int]:
    major, minor = sklearn.__version__.split(".")[:2]
    return int(major), int(minor)


def modal_learner_unavailable_reason() -> str | None:
    """Why a real modAL learner cannot fit here, or None if it can."""
    try:
        import modAL  # noqa: F401
    except ImportError:
        return "modAL-python is not installed (pip install --no-deps modAL-python)"
    if _sklearn_version() >= (1, 8):
        return (
            f"scikit-learn {sklearn.__version__} removed check_X_y(force_all_finite=...), "
            "which modAL's ActiveLearner.fit/teach call; run these tests in the "
            "scikit-learn<1.8 environment (.venv-modal, see scripts/test.sh)"
        )
    return None


def pytest_collection_modifyitems(config, items):
    # Outside CI a missing modAL or a too-new scikit-learn skips these tests with the
    # reason; with SKAL_POWER_REQUIRE_MODAL=1 (CI) they fail instead (see setup below).
    reason = modal_learner_unavailable_reason()
    if reason is None or REQUIRE_MODAL:
        return
    for item in items:
        if "modal_learner" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item):
    if REQUIRE_MODAL and "modal_learner" in item.keywords:
        reason = modal_learner_unavailable_reason()
        if reason is not None:
            pytest.fail(f"SKAL_POWER_REQUIRE_MODAL=1 but modAL learner tests cannot run: {reason}")


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float64), y


@pytest.fixture(scope="session")
def digits_split(digits):
    X, y = digits
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    train, pool = order[:150], order[150:650]
    return X[train], y[train], X[pool], y[pool]


@pytest.fixture(scope="session")
def fitted_forest(digits_split):
    X_train, y_train, _, _ = digits_split
    return RandomForestClassifier(n_estimators=12, random_state=0).fit(X_train, y_train)


#: Strategies that need M's training data at query time (they distil M').
NEEDS_TRAINING_DATA = {
    "EIG", "EvaluationBALD", "PowerEIG", "PowerEvaluationBALD", "BatchEIG", "BatchEvaluationBALD",
}


@pytest.fixture(scope="session")
def query_kwargs_for(digits_split):
    """Extra query keywords a strategy class needs on a bare (non-modAL) estimator."""
    X_train, y_train, _, _ = digits_split

    def kwargs(strategy_class):
        if strategy_class.__name__ in NEEDS_TRAINING_DATA:
            return {"X_training": X_train, "y_training": y_train}
        return {}

    return kwargs


@pytest.fixture
def figures(monkeypatch):
    """The axes of every figure made through ``plt.subplots`` during the test."""
    import matplotlib.pyplot as plt

    made = []
    original = plt.subplots

    def spy(*args, **kwargs):
        figure, axes = original(*args, **kwargs)
        made.append(axes)
        return figure, axes

    monkeypatch.setattr(plt, "subplots", spy)
    return made
