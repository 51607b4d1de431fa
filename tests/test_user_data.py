"""A user's labelled data in the experiment runner: files read as data, errors before training."""

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skal_power.cli import main
from skal_power.experiments import (DataFileError, check_labelled, load_results, make_data,
                                    read_labelled, run_experiment)

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorials" / "own_data.rst"
SMALL_MODEL = {"name": "extra_trees", "params": {"n_estimators": 5}}


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["kind"] = np.where(frame["a"] + 0.3 * rng.normal(size=n) > 0, "yes", "no")
    return frame


def test_csv_parquet_and_npz_give_the_same_arrays(tmp_path):
    pytest.importorskip("pyarrow")  # pandas' parquet engine (the dask extra installs it)
    frame = _table()
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    codes = (frame["kind"] == "yes").to_numpy().astype(int)
    np.savez(tmp_path / "d.npz", X=frame[["a", "b", "c"]].to_numpy(), y=codes)
    from_csv = read_labelled(tmp_path / "d.csv", label="kind")
    from_parquet = read_labelled(tmp_path / "d.parquet", label="kind")
    from_npz = read_labelled(tmp_path / "d.npz")
    np.testing.assert_allclose(from_csv.X, frame[["a", "b", "c"]].to_numpy())
    np.testing.assert_array_equal(from_csv.y, codes)  # "no" < "yes": codes in sorted order
    assert from_csv.label_names.tolist() == ["no", "yes"]
    for other in (from_parquet, from_npz):
        np.testing.assert_allclose(other.X, from_csv.X)
        np.testing.assert_array_equal(other.y, from_csv.y)
    # chosen columns, and an .npz whose feature array has another name
    assert read_labelled(tmp_path / "d.csv", label="kind", features=["c", "a"]).X.shape == (60, 2)
    np.savez(tmp_path / "e.npz", inputs=frame[["a"]].to_numpy(), target=codes)
    assert read_labelled(tmp_path / "e.npz", label="target").X.shape == (60, 1)


