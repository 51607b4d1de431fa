"""Sphinx configuration of the skal_power documentation.

Build with ``scripts/build_docs.sh`` (warnings are errors). Three choices here
are forced by where the site is built, and each is explained where it is made:

* intersphinx is off unless ``SKAL_POWER_DOCS_INTERSPHINX=1`` (the build
  machines reach no documentation host);
* formulas use MathJax, served from the site itself when the
  ``sphinx-mathjax-offline`` package is installed (and from MathJax's CDN
  otherwise);
* the benchmark page includes ``benchmarks/results/*.md`` through MyST when
  ``myst-parser`` is installed, and as plain text otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document the checkout, not an installed copy
sys.path.insert(0, str(DOCS / "_ext"))

import skal_power  # noqa: E402

project = "skal_power"
author = "skal_power developers"
copyright = "2026, skal_power developers"
release = skal_power.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",  # small figures inside the tutorials
]

# --- math ------------------------------------------------------------------
# MathJax renders in the reader's browser. ``sphinx-mathjax-offline`` (a docs
# dependency) ships MathJax 3 and copies it into ``_static``, so the built site
# shows formulas with no network at all (and our offline screenshot checks see
# them). Without it, Sphinx's default CDN address is used: the build still
# passes, and formulas render wherever the reader is online. ``imgmath`` was
# rejected: it needs a LaTeX installation on every machine that builds.
if importlib.util.find_spec("sphinx-mathjax-offline") is not None:
    extensions.append("sphinx-mathjax-offline")

# --- Markdown (benchmark results) --------------------------------------------
HAVE_MYST = importlib.util.find_spec("myst_parser") is not None
if HAVE_MYST:
    extensions.append("myst_parser")
    myst_enable_extensions = ["dollarmath"]
    myst_heading_anchors = 3
source_suffix = {".rst": "restructuredtext"}
if HAVE_MYST:
    source_suffix[".md"] = "markdown"

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.md5",
    "auto_examples/*.codeobj.json",
    "auto_examples/*.zip",
    "sg_execution_times.rst",
]
default_role = "py:obj"  # `name` in prose links to the API when it can
nitpicky = False

# --- intersphinx ------------------------------------------------------------
# The machines that build this site (developers' and CI) reach package
# registries only, and none of the projects below ships its ``objects.inv`` in
# a wheel, so inventories can neither be fetched nor vendored from an installed
# package. A failed fetch is a warning, which ``-W`` turns into a failed
# build. So the mapping is empty unless SKAL_POWER_DOCS_INTERSPHINX=1 says the
# network is there (e.g. on a documentation host); offline, references to
# these projects render as plain code text instead of links.
intersphinx_mapping = {}
if os.environ.get("SKAL_POWER_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "modAL": ("https://modal-python.readthedocs.io/en/latest", None),
    }
intersphinx_timeout = 10

# --- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters section says it better
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# --- doctest -----------------------------------------------------------------
# Docstring examples are doctested by pytest (``--doctest-modules``); here the
# doctest builder runs the ``.. doctest::`` blocks of the narrative pages only.
doctest_test_doctest_blocks = ""
doctest_global_setup = "import numpy as np"

# --- sphinx-gallery ------------------------------------------------------------
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skal_power",),
    "reference_url": {"skal_power": None},
    "within_subsection_order": "gallery_order.reading_order",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "plot_gallery": os.environ.get("SKAL_POWER_DOCS_PLOT_GALLERY", "True"),
    # The computation-times pages load jQuery and DataTables from a CDN; the site
    # must work offline, and the times are in each example's footer anyway.
    "write_computation_times": False,
}

# --- plot directive (figures of the tutorials, computed at build time) --------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"font.size": 10}
plot_apply_rcparams = True

# --- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skal_power {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # Gallery pages are mostly code: give them the full width.
    # (patterns must not overlap: "[!a]**" is every page outside api/ and auto_examples/)
    "secondary_sidebar_items": {"[!a]**": ["page-toc"], "api/**": ["page-toc"],
                                "auto_examples/**": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
# Pages without sub-pages get no (empty) left sidebar.
html_sidebars = {"index": [], "install": []}


# --- benchmark results page ----------------------------------------------------
#: Page order: the claims (full run first, then reduced runs), the greedy batch
#: kernels, then every other results file by name.
_BENCHMARK_FIRST = ("claims", "claims-*", "batch")
#: Titles for pages whose Markdown has no single top-level heading.
_BENCHMARK_TITLES = {
    "claims": "The report's claims on Repeated MNIST",
    "batch": "Greedy batch acquisition: BatchBALD, BatchEIG, BatchEvaluationBALD",
    "models": "MC-dropout models: sampling and PowerEvaluationBALD on MNIST",
}
_IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif"}
_COPIED_SUFFIXES = _IMAGE_SUFFIXES | {".csv", ".json", ".txt"}


def _benchmark_sort_key(path: Path) -> tuple[int, str]:
    from fnmatch import fnmatch

    for rank, pattern in enumerate(_BENCHMARK_FIRST):
        if fnmatch(path.stem, pattern):
            return rank, path.stem
    return len(_BENCHMARK_FIRST), path.stem


def _benchmark_title(stem: str) -> str:
    return _BENCHMARK_TITLES.get(stem, stem.replace("_", " ").replace("-", " ").capitalize())


def _with_one_title(text: str, stem: str) -> str:
    """Markdown whose only top-level heading is its first line's title.

    A results file that starts without a ``#`` heading, or holds several
    (e.g. one per appended run), would give the page no title or several
    entries in the table of contents. Then a title is added and every heading
    is demoted one level; the content is otherwise unchanged.
    """
    import re

    lines = text.splitlines(keepends=True)
    headings, fenced, first_level = [], False, None
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"(#{1,6})[ \t]", line)
        if match:
            headings.append(number)
            first_level = first_level or len(match.group(1))
    top = [n for n in headings if lines[n].startswith("# ")]
    if first_level == 1 and len(top) == 1:
        return text
    for number in headings:
        if not lines[number].startswith("######"):
            lines[number] = "#" + lines[number]
    return f"# {_benchmark_title(stem)}\n\n" + "".join(lines)


def _local_links(text: str, page: Path, target: Path) -> str:
    """Make the page's relative links to local files work from the built site.

    A link to a file outside ``benchmarks/results/`` (a results CSV under
    ``benchmarks/claims/results/``, say) is copied under ``_linked/`` and the
    link pointed there, so MyST makes it a download; a link to a file that
    does not exist becomes plain text naming the path, instead of a broken
    cross-reference that fails the ``-W`` build. Web links, anchors, other
    pages and files next to the page are left alone.
    """
    import re
    import shutil

    source = page.parent.resolve()

    def replace(match: re.Match) -> str:
        bang, label, link = match.group(1), match.group(2), match.group(3)
        if re.match(r"[a-z][a-z0-9+.-]*:|#|/", link, re.IGNORECASE) or link.endswith(".md"):
            return match.group(0)
        path = (source / link.split("#")[0]).resolve()
        if not path.is_file():
            return match.group(0) if bang else f"{label} (`{link}`, not found)"
        if path.is_relative_to(source):
            return match.group(0)
        copy = target / "_linked" / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        return f"{bang}[{label}](_linked/{path.name})"

    return re.sub(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)", replace, text)


def _distinct_title(text: str, stem: str, seen: set) -> str:
    """Tell apart pages with the same title (a full and a reduced run of one script)."""
    import re

    match = re.search(r"^# (.+)$", text, re.MULTILINE)
    if match is None:
        return text
    title = match.group(1).strip()
    if title in seen:
        suffix = "reduced run" if stem.endswith("-reduced") else stem
        title = f"{title} ({suffix})"
        text = text[:match.start()] + f"# {title}" + text[match.end():]
    seen.add(title)
    return text


def _write_benchmark_results() -> None:
    """Mirror ``benchmarks/results/`` into ``docs/benchmark_results/`` (ignored by git).

    The benchmark scripts write Markdown and figures there. Each ``.md`` file
    becomes one page, parsed by MyST when it is installed (given a single
    title if it lacks one, see ``_with_one_title``) and shown as text in an
    ``.rst`` wrapper otherwise; every image under ``benchmarks/results/`` is
    copied along with its relative path, so ``![...](figure.png)`` next to the
    Markdown renders. A new results file (``batch.md``, ``claims.md``, ...)
    needs no change here. ``benchmarks.rst`` includes the generated table of
    contents.
    """
    import shutil

    source = ROOT / "benchmarks" / "results"
    target = DOCS / "benchmark_results"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    entries, titles = [], set()
    pages = sorted(source.glob("*.md"), key=_benchmark_sort_key) if source.is_dir() else []
    for path in pages:
        if HAVE_MYST:
            text = path.read_text(encoding="utf-8")
            fixed = _local_links(_with_one_title(text, path.stem), path, target)
            fixed = _distinct_title(fixed, path.stem, titles)
            if fixed == text:
                shutil.copy2(path, target / path.name)
            else:
                (target / path.name).write_text(fixed, encoding="utf-8")
        else:
            title = _benchmark_title(path.stem)
            (target / f"{path.stem}.rst").write_text(
                f"{title}\n{'=' * len(title)}\n\n"
                f".. literalinclude:: {path.as_posix()}\n   :language: markdown\n")
        entries.append(f"   benchmark_results/{path.stem}")
    if source.is_dir():  # figures referenced from the Markdown files
        for path in source.rglob("*"):
            if path.is_file() and path.suffix.lower() in _COPIED_SUFFIXES:
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
    if entries:
        text = ".. toctree::\n   :maxdepth: 1\n\n" + "\n".join(entries) + "\n"
    else:
        text = "No results yet: run the scripts in ``benchmarks/`` to produce them.\n"
    toc = DOCS / "_generated" / "benchmark_toc.rst"
    toc.parent.mkdir(parents=True, exist_ok=True)
    if not toc.exists() or toc.read_text() != text:
        toc.write_text(text)


_write_benchmark_results()
exclude_patterns.append("_generated/benchmark_toc.rst")
# Benchmark Markdown may skip heading levels; that is not worth failing on.
suppress_warnings = ["myst.header"]

# --- linkcheck -----------------------------------------------------------------
# Internal references are always checked (``-W`` fails on a broken one). The
# build machines reach no web host, so external links are only checked when
# SKAL_POWER_DOCS_LINKCHECK_EXTERNAL=1.
if os.environ.get("SKAL_POWER_DOCS_LINKCHECK_EXTERNAL") != "1":
    linkcheck_ignore = [r"https?://.*"]
linkcheck_timeout = 10


# --- autodoc: leave out scikit-learn's generated metadata-routing methods ------
def _skip_sklearn_routing(app, what, name, obj, skip, options):
    """``set_fit_request`` & co. are generated by scikit-learn on every subclass;
    their docstrings cite sklearn's glossary, which is not linked offline."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_routing)
