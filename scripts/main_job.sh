#!/usr/bin/env bash
# The README's main job: set up .venv (idempotent) and run a short active-learning
# comparison on the embedded digits data (RandomSampling, BALD, PowerBALD with an
# extra-trees posterior, 10 seeds), then print accuracy at each label count, the gain
# over random sampling and the cost per strategy.
#
# Results land in results/digits-demo.csv; a second run resumes (and finishes at once).
# Set SKIP_SETUP=1 to reuse an existing .venv without pip.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
if [ "${SKIP_SETUP:-0}" != 1 ]; then
    .venv/bin/python -m pip install -q -e ".[study]"  # the study tools and skal-power
fi

OUT=${OUT:-results}
.venv/bin/skal-power run --preset digits-demo --output "$OUT/digits-demo.csv" --n-jobs 2
.venv/bin/skal-power plot "$OUT/digits-demo.csv"      # -> $OUT/digits-demo{,.classes,.gains}.png
.venv/bin/skal-power report "$OUT/digits-demo.csv" --at 20 50 80 120
