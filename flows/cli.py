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


def _share(value: str) -> float:
    from quotewire.publish.guard import parse_share

    try:
        return parse_share(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_deletion_guard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-delete-share", type=_share, default=None, metavar="SHARE",
                        help="refuse a run that would remove more than this share of the published articles, "
                             "e.g. 0.2 or 20%% (default: QUOTEWIRE_MAX_DELETE_SHARE, else 0.2)")


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
    _add_deletion_guard(run)
    run.add_argument("--allow-deletions", action="store_true",
                     help="publish even if the run removes all articles or more than --max-delete-share of them")

    serve = commands.add_parser("serve", help="serve the pipeline on a schedule (needs a Prefect server)")
    _add_raw(serve)
    _add_warehouse(serve)
    serve.add_argument("--cron", default="0 * * * *", help='cron schedule (default: "0 * * * *", hourly)')
    serve.add_argument("--name", default="quotewire-scheduled", help="deployment name")
    _add_deletion_guard(serve)

    sql = commands.add_parser("sql", help="query warehouse/quotewire.duckdb read-only and print the result")
    sql.add_argument("query", help='e.g. "select * from quotes_per_speaker"')
    _add_warehouse(sql)
    from quotewire.reports.console import FORMATS

    sql.add_argument("--format", dest="output_format", choices=FORMATS, default="table",
                     help="table (default; on a pipe or file every value whole, one row per line), csv, tsv,"
                          " json (JSON Lines) or markdown")
    sql.add_argument("--json", action="store_const", dest="output_format", const="json", help="the same as --format json")

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


def prefect_defaults() -> None:
    """Defaults for runs without a configured Prefect server, set before Prefect is imported.
    A temporary server needs longer than Prefect's 20 s to start on a busy 2-core machine,
    and it must not try to send telemetry from a machine without internet."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def require_paths(raw_dir: Path | None = None, warehouse_dir: Path | None = None) -> None:
    """A raw dir that is a readable folder, a warehouse path that is a folder (or nothing yet)."""
    from quotewire.publish.guard import PathProblem, check_paths

    try:
        check_paths(raw_dir, warehouse_dir)
    except PathProblem as problem:
        raise UserError(str(problem)) from None


def require_warehouse(warehouse_dir: Path, built: bool) -> None:
    """For commands that read a warehouse: ``built`` says whether the folder holds what they read."""
    require_paths(warehouse_dir=warehouse_dir)
    if not built:
        raise UserError(f"no warehouse at {warehouse_dir}; run quotewire run first")


def command_run(args: argparse.Namespace) -> int:
    settings = Settings.from_args(args)
    require_paths(settings.raw_dir, settings.warehouse_dir)
    from quotewire.runtime import interrupts
    from quotewire.publish.store import Warehouse, WarehouseBusy

    warehouse = Warehouse(settings.warehouse_dir)
    published = warehouse.current_snapshot()

    def what_the_run_left() -> str:
        if warehouse.current_snapshot() == published:
            return WAREHOUSE_UNCHANGED
        from quotewire.flows import models_are_current  # imported by then: the flow published

        return WAREHOUSE_BUILT if models_are_current(settings) else WAREHOUSE_PUBLISHED

    interrupts.set_reporter(what_the_run_left)
    # Checked before Prefect starts, so a second run exits at once instead of after start-up;
    # the flow run takes the lock itself and holds it to its end.
    warehouse.check_free()
    prefect_defaults()
    if args.dask_address and args.runner != "dask":
        raise UserError("--dask-address needs --runner dask")
    from quotewire.runtime.runners import one_off_run

    # The workers load the model while Prefect's server starts.
    with one_off_run(args.runner, settings.workers, args.dask_address, settings.spacy_model) as runner:
        from quotewire.flows import REFUSED, SKIPPED, pipeline

        state = pipeline.with_options(task_runner=runner)(
            raw_dir=str(settings.raw_dir), warehouse_dir=str(settings.warehouse_dir),
            show_progress=not args.quiet, allow_deletions=settings.allow_deletions,
            max_delete_share=settings.max_delete_share, spacy_model=settings.spacy_model,
            batch_size=settings.batch_size, workers=settings.workers, return_state=True)
        if state.name == SKIPPED:  # another run took the lock while Prefect started
            raise WarehouseBusy(state.message.removeprefix(f"{SKIPPED.lower()}: "))
        if state.name == REFUSED:  # the guard's one line; the published warehouse is as it was
            raise UserError(state.message)
        result = state.result()
    if not args.quiet:
        from quotewire.reports.console import print_summary

        print_summary(result, settings.database_path)
    return 0


def valid_cron(cron: str) -> str:
    """The cron expression as Prefect's schedule checks it; one line saying why when it is not valid."""
    import pydantic
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron)
    except pydantic.ValidationError as error:
        reasons = "; ".join(str(e.get("ctx", {}).get("error") or e["msg"]) for e in error.errors())
        raise UserError(f"--cron {cron!r} is not a valid cron expression ({reasons})") from None
    return cron


