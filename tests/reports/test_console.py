"""`quotewire sql` output: a table on a terminal, whole values one row per line elsewhere, and csv/tsv/json/markdown."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from rich.cells import cell_len
from rich.console import Console

from quotewire.reports.console import print_rows, write_rows

BIN = Path(sys.executable).parent
LONG_NAME = "Jefferson Beauregard Sessions " * 6  # far wider than 80 columns
COLUMNS = ["speaker", "aliases", "n"]
ROWS = [(LONG_NAME, ["Jeff", "Sessions"], 3), ('Ann "Al" Lee, Jr.', None, 1), ("line\nbreak | pipe", [], 0)]


def test_a_table_into_a_pipe_keeps_every_value_whole_on_one_line():
    stream = io.StringIO()
    print_rows(COLUMNS, ROWS, Console(file=stream, width=80))
    lines = stream.getvalue().splitlines()
    assert any(LONG_NAME in line for line in lines)
    assert any("line\\nbreak | pipe" in line for line in lines)
    assert lines[-1] == "3 rows"


def test_a_table_on_a_terminal_fits_its_width():
    stream = io.StringIO()
    print_rows(COLUMNS, ROWS, Console(file=stream, width=80, force_terminal=True, color_system=None))
    lines = stream.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= 80 and not any(LONG_NAME in line for line in lines)


def test_csv_and_tsv_give_a_header_and_whole_values_that_read_back():
    for output_format, delimiter in (("csv", ","), ("tsv", "\t")):
        stream = io.StringIO()
        write_rows(COLUMNS, ROWS, output_format, stream)
        read = list(csv.reader(io.StringIO(stream.getvalue()), delimiter=delimiter))
        assert read[0] == COLUMNS
        assert read[1] == [LONG_NAME, '["Jeff", "Sessions"]', "3"]
        assert read[2] == ['Ann "Al" Lee, Jr.', "", "1"] and read[3][0] == "line\nbreak | pipe"


def test_json_gives_one_object_per_line_with_nulls_and_lists():
    stream = io.StringIO()
    write_rows(COLUMNS, ROWS, "json", stream)
    objects = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert objects[0] == {"speaker": LONG_NAME, "aliases": ["Jeff", "Sessions"], "n": 3}
    assert objects[1]["aliases"] is None and len(objects) == 3


def test_markdown_escapes_pipes_and_keeps_each_row_on_one_line():
    stream = io.StringIO()
    write_rows(COLUMNS, ROWS, "markdown", stream)
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["| speaker | aliases | n |", "|---|---|---|"]
    assert lines[4] == "| line<br>break \\| pipe | [] | 0 |" and len(lines) == 5


@pytest.fixture
def warehouse(tmp_path) -> Path:
    with duckdb.connect(str(tmp_path / "quotewire.duckdb")) as connection:
        connection.execute("create table speakers as select ? as name, 7 as n_quotes", [LONG_NAME])
    return tmp_path


@pytest.mark.parametrize("output_format, expected", [
    ("table", LONG_NAME),
    ("csv", f"name,n_quotes\n{LONG_NAME},7\n"),
    ("tsv", f"name\tn_quotes\n{LONG_NAME}\t7\n"),
    ("json", json.dumps({"name": LONG_NAME, "n_quotes": 7}) + "\n"),
    ("markdown", f"| name | n_quotes |\n|---|---|\n| {LONG_NAME} | 7 |\n"),
])
def test_sql_prints_the_chosen_format_into_a_pipe(warehouse, output_format, expected):
    done = subprocess.run([str(BIN / "quotewire"), "sql", "select * from speakers", "--warehouse", str(warehouse),
                           "--format", output_format], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    if output_format == "table":
        assert sum(LONG_NAME in line for line in done.stdout.splitlines()) == 1
    else:
        assert done.stdout == expected
