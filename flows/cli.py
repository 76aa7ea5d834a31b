"""quotewire: news articles -> who is quoted, saying what, about whom.

Heavy imports (Prefect, spaCy) happen inside the commands that need them, so
`quotewire sql` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from quotewire.settings import Settings

EXIT_FAILURE = 1
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the warehouse; try again later
# What an interrupted run says after "quotewire: interrupted; ". The snapshot swap is atomic:
# the run published its snapshot or it did not; if it did, the database was built from it
# or the next run builds it (models_are_current sees a database older than the snapshot).
WAREHOUSE_UNCHANGED = "the published warehouse is unchanged"
WAREHOUSE_PUBLISHED = "this run's snapshot is published; the next run builds the database from it"
WAREHOUSE_BUILT = "this run's snapshot and database are published"


class UserError(Exception):
    """A failure the user can fix; printed as one line, no traceback."""


def _add_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, default=None, help="warehouse folder (default: warehouse/)")


def _add_raw(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, default=None, help="raw landing folder (default: raw/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quotewire", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the pipeline: raw/ -> Parquet -> DuckDB models and marts")
    _add_raw(run)
    _add_warehouse(run)
    run.add_argument("--workers", type=int, default=None, help="worker processes (default: every core)")
    run.add_argument("--runner", choices=("process", "dask"), default="process",
                     help="process: a local process pool (default); dask: a Dask cluster (--dask-address) "
                          "or a local one of --workers processes")
    run.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT",
                     help="scheduler of an existing Dask cluster; its workers must see --raw and --warehouse "
                          "at the same paths")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    serve = commands.add_parser("serve", help="serve the pipeline on a schedule (needs a Prefect server)")
    _add_raw(serve)
    _add_warehouse(serve)
    serve.add_argument("--cron", default="0 * * * *", help='cron schedule (default: "0 * * * *", hourly)')
    serve.add_argument("--name", default="quotewire-scheduled", help="deployment name")

    sql = commands.add_parser("sql", help="query warehouse/quotewire.duckdb read-only and print the result")
    sql.add_argument("query", help='e.g. "select * from quotes_per_speaker"')
    _add_warehouse(sql)
    sql.add_argument("--json", action="store_true", help="print JSON lines instead of a table")

    evaluate = commands.add_parser("eval", help="score quote extraction against gold files (gold/FORMAT.md)")
    evaluate.add_argument("gold", nargs="+", type=Path, help="*.gold.json / *.gold.jsonl files")
    evaluate.add_argument("--errors", type=Path, default=None, help="write every miss and wrong speaker here (JSONL)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")

    check = commands.add_parser("check", help="verify a warehouse against its raw dir; non-zero exit naming each problem")
    _add_raw(check)
    _add_warehouse(check)

    bench = commands.add_parser("bench", help="pipeline throughput against the spaCy NER floor on a corpus")
    bench.add_argument("--corpus", type=Path, required=True, action="append",
                       help="folder of articles (read recursively, sorted); repeat to chain corpora")
    bench.add_argument("--limit", type=int, default=None, help="first N articles only")
    bench.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    bench.add_argument("--runner", choices=("process", "dask"), default="process")
    bench.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT")
    bench.add_argument("--no-floor", action="store_true", help="skip the spaCy NER floor measurement")
    bench.add_argument("--repeat", type=int, default=1, metavar="N",
                       help="N first runs, each between two floors; the median ratio is reported (default 1)")
    bench.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: a temp dir)")

    bench_html = commands.add_parser("bench-html", help="HTML body extraction F1 on an article-extraction-benchmark folder")
    bench_html.add_argument("corpus", type=Path, help="folder with html/<id>.html.gz and ground-truth.json")
    bench_html.add_argument("--limit", type=int, default=None)

    docs = commands.add_parser("docs", help="print the data dictionary (Markdown) of every table and mart")
    docs.add_argument("--out", type=Path, default=None, help="write it to this file instead of printing")

    report = commands.add_parser("report", help="write a self-contained HTML report of the marts")
    _add_warehouse(report)
    report.add_argument("--out", type=Path, default=None, help="default: <warehouse>/report.html")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings().with_overrides(
        raw_dir=getattr(args, "raw", None), warehouse_dir=getattr(args, "warehouse", None),
        workers=getattr(args, "workers", None),
    )


def prefect_defaults() -> None:
    """Defaults for runs without a configured Prefect server, set before Prefect is imported.
    A temporary server needs longer than Prefect's 20 s to start on a busy 2-core machine,
    and it must not try to send telemetry from a machine without internet."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def command_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not settings.raw_dir.is_dir():
        raise UserError(f"raw folder {settings.raw_dir} does not exist")
    from quotewire import interrupts
    from quotewire.store import Warehouse

    warehouse = Warehouse(settings.warehouse_dir)
    published = warehouse.current_snapshot()

    def what_the_run_left() -> str:
        if warehouse.current_snapshot() == published:
            return WAREHOUSE_UNCHANGED
        from quotewire.flows import models_are_current  # imported by then: the flow published

        return WAREHOUSE_BUILT if models_are_current(settings) else WAREHOUSE_PUBLISHED

    interrupts.set_reporter(what_the_run_left)
    # Taken before Prefect starts, so a second run exits at once instead of after start-up;
    # the flows take the same lock again (it is re-entrant within a process).
    with warehouse.lock():
        prefect_defaults()
        if args.dask_address and args.runner != "dask":
            raise UserError("--dask-address needs --runner dask")
        from quotewire.runners import one_off_run

        # The workers load the model while Prefect's server starts.
        with one_off_run(args.runner, settings.workers, args.dask_address, settings.spacy_model) as runner:
            from quotewire.flows import pipeline

            result = pipeline.with_options(task_runner=runner)(
                raw_dir=str(settings.raw_dir), warehouse_dir=str(settings.warehouse_dir),
                show_progress=not args.quiet)
    if not args.quiet:
        from quotewire.summary import print_summary

        print_summary(result, settings.database_path)
    return 0


