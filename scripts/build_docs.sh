#!/usr/bin/env bash
# Build the documentation site with warnings as errors, gallery included, and
# run the doctest blocks of the narrative pages.
#
#   scripts/build_docs.sh            # html + doctest into docs/_build/
#   scripts/build_docs.sh linkcheck  # also check links (internal ones offline)
#
# PYTHON selects the interpreter (default: .venv/bin/python, the environment that
# `bash scripts/test.sh` or `pip install -e ".[docs]"` in .venv made; else python on
# PATH). DOCS_TIMEOUT (seconds,
# default 900) bounds each sphinx-build call so CI can never hang here.
# SKAL_POWER_DOCS_INTERSPHINX=1 links to numpy/sklearn/torch/... (needs network).
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi
if ! "$PYTHON" -c "import sphinx, sphinx_gallery" 2>/dev/null; then
    echo "docs: $PYTHON has no sphinx; install the docs extra into it:" \
        "$PYTHON -m pip install -e \".[docs,torch,dask]\" (or run bash scripts/test.sh)" >&2
    exit 1
fi
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
# What each gallery example took (sphinx-gallery writes it at the foot of its page, if it
# took over min_reported_time = 5 s; an example that did not change since the last build
# was not run and shows its old time).
for page in docs/auto_examples/plot_*.rst; do
    [[ -f "$page" ]] || continue
    seconds=$(sed -n 's/.*Total running time of the script:\*\* *( *\([0-9]*\) minutes *\([0-9.]*\) seconds).*/\1 \2/p' "$page" \
        | awk '{printf "%.1f", $1 * 60 + $2}')
    printf 'docs:   %6s s  %s\n' "${seconds:-<5}" "$(basename "$page" .rst).py"
done

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
