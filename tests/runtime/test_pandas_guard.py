"""pandas stays out of a process that asked for it (each in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
{setup}
import pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({{"a": [1, 2]}}), sys.argv[1])
assert pq.read_table(sys.argv[1]).num_rows == 2
print("pandas" in sys.modules)
try:
    import pandas
except ModuleNotFoundError as error:
    print(error)
"""


def run(setup: str, tmp_path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(setup=setup), str(tmp_path / "t.parquet")],
                          capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_pyarrow_works_without_pandas_and_an_import_says_why(tmp_path):
    lines = run("from quotewire.runtime.pandas_guard import keep_pandas_out; keep_pandas_out()", tmp_path)
    assert lines[0] == "False"
    assert "kept out of quotewire's run processes" in lines[1]


def test_without_the_guard_pyarrow_imports_pandas(tmp_path):
    # what the guard saves: if pyarrow stops importing pandas, the guard can go
    assert run("", tmp_path) == ["True"]


def test_a_process_that_already_uses_pandas_keeps_it(tmp_path):
    lines = run("import pandas\nfrom quotewire.runtime.pandas_guard import keep_pandas_out; keep_pandas_out()", tmp_path)
    assert lines == ["True"]
