"""Strategies as one score × one selector: the named classes keep their picks."""

import json

import numpy as np
import pytest

from picks_fixture import PICKS, picks


def test_named_strategies_keep_their_picks():
    # recorded before the score × selector refactor (tests/picks_fixture.py)
    expected = json.loads(PICKS.read_text())
    found = picks()
    assert sorted(found) == sorted(expected)
    for key, rounds in expected.items():
        for (indices, scores), (got_indices, got_scores) in zip(rounds, found[key]):
            assert got_indices == indices, key
            np.testing.assert_allclose(got_scores, scores, rtol=1e-9, atol=1e-9, err_msg=key)
