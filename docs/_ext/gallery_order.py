"""Reading order of the example gallery (sphinx-gallery ``within_subsection_order``).

Examples listed here come first, in this order; any other example follows,
sorted by file name, so a new script never breaks the build.
"""

ORDER = [
    "plot_modal_quickstart.py",
    "plot_sklearn_posteriors.py",
    "plot_skorch_mc_dropout.py",
    "plot_modal_skorch_mc_dropout.py",
    "plot_alpha_sampling.py",
    "plot_batchbald_vs_bald.py",
    "plot_evaluation_bald.py",
    "plot_real_world_protocol.py",
    "plot_learning_curves.py",
    "plot_dask_pool.py",
]


def reading_order(filename: str) -> tuple[int, str]:
    """Sort key: position in ``ORDER``, then the file name."""
    try:
        return ORDER.index(filename), filename
    except ValueError:
        return len(ORDER), filename
