"""The results file: one CSV row per (trial, round), identified by the config hash.

The first line is ``# skal-power results v1 config=<hash>``; rows are appended
one ``os.write`` at a time under an exclusive lock and fsynced, so a killed run
leaves at most a torn last line, which a resumed run drops. At the end of a
run the file is rewritten sorted (write to a temporary file, then rename).
"""

from __future__ import annotations

import csv
import io
import os
from collections import namedtuple
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

try:  # POSIX file locks; on other systems rows are still written one call each
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

COLUMNS = ("strategy", "seed", "round", "n_labelled", "accuracy", "nll", "acquired",
           "acquired_labels")
#: The columns of files written before ``acquired_labels``; read (and resumed) as such.
LEGACY_COLUMNS = COLUMNS[:7]
TIMING_COLUMNS = ("strategy", "seed", "round", "fit_seconds", "query_seconds")
#: A row of a results file, its fields named by :data:`COLUMNS` (values as written or read).
ResultRow = namedtuple("ResultRow", COLUMNS)
#: A row of a timings file, its fields named by :data:`TIMING_COLUMNS`.
TimingRow = namedtuple("TimingRow", TIMING_COLUMNS)
_MAGIC = "# skal-power results v1 config="


class ResultsFileError(ValueError):
    """A results file that is corrupt or belongs to another experiment.

    Examples
    --------
    >>> issubclass(ResultsFileError, ValueError)
    True
    """


@lru_cache(maxsize=None)
def row_type(columns: tuple[str, ...]) -> type:
    """The named tuple of a file's rows: :data:`ResultRow`, :data:`TimingRow`, or one for
    the columns of an older file (which lacks ``acquired_labels``).

    Examples
    --------
    >>> row = row_type(LEGACY_COLUMNS)._make(["BALD", "0", "1", "22", "0.5", "1.1", "4 9"])
    >>> row.strategy, int(row.round), row.acquired
    ('BALD', 1, '4 9')
    """
    known = {COLUMNS: ResultRow, TIMING_COLUMNS: TimingRow}
    return known.get(tuple(columns)) or namedtuple("ResultRow", columns)


def _header(config_hash: str, columns: Iterable[str]) -> str:
    return f"{_MAGIC}{config_hash}\n" + ",".join(columns) + "\n"


