"""Builds the DuckDB database of SQL models (staging views, mart tables) and runs the data tests.

Layout of ``sql_dir`` (dbt-style):

    staging/stg_<table>.sql   views over the Parquet files   (``{{ parquet_dir }}`` is substituted)
    intermediate/<name>.sql   tables the marts and views share (not exported)
    marts/<name>.sql          tables for analysts and dashboards (also exported as Parquet)
    tables/<table>.sql        views named as the tables (``quotes``, ``articles``, ...) for analysts
    tests/<name>.sql          data tests: each query returns the rows that break a rule

Models refer to each other with ``{{ ref('model_name') }}``; the build order is derived from
those references, so adding a model never means editing a list.

Every model file opens with a comment block: the description, a blank ``--`` line, then one
``-- column_name: description`` line per output column (a line starting with ``--`` and two or
more spaces continues the previous column). ``model_docs`` parses it for the data dictionary.

Publishing is atomic: the database is built and tested in a temp file next to the target and
only then ``os.replace``d over it, so an analyst with the old file open keeps a consistent view
and a failing data test never reaches them.
"""

from __future__ import annotations

import graphlib
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path


# Folder -> how its models are materialised.
MATERIALIZATIONS: dict[str, str] = {"staging": "view", "intermediate": "table", "marts": "table", "tables": "view"}
EXPORTED_FOLDER = "marts"  # only marts are also written as Parquet; intermediate tables serve the models
TESTS_FOLDER = "tests"
FAILING_ROWS_SHOWN = 5
VALUE_CHARS_SHOWN = 80  # failing rows may carry whole article texts

_REF = re.compile(r"\{\{\s*ref\(\s*['\"]([^'\"]+)['\"]\s*\)\s*\}\}")
_PARQUET_DIR = re.compile(r"\{\{\s*parquet_dir\s*\}\}")
_ANY_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_COLUMN_LINE = re.compile(r"^--\s?([A-Za-z_][A-Za-z0-9_]*):\s+(.*)$")
_CONTINUATION_LINE = re.compile(r"^--\s{2,}(\S.*)$")


class ModelError(Exception):
    """A model (or data test) that cannot be built: unknown ref, cycle, SQL error, bad header."""


class DataTestFailure(Exception):
    """One or more data tests returned rows; the published database was left untouched."""

    def __init__(self, failures: list["DataTestResult"]):
        self.failures = failures
        super().__init__("\n\n".join(failure.describe() for failure in failures))

    def __reduce__(self):
        # Prefect pickles exceptions between processes; the default would pass the message string.
        return (type(self), (self.failures,))


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    materialization: str  # "view" | "table"
    sql: str  # as written, with {{ ... }} templates

    @property
    def folder(self) -> str:
        """The folder under sql/ it sits in (staging, intermediate, marts, tables)."""
        return self.path.parent.name

    @property
    def refs(self) -> set[str]:
        return set(_REF.findall(self.sql))


@dataclass(frozen=True)
class ModelDoc:
    description: str
    columns: dict[str, str]


@dataclass(frozen=True)
class DataTestResult:
    name: str
    n_failing: int
    columns: list[str] = field(default_factory=list)
    sample: list[tuple] = field(default_factory=list)  # up to FAILING_ROWS_SHOWN failing rows

    @property
    def passed(self) -> bool:
        return self.n_failing == 0

    def describe(self) -> str:
        lines = [f"data test {self.name!r} failed: {self.n_failing} failing row(s)", "  " + " | ".join(self.columns)]
        lines += ["  " + " | ".join(_short_repr(value) for value in row) for row in self.sample]
        if self.n_failing > len(self.sample):
            lines.append(f"  ... and {self.n_failing - len(self.sample)} more")
        return "\n".join(lines)


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= VALUE_CHARS_SHOWN else text[: VALUE_CHARS_SHOWN - 1] + "…"


@dataclass(frozen=True)
class BuildResult:
    models: list[str]  # in build order
    row_counts: dict[str, int]  # mart -> rows
    data_tests: dict[str, int]  # test -> failing rows (all 0 after a successful build)
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)  # model / data test / "export" -> seconds

    def as_dict(self) -> dict:
        """Plain JSON-able form, for Prefect results and run reports."""
        return asdict(self)


# --- discovering and rendering models ------------------------------------------------------


def discover_models(sql_dir: Path) -> dict[str, Model]:
    """Every model under the materialisation folders of ``sql_dir``, by name (the file stem)."""
    models: dict[str, Model] = {}
    for folder, materialization in MATERIALIZATIONS.items():
        for path in sorted((sql_dir / folder).rglob("*.sql")):
            name = path.stem
            if name in models:
                raise ModelError(f"model {name!r} is defined twice: {models[name].path} and {path}")
            models[name] = Model(name, path, materialization, path.read_text(encoding="utf-8"))
    return models


