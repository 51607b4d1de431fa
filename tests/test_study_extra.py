"""The strategies import and run without the study extra (pandas, matplotlib, tqdm).

The experiment tools need them; the core does not (issue 31). Each check runs in a fresh
interpreter in which importing those packages fails, as on a machine without them.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCK = """
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pandas", "matplotlib", "tqdm"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Missing())
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
                               "PATH": "/usr/bin:/bin"})


def test_strategies_run_without_pandas_matplotlib_and_tqdm():
    done = run("""
        import warnings
        import numpy as np
        from sklearn.datasets import load_digits
        from sklearn.ensemble import RandomForestClassifier
        import skal_power
        from skal_power import BALD, BatchBALD, PowerBALD, RandomSampling
        from skal_power.strategies import EPIG, PowerEvaluationBALD
        X, y = load_digits(return_X_y=True)
        forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X[:100], y[:100])
        pool = X[100:400]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a small forest's batch is spent: the fill warns
            for strategy in (BALD(), PowerBALD(random_state=0), BatchBALD(random_state=0),
                             EPIG(random_state=0), RandomSampling(random_state=0)):
                assert len(strategy(forest, pool, 5)[0]) == 5
            picked, _ = PowerEvaluationBALD(random_state=0, eval_size=50)(
                forest, pool, 5, X_training=X[:100], y_training=y[:100])
        assert len(picked) == 5
        assert not {"pandas", "matplotlib", "tqdm"} & set(sys.modules)
        print("ok")
    """)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_without_the_extra_progress_bars_and_study_tools_say_what_to_install():
    done = run("""
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from skal_power import BALD
        X = np.arange(20.0).reshape(10, 2)
        model = LogisticRegression().fit(X, [0] * 5 + [1] * 5)
        try:
            BALD(progress=True)(model, X, 2)
        except ImportError as error:
            print(error)
        try:
            import skal_power.experiments
        except ImportError as error:
            print(error)
        from skal_power.cli import main
        print("exit", main(["report", "results.csv"]))
    """)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert "progress=True needs tqdm" in lines[0] and "skal_power[study]" in lines[0]
    assert "skal_power.experiments" in lines[1] and "skal_power[study]" in lines[1]
    assert lines[2] == "exit 2" and "skal_power[study]" in done.stderr
