"""The scikit-learn version shims of skal_power._compat, on the installed version.

Both branches of the shim run here: the one the installed scikit-learn takes,
and the < 1.6 one with scikit-learn's function hidden (the < 1.6 method is
played by a recording stand-in, since no installed scikit-learn has it).
"""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.fixes import parse_version

from skal_power import _compat
from skal_power._compat import validate_data


def test_the_branch_follows_the_installed_version():
    new = parse_version(sklearn.__version__).release >= (1, 6)
    assert (_compat._sklearn_validate_data is not None) == new


def test_validate_data_records_then_checks_the_number_of_features():
    model = LogisticRegression()
    X = validate_data(model, [[0, 1], [2, 3]], reset=True, dtype=np.float32)
    assert X.dtype == np.float32 and model.n_features_in_ == 2
    with pytest.raises(ValueError, match="X has 3 features, but LogisticRegression is "
                                         "expecting 2 features"):
        validate_data(model, [[0, 1, 2]], reset=False)


def test_validate_data_takes_the_new_argument_name():
    model = LogisticRegression()
    X = np.array([[0.0, np.nan]])
    with pytest.raises(ValueError, match="NaN"):
        validate_data(model, X, reset=True)
    assert np.isnan(validate_data(model, X, reset=True, ensure_all_finite=False)).any()


class _OldEstimator(BaseEstimator):
    """Stands in for a BaseEstimator of scikit-learn < 1.6 (with ``_validate_data``)."""

    def _validate_data(self, X, *, reset, **check_params):
        self.call_ = (reset, check_params)
        return X


class _NoBaseEstimator:
    """A skorch < 1.1 net: no BaseEstimator, so no ``_validate_data`` either."""


def test_before_1_6_the_method_gets_the_old_argument_name(monkeypatch):
    monkeypatch.setattr(_compat, "_sklearn_validate_data", None)
    model = _OldEstimator()
    validate_data(model, "X", reset=False, accept_sparse="csr", ensure_all_finite=False)
    assert model.call_ == (False, {"accept_sparse": "csr", "force_all_finite": False})


def test_before_1_6_an_estimator_without_the_method_is_checked_here(monkeypatch):
    monkeypatch.setattr(_compat, "_sklearn_validate_data", None)
    net = _NoBaseEstimator()
    X = validate_data(net, np.zeros((2, 3, 4)), reset=True, dtype=np.float32, allow_nd=True)
    assert X.dtype == np.float32 and net.n_features_in_ == 3
    assert validate_data(net, np.ones((1, 3)), reset=False).shape == (1, 3)
    with pytest.raises(ValueError, match="X has 2 features, but _NoBaseEstimator is "
                                         "expecting 3 features as input"):
        validate_data(net, np.ones((1, 2)), reset=False)
    with pytest.raises(ValueError, match="dim 3"):
        validate_data(net, np.zeros((2, 3, 4)), reset=False)


def test_no_module_of_the_package_checks_the_scikit_learn_version_itself():
    from pathlib import Path

    import skal_power

    root = Path(skal_power.__file__).parent
    shims = [path.relative_to(root).as_posix() for path in root.rglob("*.py")
             if path.name != "_compat.py"
             and ("sklearn.utils.validation import validate_data" in path.read_text()
                  or "sklearn.__version__" in path.read_text())]
    assert shims == []
