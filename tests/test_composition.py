"""Strategies as one score × one selector: the named classes keep their picks."""

import json

import numpy as np
import pytest

from picks_fixture import PICKS, picks


def test_named_strategies_keep_their_picks():
    # recorded before the score × selector refactor (tests/picks_fixture.py)
    from skal_power._kernels import torch_or_none

    expected = json.loads(PICKS.read_text())
    found = picks()
    assert sorted(found) == sorted(expected)
    for key, rounds in expected.items():
        # recorded on torch tables; numpy's float32 exp of float32 log-probs rounds apart
        # from torch's by an ulp, which moves batch scores by ~1e-8 (picks stay)
        tolerance = 1e-7 if key.startswith("Batch") and torch_or_none() is None else 1e-9
        for (indices, scores), (got_indices, got_scores) in zip(rounds, found[key]):
            assert got_indices == indices, key
            np.testing.assert_allclose(got_scores, scores, rtol=tolerance, atol=tolerance,
                                       err_msg=key)


# ------------------------------------ the named strategies and their compositions
import skal_power  # noqa: E402
from skal_power.sampling import Power, Softmax, Softrank, Top, UniformTop  # noqa: E402
from skal_power.strategies import Acquisition, EvaluationAcquisition  # noqa: E402

FAST = {"eval_size": 20}  # keeps the distillations of the EIG family small


@pytest.fixture(scope="module")
def problem():
    from picks_fixture import instance

    forest, X_train, y_train, X_pool = instance()
    return forest, X_train, y_train, X_pool[:40]


# Every strategy above runs the common checks in tests/test_common.py, one test per
# (strategy, check).


def test_named_strategies_are_their_compositions(problem):
    # a named class and the generic composition it stands for pick the same batch
    forest, X_train, y_train, X_pool = problem
    pairs = [
        (skal_power.BALD(random_state=3), Acquisition("bald", Top(), random_state=3)),
        (skal_power.PowerEntropy(alpha=2.0, random_state=3),
         Acquisition("entropy", Power(alpha=2.0), random_state=3)),
        (skal_power.SoftrankBALD(beta=1.5, random_state=3),
         Acquisition("bald", Softrank(beta=1.5), random_state=3)),
        (skal_power.UniformTopBALD(factor=3, random_state=3),
         Acquisition("bald", UniformTop(factor=3), random_state=3)),
    ]
    for named, composed in pairs:
        np.testing.assert_array_equal(named(forest, X_pool, 5)[0], composed(forest, X_pool, 5)[0])
    kwargs = {"X_training": X_train, "y_training": y_train}
    named = skal_power.PowerEvaluationBALD(alpha=3.0, random_state=1, **FAST)
    composed = EvaluationAcquisition("evaluation_bald", Power(alpha=3.0), random_state=1, **FAST)
    np.testing.assert_array_equal(named(forest, X_pool, 5, **kwargs)[0],
                                  composed(forest, X_pool, 5, **kwargs)[0])


def test_bad_scores_and_selectors_are_named():
    with pytest.raises(ValueError, match="'score' parameter of Acquisition must be one of "
                                         r"\{'bald', 'entropy', 'expected_entropy'\} or a "
                                         "callable"):
        Acquisition("bold")._check_params()
    with pytest.raises(TypeError, match="'selector' parameter of Acquisition must be None or "
                                        "a skal_power.sampling.Selector"):
        Acquisition("bald", selector="top")._check_params()
    with pytest.raises(ValueError, match="'score' parameter of EvaluationAcquisition must be "
                                         r"one of \{'eig', 'evaluation_bald'\}; got 'bald'"):
        EvaluationAcquisition("bald")._check_params()
    with pytest.raises(ValueError, match="'beta' parameter of Softmax must be"):
        Acquisition("bald", Softmax(beta=-1.0))._check_params()


def test_a_custom_score_callable(problem):
    forest, _, _, X_pool = problem

    def margin(log_probs):
        probs = np.sort(np.exp(log_probs).mean(axis=1), axis=1)
        return 1.0 - (probs[:, -1] - probs[:, -2])

    indices, scores = Acquisition(margin, Top(), random_state=0)(forest, X_pool, 4)
    assert len(set(indices.tolist())) == 4 and np.all(np.diff(scores) <= 0)


def test_strategies_do_not_import_dask_machinery():
    # dependencies point one way: skal_power.distributed registers itself with the strategies
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    graph = subprocess.run([sys.executable, str(root / "scripts" / "import_graph.py")],
                           capture_output=True, text=True, check=False)
    assert graph.returncode == 0, graph.stdout[-2000:]
    edges = [line for line in graph.stdout.splitlines() if "->" in line]
    assert not [e for e in edges if e.startswith("skal_power.strategies")
                and "skal_power.distributed" in e.split("->")[1]]
