#!/usr/bin/env bash
# Build the documentation site with warnings as errors, gallery included, and
# run the doctest blocks of the narrative pages.
#
#   scripts/build_docs.sh            # html + doctest into docs/_build/
#   scripts/build_docs.sh linkcheck  # also check links (internal ones offline)
#
# PYTHON selects the interpreter (default: python). DOCS_TIMEOUT (seconds,
# default 900) bounds each sphinx-build call so CI can never hang here.
# SKAL_POWER_DOCS_INTERSPHINX=1 links to numpy/sklearn/torch/... (needs network).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
TIMEOUT="${DOCS_TIMEOUT:-900}"
export MPLBACKEND=Agg
# Two shared cores: keep torch/BLAS from oversubscribing them while examples run.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

sphinx() {
    timeout --signal=TERM --kill-after=30 "$TIMEOUT" \
        "$PYTHON" -m sphinx -W --keep-going -q -d docs/_build/doctrees "$@"
}

start=$(date +%s)
# autosummary never deletes pages of names that left the reference: start afresh.
rm -rf docs/api/generated
# -E: re-read every page, so warnings of unchanged pages are reported again.
# Gallery scripts still run only when they changed (sphinx-gallery's md5 cache).
sphinx -E -b html docs docs/_build/html
echo "docs: html built in $(( $(date +%s) - start )) s -> docs/_build/html/index.html"

# The site must work offline: no page may load a script, stylesheet or font from elsewhere.
if grep -rlE '<(script|link)[^>]+(src|href)="(https?:)?//' docs/_build/html --include='*.html' \
        > docs/_build/remote-assets.txt; then
    echo "docs: these pages load assets from the network:" >&2
    cat docs/_build/remote-assets.txt >&2
    exit 1
fi

start=$(date +%s)
# The doctest builder reuses the environment pickled by the html build.
sphinx -b doctest docs docs/_build/doctest
echo "docs: doctest blocks passed in $(( $(date +%s) - start )) s"

if [[ "${1:-}" == "linkcheck" ]]; then
    start=$(date +%s)
    # Offline, external links cannot be reached: linkcheck_ignore in conf.py
    # skips http(s) targets unless SKAL_POWER_DOCS_LINKCHECK_EXTERNAL=1.
    sphinx -b linkcheck docs docs/_build/linkcheck
    echo "docs: links checked in $(( $(date +%s) - start )) s"
fi
