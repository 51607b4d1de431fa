"""The benchmark scripts' page writing (the measurements themselves run by hand)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_models_page_keeps_its_summary_and_one_run(tmp_path):
    bench = _load("bench_models")
    page = tmp_path / "models.md"
    bench.write_page(page, f"{bench.TITLE}\n\nfirst run\n")
    assert page.read_text() == f"{bench.TITLE}\n\nfirst run\n"
    page.write_text("# Summary\n\nwritten by hand\n\n" + page.read_text())
    bench.write_page(page, f"{bench.TITLE}\n\nsecond run\n")
    text = page.read_text()
    assert text == f"# Summary\n\nwritten by hand\n\n{bench.TITLE}\n\nsecond run\n"
    assert "first run" not in text  # it used to append each run after the last


def test_bench_second_model_describes_the_layout_and_the_evaluation_set():
    bench = _load("bench_second_model")
    assert bench.eval_text({"eval_size": None}) == "the whole pool as evaluation set"
    assert bench.eval_text({"eval_size": 500}) == "eval_size 500"
    text = bench.layout_text({"two_threads": (2.0, 0.5), "concurrent": [(3.0, 0.5), (4.0, 0.5)]},
                             today=3.0)
    # 30 fits a minute with 2 threads, 2 fits per 4 s = 30 a minute with 2 workers
    assert "30.0 fits per minute" in text and "1.00× the throughput" in text