def require_prefect_server() -> str:
    """The URL of the Prefect API ``serve`` registers with, once it answers. Without one,
    Prefect would start a temporary server that cannot schedule runs and poll it for ever."""
    from quotewire.runtime.temporary_server import configured_api_url

    url = configured_api_url()
    if not url:
        raise UserError("serve needs a Prefect server that outlives it: start one (prefect server start) "
                        "and set PREFECT_API_URL, e.g. http://127.0.0.1:4200/api")
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        reason = (str(failure).strip().splitlines() or [type(failure).__name__])[0]
        raise UserError(f"no Prefect server answers at {url} ({reason}); start one with prefect server start")
    return url


def command_serve(args: argparse.Namespace) -> int:
    settings = Settings.from_args(args)
    require_paths(warehouse_dir=settings.warehouse_dir)
    prefect_defaults()
    valid_cron(args.cron)
    require_prefect_server()
    from quotewire.flows import pipeline

    parameters = {"raw_dir": str(settings.raw_dir.resolve()), "warehouse_dir": str(settings.warehouse_dir.resolve())}
    if args.max_delete_share is not None:
        parameters["max_delete_share"] = args.max_delete_share
    pipeline.serve(name=args.name, cron=args.cron, parameters=parameters)
    return 0


def _pipe_console():
    """A rich Console that leaves a closed pipe to the caller (rich's own exits with 1)."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return PipeConsole()


def command_sql(args: argparse.Namespace) -> int:
    from quotewire.models.build import EmptyQuery, query
    from quotewire.reports.console import print_rows, write_rows

    settings = Settings.from_args(args)
    require_warehouse(settings.warehouse_dir, settings.database_path.is_file())
    try:
        columns, rows = query(settings.database_path, args.query)
    except EmptyQuery:
        raise UserError('the SQL query is empty; give one, e.g. quotewire sql "select * from quotes_per_speaker"') from None
    try:
        if args.output_format == "table":
            print_rows(columns, rows, _pipe_console())
        else:
            write_rows(columns, rows, args.output_format, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (head, less) has all it wants: not an error
        # Python flushes stdout again at exit; pointing it at devnull keeps that quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def command_eval(args: argparse.Namespace) -> int:
    from quotewire.analyse.article import quotes_in_text
    from quotewire.analyse.entities import load_nlp
    from quotewire.measure.evaluate import evaluate, format_report
    from quotewire.runtime import process

    for path in args.gold:
        if not path.is_file():
            raise UserError(f"gold file {path} does not exist")
    process.prepare_worker(process.IN_PROCESS)  # as a run's batches are analysed
    nlp = load_nlp(Settings.from_args(args).spacy_model)
    report = evaluate(args.gold, lambda text: quotes_in_text(nlp, text), errors_path=args.errors)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


# Commands whose code lives in their own stage module, imported only when used.
def command_check(args: argparse.Namespace) -> int:
    from quotewire.models.check import command_check as check

    return check(args)


def command_bench(args: argparse.Namespace) -> int:
    from quotewire.measure.bench import command_bench as bench

    return bench(args)


def command_bench_html(args: argparse.Namespace) -> int:
    from quotewire.measure.bench_html import command_bench_html as bench_html

    return bench_html(args)


def command_docs(args: argparse.Namespace) -> int:
    from quotewire.reports.dictionary import command_docs as docs

    return docs(args)


def command_report(args: argparse.Namespace) -> int:
    from quotewire.reports.html_report import command_report as report

    return report(args)


COMMANDS = {
    "run": command_run, "serve": command_serve, "sql": command_sql, "eval": command_eval,
    "check": command_check, "bench": command_bench, "bench-html": command_bench_html,
    "docs": command_docs, "report": command_report,
}


def main(argv: list[str] | None = None) -> int:
    """The ``quotewire`` command. Run as the command (``argv`` None), an interrupted one
    exits as soon as its line is printed (interrupts.exit_now)."""
    args = build_parser().parse_args(argv)
    from quotewire.runtime import interrupts

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
    from quotewire.runtime import interrupts
    from quotewire.publish.store import WarehouseBusy

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
