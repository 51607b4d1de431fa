"""Pools of rows: counting, taking and checking them (skal_power._pool)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.ensemble import RandomForestClassifier

from skal_power import BALD, EIG, EPIG, BatchBALD, PowerBALD, RandomSampling
from skal_power._pool import as_row_pool, pool_size, take_rows


@pytest.fixture(scope="module")
def sparse_problem():
    rng = np.random.default_rng(29)
    X = rng.normal(size=(120, 8))
    X[X < 0.6] = 0.0
    y = (X.sum(axis=1) > 1.5).astype(int)
    forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X[:40], y[:40])
    return forest, X[:40], y[:40], sp.csr_matrix(X[40:])


@pytest.mark.parametrize("strategy_class", [RandomSampling, BALD, PowerBALD, EPIG, EIG,
                                            BatchBALD])
@pytest.mark.parametrize("fmt", ["coo", "dia", "bsr", "csc", "lil", "dok"])
def test_every_sparse_format_gives_the_picks_of_csr(strategy_class, fmt, sparse_problem):
    # issue 29 item 6: COO/DIA failed with "'coo_matrix' object is not subscriptable" and
    # BSR with an empty NotImplementedError, deep in the row slicing
    forest, X_train, y_train, pool = sparse_problem
    kwargs = {"X_training": X_train, "y_training": y_train} if strategy_class is EIG else {}
    expected = strategy_class(random_state=0)(forest, pool, 4, **kwargs)
    got = strategy_class(random_state=0)(forest, pool.asformat(fmt), 4, **kwargs)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)


def test_scipy_sparse_arrays_of_every_format_are_rows():
    dense = np.arange(12.0).reshape(4, 3)
    for fmt in ("coo", "dia", "bsr"):
        pool = as_row_pool(sp.coo_array(dense).asformat(fmt))
        assert pool_size(pool) == 4
        np.testing.assert_array_equal(take_rows(pool, [2, 0]).toarray(), dense[[2, 0]])


@pytest.mark.parametrize("pool", [np.arange(64.0), np.arange(64)])
def test_a_numeric_pool_that_is_not_2d_is_a_clear_error(pool, sparse_problem):
    # issue 29 item 5: RandomSampling took a 1-D array as 64 one-value rows
    forest = sparse_problem[0]
    with pytest.raises(ValueError, match=r"X_pool must be 2-D, one row per pool point"):
        RandomSampling(random_state=0)(forest, pool, 3)
    with pytest.raises(ValueError, match=r"X_pool must be 2-D"):
        BALD().score_pool(forest, pool)


def test_rows_of_text_stay_rows():
    texts = np.array(["a b", "b c", "c d"], dtype=object)
    assert as_row_pool(texts) is texts
    assert as_row_pool(["a", "b"]) == ["a", "b"]
    assert as_row_pool(np.array(["x", "y"])).shape == (2,)