class _Payload:
    """Unpickling this would run code: it creates the file named by ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_pickled_npz_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "executed"
    X = np.empty(4, dtype=object)
    X[:] = [_Payload(marker)] * 4
    np.savez(tmp_path / "evil.npz", X=X, y=np.array([0, 1, 0, 1]))
    with pytest.raises(DataFileError, match=r"evil\.npz: holds an object \(pickled\) array"):
        read_labelled(tmp_path / "evil.npz")
    assert not marker.exists()


@pytest.mark.parametrize("name, content, message", [
    ("m.csv", "a,b,kind\n1,2,x\n3,4,y\n", r"m\.csv: no label column 'label'; its columns are "
     r"\['a', 'b', 'kind'\]"),
    ("t.csv", "a,b,label\n1,red,x\n3,blue,y\n", r"t\.csv: non-numeric feature column\(s\) "
     r"\['b'\] \(e\.g\. 'red'\)"),
    ("n.csv", "a,b,label\n1,2,x\n3,,y\n", r"n\.csv: feature column 'b' has a missing value "
     r"\(data row 2\)"),
    ("l.csv", "a,label\n1,x\n3,\n", r"l\.csv: column 'label' has a missing label at point 1"),
    ("o.csv", "a,label\n1,x\n3,x\n", r"o\.csv: column 'label' holds 1 class\(es\) \['x'\]"),
    ("r.csv", "a,label\n1,0.5\n3,1.5\n", r"r\.csv: column 'label' holds non-integer numbers"),
    ("e.csv", "", r"e\.csv: not a readable CSV file \(EmptyDataError"),
    ("z.npz", "not a zip archive", r"z\.npz: not a readable \.npz archive"),
    ("p.parquet", "not parquet", r"p\.parquet: not a readable parquet file"),
    ("d.json", "{}", r"d\.json: unsupported file type '\.json'"),
])
def test_bad_files_name_the_file_and_the_field(tmp_path, name, content, message):
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    (tmp_path / name).write_text(content)
    with pytest.raises(DataFileError, match=message):
        read_labelled(tmp_path / name, label="label")


def test_npz_missing_arrays_and_bad_shapes(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.zeros((3, 2)), labels=np.array([0, 1, 0]))
    with pytest.raises(DataFileError, match=r"a\.npz: no label array 'y'; its arrays are "
                       r"\['X', 'labels'\]"):
        read_labelled(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X=np.zeros(3), y=np.array([0, 1, 0]))
    with pytest.raises(DataFileError, match=r"b\.npz: array 'X' must be a 2-D array"):
        read_labelled(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", X=np.array([["a"], ["b"], ["c"]]), y=np.array([0, 1, 0]))
    with pytest.raises(DataFileError, match=r"c\.npz: array 'X' must be numeric; got dtype <U1"):
        read_labelled(tmp_path / "c.npz")
    with pytest.raises(DataFileError, match=r"arrays: X holds nan in feature 1, point 0"):
        check_labelled([[0.0, np.nan], [1.0, 1.0]], [0, 1], source="arrays")
    with pytest.raises(DataFileError, match=r"y has 3 labels for 2 points"):
        check_labelled([[0.0], [1.0]], [0, 1, 0])
    with pytest.raises(DataFileError, match=r"no such file"):
        read_labelled(tmp_path / "absent.csv")


def _config(**dataset):
    return {"dataset": dataset, "model": SMALL_MODEL, "initial": {"per_class": 2},
            "strategies": ["RandomSampling", "BALD"], "batch_size": 5, "budget": 10,
            "seeds": [0, 1]}


def test_arrays_run_like_a_file_of_the_same_data(tmp_path):
    frame = _table()
    frame.to_csv(tmp_path / "d.csv", index=False)
    X, y = frame[["a", "b", "c"]].to_numpy(), frame["kind"].to_numpy()
    from_arrays = run_experiment(_config(name="arrays"), tmp_path / "arrays.csv", data=(X, y))
    from_file = run_experiment(_config(name="file", path=str(tmp_path / "d.csv"), label="kind"),
                               tmp_path / "file.csv")
    a, b = load_results(from_arrays), load_results(from_file)
    assert len(a) == 2 * 2 * 3 and a["n_labelled"].max() == 14
    pd.testing.assert_frame_equal(a, b)  # same data, same seeds: the same rows
    # the default test split is a quarter of the data; the rest is the pool
    data = make_data({"dataset": {"name": "arrays"}}, 0, data=(X, y))
    assert (len(data.y_test), len(data.y_pool)) == (15, 45)


def test_other_data_never_resumes_a_results_file(tmp_path):
    frame = _table()
    X, y = frame[["a", "b", "c"]].to_numpy(), frame["kind"].to_numpy()
    output = tmp_path / "r.csv"
    run_experiment(_config(name="arrays"), output, data=(X, y))
    with pytest.raises(ValueError, match="holds results of another config"):
        run_experiment(_config(name="arrays"), output, data=(X + 1.0, y))  # other data
    assert len(load_results(output)) == 12


@pytest.mark.parametrize("change, message", [
    ({"data": None}, r'dataset "arrays" needs data=\(X, y\)'),
    ({"budget": 60}, r"budget 60 and 4 initial labels need more than the 45 pool points"),
    ({"test_size": 60}, r"test_size 60 leaves no pool: the data has 60 points"),
    ({"labels": ["yes"] * 59 + ["no"]}, r"initial per_class=2: class 0 has only"),
])
def test_run_stops_before_any_training(tmp_path, change, message):
    frame = _table()
    X = frame[["a", "b", "c"]].to_numpy()
    y = np.array(change.get("labels", frame["kind"].to_numpy()))
    config = _config(name="arrays", **({"test_size": change["test_size"]}
                                       if "test_size" in change else {}))
    config["budget"] = change.get("budget", 10)
    output = tmp_path / "r.csv"
    with pytest.raises(ValueError, match=message):
        run_experiment(config, output, data=None if "data" in change else (X, y))
    assert not output.exists()


def test_bad_dataset_fields_are_config_errors(tmp_path):
    from skal_power.experiments import ConfigError, check_config

    for dataset, message in [({"name": "file"}, r'dataset "file" needs path'),
                             ({"name": "arrays", "path": "x.csv"}, "takes no path"),
                             ({"name": "file", "path": "x.csv", "features": 3},
                              "dataset features must be"),
                             ({"name": "file", "path": "x.csv", "test_size": 1.5},
                              r"test_size must be an integer >= 1 or a fraction"),
                             ({"name": "digits", "path": "x.csv"}, "unknown dataset field")]:
        with pytest.raises(ConfigError, match=message):
            check_config({"dataset": dataset, "strategies": ["BALD"], "budget": 10})


def test_cli_runs_a_file_and_reports_its_errors_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().to_csv("cells.csv", index=False)
    assert main(["run", "--data", "cells.csv", "--label", "kind", "--strategies",
                 "RandomSampling", "BALD", "--budget", "10", "--batch-size", "5", "--seeds", "0",
                 "--test-size", "20", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "results: results/cells.csv (6 rows" in out
    assert "labels (the tables' class columns): 0 = no, 1 = yes" in out
    assert main(["report", "results/cells.csv"]) == 0
    assert capsys.readouterr().out.startswith("Protocol: cells.csv, model extra_trees")
    Path("bad.csv").write_text("a,kind\n1,x\nred,y\n")
    assert main(["run", "--data", "bad.csv", "--label", "kind", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skal-power: error: bad.csv: non-numeric feature column(s) ['a']")
    assert not Path("results/bad.csv").exists()
    assert main(["run", "--label", "kind"]) == 2
    assert "--label need --data" in capsys.readouterr().err


def _blocks(text, language):
    """The code blocks of one language in a reStructuredText page, dedented."""
    blocks = []
    for match in re.finditer(rf"\.\. code-block:: {language}\n\n((?:   .*\n|\n)+)", text):
        blocks.append("\n".join(line[3:] for line in match.group(1).splitlines()))
    return blocks


def test_the_own_data_tutorial_runs_as_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = TUTORIAL.read_text()
    python = _blocks(text, "python")
    exec(compile(python[0], str(TUTORIAL), "exec"), {})  # writes cancer.csv
    commands = [line for block in _blocks(text, "bash") for line in block.splitlines()
                if line.startswith("skal-power ")]
    assert [c.split()[1] for c in commands] == ["run", "report", "plot"]
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, command
    out = capsys.readouterr().out
    assert "Whole-curve accuracy gain over RandomSampling (paired 95% CI, 5 seeds)" in out
    assert "| strategy | 0 | 1 | rarest |" in out
    assert Path("results/cancer.classes.png").is_file()
    # the config file's dataset table reads the same file, with the chosen columns
    import tomllib

    from skal_power.experiments import check_config
    dataset = tomllib.loads(_blocks(text, "toml")[0])["dataset"]
    config = check_config({"dataset": dataset, "strategies": ["BALD"], "budget": 10})
    assert make_data(config, 0).X_pool.shape[1] == 3
    # the Python example runs the arrays of the same file
    table = pd.read_csv("cancer.csv")
    X, y = table.drop(columns="diagnosis").to_numpy(), table["diagnosis"].to_numpy()
    example = python[1].replace('"budget": 60, "seeds": [0, 1, 2, 3, 4]',
                                '"budget": 10, "seeds": [0]')
    assert example != python[1]
    exec(compile(example, str(TUTORIAL), "exec"), {"X": X, "y": y})
    assert len(load_results("results/mine.csv")) == 2 * 2


def test_parallel_trials_get_the_arrays(tmp_path):
    frame = _table()
    X, y = frame[["a", "b", "c"]].to_numpy(), frame["kind"].to_numpy()
    one = run_experiment(_config(name="arrays"), tmp_path / "one.csv", data=(X, y))
    two = run_experiment(_config(name="arrays"), tmp_path / "two.csv", data=(X, y), n_jobs=2)
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "two.csv").read_text()
    assert len(load_results(one)) == len(load_results(two)) == 12