def discover_data_tests(sql_dir: Path) -> dict[str, str]:
    """Data test name -> SQL (with templates), in name order."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted((sql_dir / TESTS_FOLDER).glob("*.sql"))}


def run_order(models: dict[str, Model]) -> list[str]:
    """Model names so that every model comes after the models it refs (ties in name order)."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in sorted(models):
        refs = models[name].refs
        _check_refs_exist(name, refs, models)
        sorter.add(name, *sorted(refs))
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle = error.args[1]
        raise ModelError(f"models refer to each other in a cycle: {' -> '.join(cycle)}") from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order += ready
        sorter.done(*ready)
    return order


def _check_refs_exist(referrer: str, refs: set[str], models: dict[str, Model]) -> None:
    unknown = sorted(refs - models.keys())
    if unknown:
        raise ModelError(f"{referrer!r} refers to unknown model(s): {', '.join(unknown)}")


def sql_string_literal_body(value: str) -> str:
    """``value`` escaped for use between single quotes in SQL."""
    return value.replace("'", "''")


def render(sql: str, parquet_dir: Path, referrer: str = "<sql>") -> str:
    """Replaces ``{{ ref('x') }}`` by the quoted name x and ``{{ parquet_dir }}`` by the absolute path.

    The path is made absolute but symlinks are deliberately *not* resolved: the publisher swaps
    the ``parquet_dir`` symlink to publish a snapshot, and views must follow the link.
    """
    absolute = sql_string_literal_body(str(Path(os.path.abspath(parquet_dir))))
    rendered = _REF.sub(lambda match: '"' + match.group(1).replace('"', '""') + '"', sql)
    rendered = _PARQUET_DIR.sub(lambda _: absolute, rendered)
    leftover = _ANY_TEMPLATE.search(rendered)
    if leftover:
        raise ModelError(f"{referrer}: unknown template {leftover.group(0)!r} (only ref() and parquet_dir exist)")
    # The runner wraps the query (create view ... as <query>); a closing semicolon would end it early.
    return rendered.rstrip().rstrip(";")


# --- documentation --------------------------------------------------------------------------


def parse_header(sql: str, source: str = "<sql>") -> ModelDoc:
    """The leading comment block of a model: description, blank ``--`` line, column lines."""
    header = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        header.append(line.rstrip())
    description_lines: list[str] = []
    columns: dict[str, str] = {}
    in_columns = False
    last_column: str | None = None
    for line in header:
        if line.strip() == "--":
            in_columns = bool(description_lines)
            continue
        if not in_columns:
            description_lines.append(line[2:].strip())
            continue
        if (continuation := _CONTINUATION_LINE.match(line)) and last_column:
            columns[last_column] += " " + continuation.group(1).strip()
        elif column := _COLUMN_LINE.match(line):
            last_column = column.group(1)
            if last_column in columns:
                raise ModelError(f"{source}: column {last_column!r} is documented twice")
            columns[last_column] = column.group(2).strip()
        else:
            raise ModelError(f"{source}: expected '-- column_name: description', got {line!r}")
    return ModelDoc(" ".join(description_lines), columns)


def model_docs(sql_dir: Path) -> dict[str, ModelDoc]:
    """Model name -> its documented description and columns, in build order."""
    models = discover_models(sql_dir)
    return {name: parse_header(models[name].sql, str(models[name].path)) for name in run_order(models)}


# --- building -------------------------------------------------------------------------------


def build_models(parquet_dir: Path, database_path: Path, marts_dir: Path, sql_dir: Path) -> BuildResult:
    """Builds every model into a fresh database, runs the data tests, then publishes atomically.

    Raises ``DataTestFailure`` (database and marts untouched) when any data test returns rows,
    ``ModelError`` when a model cannot be built.
    """
    started = time.perf_counter()
    # Views point at the snapshot itself, not through the `parquet` symlink: a query that
    # lists files before a publish swaps the link and opens them after would otherwise
    # find them gone, and the views always agree with the marts built beside them.
    # (store.SNAPSHOTS_KEPT keeps the snapshot of the published database on disk.)
    parquet_dir = parquet_dir.resolve()
    models = discover_models(sql_dir)
    order = run_order(models)
    tests = discover_data_tests(sql_dir)
    marts = [name for name in order if models[name].folder == EXPORTED_FOLDER]

    database_path.parent.mkdir(parents=True, exist_ok=True)
    marts_dir.mkdir(parents=True, exist_ok=True)
    temp_database = _temp_path(database_path)
    temp_marts = {name: _temp_path(marts_dir / f"{name}.parquet") for name in marts}
    _remove_database_files(temp_database)  # left over by a crashed build of a recycled pid
    step_seconds: dict[str, float] = {}
    try:
        import duckdb  # here, not at the top: worker processes import this module but never use duckdb (~25 MB each)

        with duckdb.connect(str(temp_database)) as connection:
            for name in order:
                with _timed(step_seconds, name):
                    _build_model(connection, models[name], parquet_dir)
            test_results = []
            for name, sql in tests.items():
                with _timed(step_seconds, f"test:{name}"):
                    test_results.append(_run_data_test(connection, name, sql, models, parquet_dir))
            failures = [result for result in test_results if not result.passed]
            if failures:
                raise DataTestFailure(failures)
            row_counts = {name: _row_count(connection, name) for name in marts}
            with _timed(step_seconds, "export"):
                for name in marts:
                    _export_parquet(connection, name, temp_marts[name])
            connection.execute("checkpoint")
        # Only now, with the connection closed and everything checked, does anyone see it.
        os.replace(temp_database, database_path)
        for name in marts:
            os.replace(temp_marts[name], marts_dir / f"{name}.parquet")
    finally:
        _remove_database_files(temp_database)
        for path in temp_marts.values():
            path.unlink(missing_ok=True)
    return BuildResult(
        models=order,
        row_counts=row_counts,
        data_tests={result.name: result.n_failing for result in test_results},
        seconds=time.perf_counter() - started,
        step_seconds=step_seconds,
    )


