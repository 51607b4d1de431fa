"""Results files: rows are read and written by column name, never by position."""

from skal_power.experiments._results import (
    COLUMNS,
    LEGACY_COLUMNS,
    TIMING_COLUMNS,
    ResultRow,
    ResultsWriter,
    TimingRow,
    format_row,
    row_type,
)


def test_row_types_follow_the_columns():
    assert ResultRow._fields == COLUMNS and TimingRow._fields == TIMING_COLUMNS
    assert row_type(COLUMNS) is ResultRow and row_type(TIMING_COLUMNS) is TimingRow
    assert row_type(LEGACY_COLUMNS)._fields == LEGACY_COLUMNS


def test_named_row_writes_the_positional_line():
    values = ["BALD", 0, 3, 50, 0.8125, 0.5, "4 9", "1 7"]
    assert format_row(ResultRow(*values)) == format_row(values)
    assert format_row(ResultRow(*values)) == "BALD,0,3,50,0.8125,0.5,4 9,1 7\n"


def test_writer_rows_are_named(tmp_path):
    path = tmp_path / "r.csv"
    writer = ResultsWriter(path, "abc")
    writer.append(ResultRow("BALD", 1, 0, 20, 0.5, 1.0, "3 4", "0 1"))
    writer.append(ResultRow("BALD", 0, 0, 20, 0.25, 1.5, "5", "2"))
    rows = ResultsWriter(path, "abc").rows
    assert [(r.strategy, r.seed, r.acquired) for r in rows] == [("BALD", "1", "3 4"),
                                                                ("BALD", "0", "5")]
    writer.finalize(lambda row: int(row.seed))
    assert [r.seed for r in ResultsWriter(path, "abc").rows] == ["0", "1"]


def test_legacy_file_rows_are_named_by_its_columns(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("# skal-power results v1 config=abc\n" + ",".join(LEGACY_COLUMNS) + "\n"
                    + "BALD,0,0,20,0.5,1.0,3 4\n")
    writer = ResultsWriter(path, "abc")
    assert writer.rows[0].acquired == "3 4" and writer.rows[0]._fields == LEGACY_COLUMNS
    writer.append(ResultRow("BALD", 0, 1, 22, 0.6, 0.9, "7", "5"))  # the label is dropped
    assert path.read_text().endswith("BALD,0,1,22,0.6,0.9,7\n")
