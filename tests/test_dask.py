"""Dask pools give exactly the in-memory batch, whatever the partitioning.

One ``LocalCluster`` (2 worker processes, 1 thread each) serves the module.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier

import skal_power as sp
from skal_power.adapters import sampled_log_proba
from skal_power.distributed import score_pool, selection_rule
from skal_power.sampling import Candidates, best_candidates, merge_candidates
from skal_power.distributed._partitions import pool_partitions
from skal_power.distributed._query import _distributed_client
from skal_power.sampling import AcquisitionWarning, Selector, tie_keys
from skal_power.strategies import (
    EIG,
    EvaluationBALD,
    PosteriorStrategy,
    PowerEIG,
    PowerEvaluationBALD,
)

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
pd = pytest.importorskip("pandas")

# Classes defined here must reach the worker processes by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class RandomLinearPosterior:
    """K random softmax-linear models drawn from ``random_state`` (an MC-dropout stand-in).

    Its samples depend on the seed only, not on which rows it is given, as the
    data contract requires of MC-dropout masks.
    """

    def __init__(self, n_features, n_classes=4):
        self.n_features = n_features
        self.classes_ = np.arange(n_classes)

    def predict_log_proba_samples(self, X, n_samples, random_state=None):
        rng = np.random.default_rng(random_state)
        weights = rng.normal(size=(n_samples, self.n_features, len(self.classes_)))
        logits = np.einsum("nd,kdc->nkc", np.asarray(X, dtype=np.float64) / 16.0, weights)
        return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


class SlowPosterior:
    """A forest that takes its time, so a worker can be killed mid-query."""

    def __init__(self, forest, delay):
        self.forest, self.delay = forest, delay
        self.classes_ = forest.classes_

    def predict_log_proba_samples(self, X, n_samples):
        time.sleep(self.delay)
        return sampled_log_proba(self.forest, X)


class CountedPosterior:
    """A forest that counts how often the client serialises it."""

    pickles = 0

    def __init__(self, forest):
        self.forest, self.classes_ = forest, forest.classes_

    def __getstate__(self):
        type(self).pickles += 1
        return self.__dict__

    def predict_log_proba_samples(self, X, n_samples):
        return sampled_log_proba(self.forest, X)


STRATEGIES = [
    sp.BALD(random_state=8),  # seeded: exact ties (BALD = 0) are broken at random
    sp.MaxEntropy(random_state=9),
    sp.PowerBALD(random_state=1),
    sp.PowerEntropy(alpha=2.0, random_state=2),
    sp.SoftmaxBALD(beta=20.0, random_state=3),
    sp.SoftrankBALD(random_state=4),
    sp.UniformTopBALD(random_state=5),
    sp.ThompsonBALD(random_state=6),
    sp.RandomSampling(random_state=7),
]
IDS = [type(s).__name__ for s in STRATEGIES]


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # port / resource notices of the local cluster
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        with distributed.Client(cluster) as client:
            yield client
        cluster.close()


@pytest.fixture(scope="module")
def problem():
    X, y = load_digits(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X[:150], y[:150])
    return forest, X[150:750]


def assert_same(expected, got):
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


# --- the merge itself: any split gives the global order -------------------------------

@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.sampled_from([-1.0, 0.0, 0.5, 2.0]), min_size=1, max_size=40),
    tier_bits=st.integers(0, 2**40 - 1),
    cuts=st.lists(st.integers(0, 40), max_size=4),
    k=st.integers(1, 45),
)
def test_merge_of_any_split_equals_global_order(keys, tier_bits, cuts, k):
    n = len(keys)
    keys = np.array(keys)
    tiers = np.array([(tier_bits >> i) & 1 for i in range(n)], dtype=np.int8)
    whole = Candidates.ranked(np.arange(n), tiers, keys, keys.copy())
    expected = np.lexsort((np.arange(n), -keys, -tiers.astype(int)))[:k]
    bounds = [0, *sorted(c for c in cuts if c < n), n]
    parts = [best_candidates(Candidates(*(f[a:b] for f in whole)), k)
             for a, b in zip(bounds[:-1], bounds[1:])]
    np.testing.assert_array_equal(merge_candidates(parts, k).indices, expected)
    np.testing.assert_array_equal(best_candidates(whole, k).indices, expected)


# --- identical batches on the cluster --------------------------------------------------

@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_identical_to_in_memory_for_several_chunkings(client, problem, strategy):
    forest, pool = problem
    # a fresh object per call: each call of one object is the next query, with new noise
    expected = clone(strategy)(forest, pool, n_instances=25)
    for chunks in (600, 128, 37):
        got = clone(strategy)(forest, da.from_array(pool, chunks=(chunks, -1)), n_instances=25)
        assert_same(expected, got)


@pytest.mark.parametrize("strategy", STRATEGIES[:7], ids=IDS[:7])
def test_seeded_stochastic_posterior_is_identical(client, problem, strategy):
    _, pool = problem
    posterior = RandomLinearPosterior(pool.shape[1])
    strategy = clone(strategy).set_params(random_state=13)  # seeds the posterior samples too
    expected = clone(strategy)(posterior, pool, n_instances=40)
    assert_same(expected, clone(strategy)(posterior, da.from_array(pool, chunks=70), n_instances=40))


@pytest.mark.torch
def test_mc_dropout_network_is_identical(client, problem):
    pytest.importorskip("skorch")
    from skal_power.models import MCDropoutClassifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    net = MCDropoutClassifier(module__hidden_units=(32,), max_epochs=3, random_state=0)
    net.fit(X[:300], y[:300])
    pool = X[300:900]
    for strategy in (sp.BALD(n_samples=10, random_state=0),
                     sp.PowerBALD(n_samples=10, random_state=1)):
        expected = clone(strategy)(net, pool, n_instances=15)
        for chunks in (600, 41):
            assert_same(expected, clone(strategy)(net, da.from_array(pool, chunks=(chunks, -1)),
                                           n_instances=15))


def test_modal_learner_queries_a_dask_pool(client, problem):
    modal = pytest.importorskip("modAL.models")
    forest, pool = problem
    # A learner around a fitted estimator: query() needs no fit (works on any scikit-learn).
    learner = modal.ActiveLearner(estimator=forest, query_strategy=sp.PowerBALD(random_state=0))
    indices, rows = learner.query(da.from_array(pool, chunks=(150, -1)), n_instances=5)
    expected, _ = sp.PowerBALD(random_state=0)(forest, pool, n_instances=5)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(rows.compute(), pool[expected])  # lazy until asked


EVALUATION = [EIG, EvaluationBALD, PowerEIG, PowerEvaluationBALD]


@pytest.mark.parametrize("options", [{"eval_size": 100},
                                     {"eval_size": 0.3, "exclude_eval": True}], ids=str)
@pytest.mark.parametrize("cls", EVALUATION, ids=lambda c: c.__name__)
def test_evaluation_strategies_identical(client, problem, cls, options):
    forest, pool = problem
    X, y = load_digits(return_X_y=True)
    model = forest  # distils in well under a second (a logistic regression takes ~10 s)
    strategy = cls(random_state=3, **options)
    fit = {"X_training": X[:150], "y_training": y[:150]}
    in_memory, on_dask = clone(strategy), clone(strategy)
    expected = in_memory(model, pool, n_instances=12, **fit)
    got = on_dask(model, da.from_array(pool, chunks=(77, -1)), n_instances=12, **fit)
    assert_same(expected, got)
    np.testing.assert_array_equal(on_dask.eval_indices_, in_memory.eval_indices_)
    frame = dd.from_pandas(pd.DataFrame(pool), npartitions=4)  # lengths unknown up front
    assert_same(expected, clone(strategy)(model, frame, n_instances=12, **fit))


def test_evaluation_strategy_needs_eval_size_on_dask(problem):
    forest, pool = problem
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="needs eval_size"):
        EvaluationBALD()(forest, da.from_array(pool, chunks=100), n_instances=2,
                         X_training=X[:150], y_training=y[:150])


# The adapter hands the DataFrame to the forest's members, fitted on arrays (noted upstream).
@pytest.mark.filterwarnings("ignore:X has feature names:UserWarning")
@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_dataframe_pool(client, problem, strategy):
    forest, pool = problem
    columns = [f"pixel{i}" for i in range(pool.shape[1])]
    X, y = load_digits(return_X_y=True, as_frame=True)
    X.columns = columns
    frame_forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X[:150], y[:150])
    frame = pd.DataFrame(pool, columns=columns)
    expected = clone(strategy)(frame_forest, frame, n_instances=25)
    got = clone(strategy)(frame_forest, dd.from_pandas(frame, npartitions=7), n_instances=25)
    assert_same(expected, got)


@pytest.mark.parametrize("strategy", [sp.BALD(random_state=1), sp.SoftrankBALD(random_state=2),
                                      sp.UniformTopBALD(random_state=3),
                                      sp.ThompsonBALD(random_state=4)], ids=str)
def test_empty_partitions(client, problem, strategy):
    forest, pool = problem
    keep = np.ones(len(pool), dtype=bool)
    keep[100:300] = False  # partitions 2 and 3 of 6 end up empty
    frame = dd.from_pandas(pd.DataFrame(pool), npartitions=6)
    filtered = frame[dd.from_pandas(pd.Series(keep), npartitions=6)]
    expected = clone(strategy)(forest, pool[keep], n_instances=15)
    assert_same(expected, clone(strategy)(forest, filtered, n_instances=15))


def test_lazy_scores_match_in_memory(client, problem):
    forest, pool = problem
    strategy = sp.PowerBALD()
    lazy = score_pool(strategy, forest, da.from_array(pool, chunks=(111, 8)), seed=3)
    assert isinstance(lazy, da.Array) and lazy.chunks == ((111,) * 5 + (45,),)
    np.testing.assert_array_equal(lazy.compute(), strategy.score_pool(forest, pool, seed=3))
    with pytest.raises(TypeError, match="scores points one by one"):
        score_pool(sp.RandomSampling(), forest, da.from_array(pool, chunks=100))


def _rows_generated_off_the_client(client_pid, block_info=None):
    # client_pid is an argument: a module global would be re-evaluated on a worker
    # that imports this module.
    if os.getpid() == client_pid:
        raise RuntimeError("a pool partition was computed on the client")
    start, stop = block_info[None]["array-location"][0]
    rng = np.random.default_rng(start)
    return rng.integers(0, 16, size=(stop - start, 64)).astype(np.float64)


def test_pool_partitions_are_only_ever_computed_on_workers(client, problem):
    forest, _ = problem
    X = da.map_blocks(_rows_generated_off_the_client, os.getpid(), dtype=np.float64,
                      chunks=((100,) * 6, (64,)))
    with pytest.raises(RuntimeError, match="on the client"):
        X.compute(scheduler="sync")  # the guard works
    indices, _ = sp.PowerBALD(random_state=0)(forest, X, n_instances=8)
    assert len(set(indices.tolist())) == 8


def test_pool_is_never_computed_before_the_query(problem):
    # Partition lengths of a dataframe are read inside the query graph.
    _, pool = problem
    frame = dd.from_pandas(pd.DataFrame(pool), npartitions=3)
    parts = pool_partitions(frame)
    assert parts.lengths is None and len(parts.blocks) == 3


def test_stochastic_fallback_warns_as_in_memory(client, problem):
    forest, pool = problem
    strategy = sp.PowerBALD(random_state=0)
    n_positive = int(np.count_nonzero(strategy.score_pool(forest, pool, seed=0) > 0))
    n = min(len(pool), n_positive + 10)
    with pytest.warns(AcquisitionWarning):
        expected = clone(strategy)(forest, pool, n_instances=n)
    with pytest.warns(AcquisitionWarning, match="positive acquisition weight"):
        got = clone(strategy)(forest, da.from_array(pool, chunks=150), n_instances=n)
    assert_same(expected, got)


# --- awkward layouts and bad input -------------------------------------------------------

def test_feature_chunked_array_is_rechunked(client, problem):
    forest, pool = problem
    strategy = sp.PowerBALD(random_state=3)
    expected = clone(strategy)(forest, pool, n_instances=10)
    assert_same(expected, clone(strategy)(forest, da.from_array(pool, chunks=(100, 16)), n_instances=10))


def test_unknown_row_chunks_are_read_in_the_graph(client, problem):
    forest, pool = problem
    keep = pool[:, 0] >= 0  # all rows, but dask cannot know the chunk sizes
    X = da.from_array(pool, chunks=(90, -1))[da.from_array(keep, chunks=90)]
    assert np.isnan(X.chunks[0]).any()
    for strategy in (sp.SoftrankBALD(random_state=1), sp.RandomSampling(random_state=2),
                     sp.ThompsonBALD(random_state=3)):
        assert_same(clone(strategy)(forest, pool, n_instances=12), clone(strategy)(forest, X, n_instances=12))
    with pytest.raises(ValueError, match="exceeds the pool size 600"):
        sp.BALD()(forest, X, n_instances=601)


def test_unknown_row_chunks_chunked_along_features_is_a_clear_error(problem):
    forest, pool = problem
    X = da.from_array(pool, chunks=(90, 16))
    X = X[da.from_array(pool[:, 0] >= 0, chunks=90)]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sp.BALD()(forest, X, n_instances=3)


def test_bad_dask_inputs(problem):
    forest, pool = problem
    with pytest.raises(ValueError, match="exceeds the pool size 600"):
        sp.BALD()(forest, da.from_array(pool, chunks=100), n_instances=601)
    with pytest.raises(ValueError, match="3 dimensions"):
        sp.BALD()(forest, da.zeros((4, 2, 2), chunks=2), n_instances=1)
    bag = pytest.importorskip("dask.bag").from_sequence(range(4))
    with pytest.raises(TypeError, match="dask.array.Array or a dask.dataframe.DataFrame"):
        sp.BALD()(forest, bag, n_instances=1)


def test_strategy_with_its_own_selection_is_refused(problem):
    class Greedy(sp.PowerBALD):
        def _select(self, scores, n_instances, *, seed, round_index):
            return np.argsort(scores)[:n_instances]

    class OwnQuery(PosteriorStrategy):
        def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
            return np.arange(n_instances), np.zeros(n_instances)

    class PoolWide(sp.BALD):
        def score_pool(self, classifier, X_pool, *, seed=None, **kwargs):
            scores = super().score_pool(classifier, X_pool, seed=seed)
            return scores - scores.mean()  # depends on the whole pool: not per partition

    class RowWise(PoolWide):
        _rowwise_scores = True

    forest, pool = problem
    assert selection_rule(RowWise()) == "scores/Top"
    for strategy in (Greedy(), OwnQuery(), PoolWide()):
        with pytest.raises(TypeError, match="cannot query a Dask pool.*PowerBALD"):
            strategy(forest, da.from_array(pool, chunks=100), n_instances=2)
    assert selection_rule(sp.PowerBALD()) == "scores/Power"


@pytest.mark.parametrize("strategy", [sp.BatchBALD(), sp.BatchEIG(eval_size=50)])
def test_greedy_batch_strategies_point_to_the_prefilter_recipe(problem, strategy):
    forest, pool = problem
    with pytest.raises(TypeError, match=f"{type(strategy).__name__} cannot query a Dask pool"):
        strategy(forest, da.from_array(pool, chunks=100), n_instances=2)


# --- robustness ---------------------------------------------------------------------------

def test_posterior_is_shipped_once_per_query_not_once_per_partition(client, problem):
    forest, pool = problem
    posterior = CountedPosterior(forest)
    X = da.from_array(pool, chunks=25)  # 24 partitions
    assert _distributed_client() is client  # so the posterior is scattered, not embedded
    CountedPosterior.pickles = 0
    expected = sp.PowerBALD(random_state=0)(forest, pool, n_instances=5)
    assert_same(expected, sp.PowerBALD(random_state=0)(posterior, X, n_instances=5))
    # Broadcast: serialised for each of the 2 workers at most, whatever the partition count.
    assert 1 <= CountedPosterior.pickles <= 2


@pytest.mark.slow
def test_worker_killed_mid_query_gives_the_same_batch(client, problem):
    forest, pool = problem
    strategy = sp.PowerBALD(random_state=11)
    posterior = SlowPosterior(forest, delay=0.4)
    expected = clone(strategy)(posterior, pool, n_instances=20)
    pids = client.run(os.getpid)
    victim_address, victim_pid = sorted(pids.items())[0]
    result, errors = {}, []

    def query():
        try:
            result["got"] = clone(strategy)(posterior, da.from_array(pool, chunks=50),
                                            n_instances=20)
        except Exception as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    thread = threading.Thread(target=query)
    thread.start()
    deadline = time.monotonic() + 30
    while not client.processing().get(victim_address) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(victim_pid, signal.SIGKILL)
    thread.join(timeout=120)
    assert not errors, errors
    assert_same(expected, result["got"])
    client.wait_for_workers(2, timeout=60)
    assert victim_pid not in client.run(os.getpid).values()


def test_without_dask_the_error_says_how_to_install_it(monkeypatch):
    import builtins

    from skal_power.distributed._partitions import require_dask

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith("dask."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ImportError, match=r"install it with `pip install 'skal_power\[dask\]'`"):
        require_dask()


# --- a selector of one's own: the partition contract is all Dask needs -------------------

class Lowest(Selector):
    """The B *lowest* scores, ties by seeded keys: written against the selector contract."""

    partition_merge = "keys"

    def select(self, scores, n_instances, *, seed, round_index=0, n_classes=None):
        whole = self.partition_candidates(scores, np.arange(len(scores)), seed=seed)
        return best_candidates(whole, n_instances).indices

    def partition_candidates(self, scores, indices, *, seed, round_index=0, positions=None,
                             sorted_scores=None):
        positions = indices if positions is None else positions
        return Candidates(indices, np.ones(len(scores), np.int8), -scores, scores,
                          tie_keys(seed, positions))


def test_a_new_selector_runs_on_dask_without_touching_the_dask_code(client, problem):
    # issue 30: adding a selector used to touch ~6 places (the rule table, isinstance
    # checks, the tasks); now it implements partition_candidates (and, if it needs them,
    # n_kept / merged_batch) and the strategies and the Dask path take it as it is.
    from skal_power.strategies import Acquisition, EvaluationAcquisition

    forest, pool = problem
    X, y = load_digits(return_X_y=True)
    fit = {"X_training": X[:150], "y_training": y[:150]}
    for strategy, kwargs in ((Acquisition("bald", Lowest(), random_state=4), {}),
                             (EvaluationAcquisition("eig", Lowest(), eval_size=50,
                                                    random_state=4), fit)):
        expected = clone(strategy)(forest, pool, n_instances=7, **kwargs)
        got = clone(strategy)(forest, da.from_array(pool, chunks=(61, -1)), n_instances=7,
                              **kwargs)
        assert_same(expected, got)
        assert selection_rule(strategy).endswith("/Lowest")