def format_row(values: Iterable[Any]) -> str:
    """One CSV line; floats with ``repr`` so they read back exactly."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        [repr(float(v)) if isinstance(v, float) else v for v in values]
    )
    return buffer.getvalue()


def _append(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_rows(path: Path, config_hash: str, columns=COLUMNS) -> list[list[str]]:
    """Rows of ``path`` (as strings), checking it belongs to ``config_hash``.

    A missing or empty file gives ``[]``. A torn last line (no newline) is ignored.
    A results file written before ``acquired_labels`` is read with its 7 columns.

    Raises
    ------
    ResultsFileError
        If the file is not a skal-power results file, was written for another
        config, or has malformed rows.
    """
    return _read(Path(path), config_hash, columns)[1]


def _read(path: Path, config_hash: str | None, columns) -> tuple[tuple | None, list, str]:
    """``(the file's columns, rows, text)`` in one read; ``(None, [], "")`` if empty.

    ``config_hash=None`` accepts a file of any config.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None, [], ""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ResultsFileError(f"cannot read results file {str(path)!r}: {error}") from None
    lines = text.split("\n")
    complete, torn = lines[:-1], lines[-1]
    del torn  # a torn final write: dropped, rewritten on resume
    if not complete or not complete[0].startswith(_MAGIC):
        raise ResultsFileError(
            f"{str(path)!r} is not a skal-power results file (no '{_MAGIC}...' header); "
            "refusing to overwrite it: choose another output path."
        )
    found = complete[0][len(_MAGIC):]
    if config_hash is not None and found != config_hash:
        raise ResultsFileError(
            f"{str(path)!r} holds results of another config (hash {found}, this config "
            f"{config_hash}); refusing to overwrite it: choose another output path."
        )
    columns = _file_columns(complete, columns)
    if columns is None:
        raise ResultsFileError(f"{str(path)!r} is corrupt: bad column line.")
    rows = list(csv.reader(complete[2:]))
    for number, row in enumerate(rows, start=3):
        if len(row) != len(columns):
            raise ResultsFileError(f"{str(path)!r} is corrupt: line {number} has "
                                   f"{len(row)} fields, expected {len(columns)}.")
    return columns, rows, text


def _file_columns(lines: list[str], columns) -> tuple | None:
    """The columns a file was written with: ``columns``, or the legacy ones for results."""
    if len(lines) < 2:
        return None
    if lines[1] == ",".join(columns):
        return tuple(columns)
    if tuple(columns) == COLUMNS and lines[1] == ",".join(LEGACY_COLUMNS):
        return LEGACY_COLUMNS
    return None


class ResultsWriter:
    """Append rows to a results file that belongs to one config hash.

    Opening checks an existing file (see :func:`read_rows`) and, with
    ``repair=True``, truncates a torn last line; a new file gets the header.
    Workers appending beside other workers open with ``repair=False``.
    """

    def __init__(self, path: Any, config_hash: str, columns=COLUMNS, *,
                 repair: bool = True) -> None:
        self.path = Path(path)
        self.config_hash = config_hash
        self.columns = tuple(columns)
        found, rows, text = _read(self.path, config_hash, self.columns)
        if found is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path, _header(config_hash, self.columns))
        else:  # a legacy file keeps its columns: its new rows have the same fields
            self.columns = found
            if repair and not text.endswith("\n"):
                _atomic_write(self.path, text[: text.rfind("\n") + 1])
        #: The rows already in the file, named by its columns (strings, as read).
        self.rows = self._named(rows)

    def _named(self, rows: Iterable[list[str]]) -> list:
        make = row_type(self.columns)._make
        return [make(row) for row in rows]

    def append(self, values: Iterable[Any]) -> None:
        """Append one row (atomic single write, fsynced); fields beyond the file's columns
        (a legacy file) are dropped."""
        _append(self.path, format_row(list(values)[: len(self.columns)]))

    def finalize(self, key) -> None:
        """Rewrite the file with rows sorted by ``key`` (of a named row) (temp file + rename)."""
        rows = sorted(self._named(read_rows(self.path, self.config_hash, self.columns)),
                      key=key)
        body = "".join(format_row(r) for r in rows)
        _atomic_write(self.path, _header(self.config_hash, self.columns) + body)


def file_config_hash(path: Any) -> str | None:
    """The config hash in the header of results file ``path``; ``None`` if it is
    missing, empty or not a results file."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().rstrip("\n")
    return first[len(_MAGIC):] if first.startswith(_MAGIC) else None


def retag(path: Any, config_hash: str) -> None:
    """Rewrite the header of results file ``path`` to ``config_hash``, rows unchanged
    (temp file + rename). Only for a file nobody is appending to."""
    path = Path(path)
    text = path.read_text()
    _atomic_write(path, f"{_MAGIC}{config_hash}" + text[text.index("\n"):])


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_results(path: Any):
    """Read a results file into a :class:`pandas.DataFrame` (any config hash).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> w = ResultsWriter(path, "abc")
    >>> w.append(["BALD", 0, 0, 20, 0.5, 1.2, "1 2", "7 3"])
    >>> load_results(path)[["strategy", "accuracy"]].values.tolist()
    [['BALD', 0.5]]
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ResultsFileError(f"results file {str(path)!r} does not exist.")
    with open(path) as handle:
        first = handle.readline()
    if not first.startswith(_MAGIC):
        raise ResultsFileError(f"{str(path)!r} is not a skal-power results file.")
    columns, rows, _ = _read(path, None, COLUMNS)  # any config's results
    frame = pd.DataFrame(rows, columns=list(columns))
    if "acquired_labels" not in frame:
        frame["acquired_labels"] = ""
    for column in ("seed", "round", "n_labelled"):
        frame[column] = frame[column].astype(int)
    for column in ("accuracy", "nll"):
        frame[column] = frame[column].astype(float)
    return frame