def command_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    prefect_defaults()
    from quotewire.flows import pipeline

    pipeline.serve(
        name=args.name, cron=args.cron,
        parameters={"raw_dir": str(settings.raw_dir.resolve()), "warehouse_dir": str(settings.warehouse_dir.resolve())},
    )
    return 0


def command_sql(args: argparse.Namespace) -> int:
    from quotewire.models import query
    from quotewire.summary import print_rows

    database = _settings(args).database_path
    if not database.exists():
        raise UserError(f"{database} does not exist yet: run `quotewire run` first")
    columns, rows = query(database, args.query)
    if args.json:
        for row in rows:
            print(json.dumps(dict(zip(columns, row)), default=str))
    else:
        print_rows(columns, rows)
    return 0


def command_eval(args: argparse.Namespace) -> int:
    from quotewire.analyse import quotes_in_text
    from quotewire.entities import load_nlp
    from quotewire.evaluate import evaluate, format_report

    for path in args.gold:
        if not path.is_file():
            raise UserError(f"gold file {path} does not exist")
    nlp = load_nlp(Settings().spacy_model)
    report = evaluate(args.gold, lambda text: quotes_in_text(nlp, text), errors_path=args.errors)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def _delegate(module: str, function: str):
    """Commands whose code lives in their own stage module, imported only when used."""
    def command(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(f"quotewire.{module}"), function)(args)
    return command


COMMANDS = {
    "run": command_run, "serve": command_serve, "sql": command_sql, "eval": command_eval,
    "check": _delegate("check", "command_check"),
    "bench": _delegate("bench", "command_bench"),
    "bench-html": _delegate("bench_html", "command_bench_html"),
    "docs": _delegate("docs", "command_docs"),
    "report": _delegate("html_report", "command_report"),
}


def main(argv: list[str] | None = None) -> int:
    """The ``quotewire`` command. Run as the command (``argv`` None), an interrupted one
    exits as soon as its line is printed (interrupts.exit_now)."""
    args = build_parser().parse_args(argv)
    from quotewire import interrupts

    with interrupts.signals_raise_interrupted():  # before the heavy imports: start-up included
        try:
            return _run_command(args)
        except BaseException as error:
            if not (interrupts.interrupted() or isinstance(error, KeyboardInterrupt)):
                raise  # SystemExit and the like
            # An interrupt, or what it caused on its way out (Prefect's TerminationSignal, a
            # batch whose worker was ended)
            code = interrupts.report_once(error)
            if argv is None:
                interrupts.exit_now(code)
            return code
        finally:
            interrupts.set_reporter(None)


def _run_command(args: argparse.Namespace) -> int:
    from quotewire import interrupts
    from quotewire.store import WarehouseBusy

    try:
        return COMMANDS[args.command](args)
    except WarehouseBusy as busy:
        print(f"quotewire: {busy}", file=sys.stderr)
        return EXIT_BUSY
    except UserError as error:
        print(f"quotewire: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # one clear line; the full trace is in Prefect's logs
        if interrupts.interrupted():
            raise  # a consequence of the interrupt, which main reports
        print(f"quotewire {args.command} failed: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