def run_staging_tests(parquet_dir: Path, sql_dir: Path) -> list[DataTestResult]:
    """The staging views over ``parquet_dir`` in an in-memory database, and every data test
    that needs nothing else (``quotewire check``: no marts built, the published file untouched)."""
    import duckdb

    models = discover_models(sql_dir)
    staging = {name: model for name, model in models.items() if model.path.parent.name == "staging"}
    tests = {name: sql for name, sql in discover_data_tests(sql_dir).items() if set(_REF.findall(sql)) <= staging.keys()}
    with duckdb.connect(":memory:") as connection:
        for name in run_order(staging):
            _build_model(connection, staging[name], parquet_dir)
        return [_run_data_test(connection, name, sql, staging, parquet_dir) for name, sql in tests.items()]


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = time.perf_counter() - started


def _temp_path(target: Path) -> Path:
    # Same directory as the target, so os.replace is a rename on one filesystem (atomic).
    return target.with_name(f".{target.name}.tmp-{os.getpid()}")


def _remove_database_files(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _build_model(connection: duckdb.DuckDBPyConnection, model: Model, parquet_dir: Path) -> None:
    import duckdb

    body = render(model.sql, parquet_dir, str(model.path))
    try:
        connection.execute(f'create {model.materialization} "{model.name}" as\n{body}')
    except duckdb.Error as error:
        raise ModelError(f"model {model.name!r} ({model.path}) failed to build: {error}") from error


def _run_data_test(
    connection: duckdb.DuckDBPyConnection, name: str, sql: str, models: dict[str, Model], parquet_dir: Path
) -> DataTestResult:
    import duckdb

    _check_refs_exist(f"data test {name}", set(_REF.findall(sql)), models)
    body = render(sql, parquet_dir, f"data test {name}")
    try:
        # Materialised once in a temp table (never saved in the file) so the sample and the
        # count come from one evaluation of what may be an expensive query.
        connection.execute(f"create or replace temp table data_test_failures as\n{body}")
        n_failing = connection.execute("select count(*) from data_test_failures").fetchone()[0]
        cursor = connection.execute(f"select * from data_test_failures limit {FAILING_ROWS_SHOWN}")
        columns = [column[0] for column in cursor.description]
        sample = cursor.fetchall()
        connection.execute("drop table data_test_failures")
    except duckdb.Error as error:
        raise ModelError(f"data test {name!r} could not run: {error}") from error
    return DataTestResult(name, n_failing, columns, sample)


def _row_count(connection: duckdb.DuckDBPyConnection, name: str) -> int:
    return connection.execute(f'select count(*) from "{name}"').fetchone()[0]


def _export_parquet(connection: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    target = sql_string_literal_body(str(path))
    connection.execute(f"copy \"{name}\" to '{target}' (format parquet, compression zstd)")


# --- querying -------------------------------------------------------------------------------


class EmptyQuery(ValueError):
    """A query without a single SQL statement."""


def query(database_path: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Runs ``sql`` against the published database, read-only: (column names, rows)."""
    [result] = queries(database_path, [sql])
    return result


def queries(database_path: Path, sqls: list[str]) -> list[tuple[list[str], list[tuple]]]:
    """(column names, rows) of each query, all from one read-only connection: one snapshot
    of the database, and one attach (about 40 ms) instead of one per query."""
    if not database_path.exists():
        raise FileNotFoundError(f"no database at {database_path}: build the models first")
    # ATTACH from a fresh in-memory database rather than duckdb.connect(path): connect() reuses
    # an instance already open on that path in this process, which after a rebuild is the
    # *old*, replaced file, so it would silently answer from stale data.
    import duckdb

    results = []
    with duckdb.connect(":memory:") as connection:
        connection.execute(f"attach '{sql_string_literal_body(str(database_path))}' as quotewire (read_only)")
        connection.execute("use quotewire")
        for sql in sqls:
            cursor = connection.execute(sql)
            if cursor is None:  # DuckDB's answer to a query of only blanks and comments
                raise EmptyQuery("the SQL query holds no statement")
            results.append(([], []) if cursor.description is None
                           else ([column[0] for column in cursor.description], cursor.fetchall()))
    return results
