"""`quotewire bench`: the real pipeline flow against the spaCy NER floor, on a corpus.

    quotewire bench --corpus DIR [--corpus DIR2 ...] [--limit N] [--workers K] [--repeat R]

Steps, all in one invocation and on the same articles:

1. The first N article files of the corpora (sorted paths, recursive; README files skipped)
   are hard-linked (copied across filesystems) into a temporary raw dir, under
   ``raw/<corpus name>/...``; the warehouse is temporary too.
2. The NER floor, a first time: the non-blank paragraphs the run will analyse (its plan,
   each article read and parsed, as ``recognise`` gets them) through the same model from
   ``load_nlp`` alone, in a fresh process that loads the model and forks K children; they
   take pieces of the paragraphs as they finish the last, run ``nlp.pipe`` over each and
   return only a count. Nothing comes back but counts, so this is the strictest floor
   (spaCy's own ``n_process`` ships every Doc back to the parent and is slower). The model
   load is not timed.
3. Prefect start-up: as ``quotewire run`` (``runners.one_off_run``), a temporary Prefect
   server is started unless PREFECT_API_URL names one, the local worker processes start
   meanwhile (imports, model load), and once the server answers a no-op flow runs. Timed on
   its own: it is fixed cost, not throughput. ``workers_ready_s`` says when the workers
   were ready; what exceeds Prefect's start-up counts in run 1.
4. Run 1: the ``pipeline`` flow with K workers, timed by stage (plan, analysis batches and,
   summed over the workers, the stages inside them, finish/publish, models), with the peak
   memory of the whole process tree and the CPU time of each kind of process in it, sampled
   from /proc (this process, the Prefect server, every worker). A worker runs NER once per
   distinct paragraph text it meets (``entities.entity_spans``) where the floor runs every
   paragraph: how many pieces were repeats is printed and in the JSON (``ner_pieces_reused``).
5. Run 2: the same flow over the unchanged raw dir (must parse nothing).
6. The NER floor again, over the paragraphs run 1 published (the same ones: checked). The
   ratio compares run 1 with the mean of the two floors, since this machine's speed drifts
   by several per cent within minutes.

With ``--repeat R``, steps 3-4 and 6 happen R times (Prefect and the workers started afresh
each time, each run 1 into a warehouse of its own): floor, run, floor, run, ... floor, each
run compared with the floors either side of it. The report is that of the repetition with
the median ratio (the lower middle one of an even count), with the highest peak memory of
all; run 2 follows the last run 1. ``median_of`` lists every repetition's figures.

``pipeline_articles_per_s`` excludes Prefect start-up (the fair comparison);
``pipeline_articles_per_s_with_startup`` includes it. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from quotewire.analyse.article import NER_BATCH_SIZE  # the floor batches paragraphs as the pipeline does
from quotewire.read.discover import article_format, is_hidden

SAMPLE_SECONDS = 0.2
FULL_SAMPLE_EVERY = 5  # samples: which processes, and their CPU (see TreeMemory.sample)
PSS_EVERY = 50  # samples: reading PSS costs ~5 ms of CPU per 300 MB process (see _pss_kb)
# Pieces of the paragraphs per floor process, handed out as each finishes its last: with one
# share each, one process idled at the end, which made the floor slower than spaCy can go.
FLOOR_PIECES_PER_PROCESS = 32


# --- corpus -> temporary raw dir ----------------------------------------------------------------


def corpus_files(corpora: list[Path], limit: int | None) -> list[tuple[Path, str]]:
    """(file, path under the raw dir) of the first ``limit`` articles, corpus by corpus, each sorted."""
    chosen: list[tuple[Path, str]] = []
    for corpus in corpora:
        corpus = corpus.resolve()
        files = sorted(
            (p for p in corpus.rglob("*")
             if p.is_file() and article_format(p.name) is not None
             and not any(is_hidden(part) for part in p.relative_to(corpus).parts)
             and not p.name.upper().startswith("README")),
            key=lambda p: p.relative_to(corpus).as_posix(),
        )
        chosen += [(p, f"{corpus.name}/{p.relative_to(corpus).as_posix()}") for p in files]
        if limit is not None and len(chosen) >= limit:
            break
    return chosen[:limit] if limit is not None else chosen


def stage_raw(files: list[tuple[Path, str]], raw_dir: Path) -> None:
    """Hard links (no copy, no symlink: discovery rejects links leaving the raw root)."""
    for source, relative in files:
        target = raw_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)


# --- memory of the process tree -------------------------------------------------------------


def _read_proc(path: str) -> str:
    # open(), not pathlib: the sampler reads ~100 of these files a second, and its CPU is
    # taken from the run it measures (a tree walk: 2.7 ms with Path.glob, 2.0 with listdir)
    with open(path) as file:
        return file.read()


def _children(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:  # a child is listed under the thread that started it
            try:
                kids = _read_proc(f"/proc/{parent}/task/{task}/children").split()
            except OSError:
                continue
            for kid in map(int, kids):
                found.append(kid)
                frontier.append(kid)
    return found


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _rss_kb(pid: int) -> int:
    """Cheap (statm): sampled often."""
    try:
        return int(_read_proc(f"/proc/{pid}/statm").split()[1]) * PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


def _pss_kb(pid: int) -> int:
    """PSS splits shared pages among the processes sharing them. smaps_rollup makes the kernel
    walk every page table, which costs real CPU on a 2-core machine: sampled rarely."""
    try:
        for line in _read_proc(f"/proc/{pid}/smaps_rollup").splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    try:
        fields = _read_proc(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    except (OSError, ValueError, IndexError):
        return 0.0


def _role(pid: int, me: int) -> str:
    command = _command(pid)
    if pid == me:
        return "flow process"
    if "uvicorn" in command:
        return "prefect server"
    if "spawn_main" in command or "dask" in command:
        return "workers"
    return "other"


def _command(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return " ".join(a.decode(errors="replace").rsplit("/", 1)[-1] for a in args if a)[:60]
    except OSError:
        return "?"


class TreeMemory:
    """Samples RSS and PSS summed over this process and all its descendants, in a thread."""

    def __init__(self, interval: float = SAMPLE_SECONDS):
        self.interval = interval
        self.peak_rss_kb = self.peak_pss_kb = 0
        self.at_peak: list[tuple[int, str, int]] = []
        self.samples = 0
        self.own_cpu_seconds = 0.0  # this sampler's thread: counted apart from the flow process
        self._cpu_at_start: dict[int, float] | None = None
        self._cpu_last: dict[int, tuple[str, float]] = {}
        self._pids: list[int] = []
        self.timeline: list | None = [] if os.environ.get("QUOTEWIRE_BENCH_TIMELINE") else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self, full: bool = False) -> None:
        """RSS of every process of the tree; every FULL_SAMPLE_EVERY samples (and when
        ``full``) also which processes that is and their CPU times: walking the tree costs
        most of a sample, ~4 ms, and the sampler's CPU is taken from the run it measures."""
        me = os.getpid()
        full = full or self.samples % FULL_SAMPLE_EVERY == 0
        if full:
            self._pids = [me, *_children(me)]
        per_process = [(pid, _rss_kb(pid)) for pid in self._pids]
        if full:
            cpu = {pid: _cpu_seconds(pid) for pid in self._pids}
            if self._cpu_at_start is None:
                self._cpu_at_start = cpu
            for pid, seconds in cpu.items():
                role = self._cpu_last[pid][0] if pid in self._cpu_last else _role(pid, me)
                self._cpu_last[pid] = (role, seconds)
        rss = sum(r for _, r in per_process)
        if self.samples % PSS_EVERY == 0:
            self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(pid) for pid in self._pids))
        self.samples += 1
        if self.timeline is not None:
            self.timeline.append((round(time.perf_counter(), 2), rss // 1024, len(per_process)))
        if rss > self.peak_rss_kb:
            self.peak_rss_kb = rss
            self.at_peak = [(pid, _command(pid), r) for pid, r in per_process]

    def cpu_seconds_by_role(self) -> dict[str, float]:
        """CPU time each kind of process used while sampled (a process that exited between two
        full samples loses its last second at most)."""
        spent: dict[str, float] = {}
        for pid, (role, seconds) in self._cpu_last.items():
            spent[role] = spent.get(role, 0.0) + seconds - (self._cpu_at_start or {}).get(pid, 0.0)
        spent["flow process"] = spent.get("flow process", 0.0) - self.own_cpu_seconds
        spent["bench sampler"] = self.own_cpu_seconds
        return {role: round(seconds, 1) for role, seconds in sorted(spent.items())}

    def _run(self) -> None:
        started = time.thread_time()
        while not self._stop.wait(self.interval):
            self.sample()
        self.own_cpu_seconds = time.thread_time() - started

    def __enter__(self) -> "TreeMemory":
        self.sample(full=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample(full=True)


# --- the NER floor --------------------------------------------------------------------------

_FLOOR_NLP = None


def _floor_share(texts: list[str]) -> int:
    return sum(len(doc.ents) for doc in _FLOOR_NLP.pipe(texts, batch_size=NER_BATCH_SIZE))


def _split_by_chars(texts: list[str], parts: int) -> list[list[str]]:
    """Contiguous shares of about equal character count (NER time follows length)."""
    total = sum(map(len, texts)) or 1
    shares, current, done = [], [], 0
    for text in texts:
        current.append(text)
        done += len(text)
        if len(shares) < parts - 1 and done >= total * (len(shares) + 1) / parts:
            shares.append(current)
            current = []
    shares.append(current)
    return [s for s in shares if s]


def published_paragraphs(warehouse_dir: Path) -> list[str]:
    """Non-blank paragraph texts of the published snapshot, article by article, in order."""
    from quotewire.publish.store import Warehouse

    table = Warehouse(warehouse_dir).read_table("paragraphs", ["article_id", "position", "text"]).sort_by(
        [("article_id", "ascending"), ("position", "ascending")])
    return [t for t in table.column("text").to_pylist() if t.strip()]


def planned_paragraphs(raw_dir: Path, warehouse_dir: Path) -> list[str]:
    """The non-blank paragraphs a run over ``raw_dir`` will analyse, found before it as its
    workers will find them: its plan, each planned article read and parsed."""
    from quotewire.publish.ingest import _read_batch, plan_ingest  # the worker's own reading
    from quotewire.settings import Settings
    from quotewire.publish.store import Warehouse
    from quotewire.analyse.structure import parse_article

    settings = Settings.from_args(raw_dir=raw_dir, warehouse_dir=warehouse_dir)
    texts = []
    for batch in plan_ingest(settings, Warehouse(warehouse_dir)).batches:
        documents, _ = _read_batch(batch, settings.max_file_bytes)
        for document in documents:
            texts += [p.text for p in parse_article(document.text).paragraphs if p.text.strip()]
    return texts


def ner_floor(paragraphs: Callable[[], list[str]], model: str, workers: int) -> dict:
    """Seconds for the NER-only pipeline load_nlp gives (en_core_web_sm's ner carries its own
    tok2vec) over the texts ``paragraphs()`` returns, with ``workers`` processes (model load
    excluded). Measured in a fresh process, which also gathers the texts: this one never
    holds spaCy, its model or the corpus while it runs the flow."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as executor:
        return executor.submit(_measure_floor, paragraphs, model, workers).result()


def _measure_floor(paragraphs: Callable[[], list[str]], model: str, workers: int) -> dict:
    global _FLOOR_NLP
    texts = paragraphs()
    from quotewire.analyse.entities import load_nlp
    from quotewire.runtime import process

    # Tuned as the pipeline's workers are (allocator, Arrow, gc frozen after the model's load).
    process.prepare_worker(process.WORKER, lambda: list(load_nlp(model).pipe(["Warm-up sentence about London."])))
    _FLOOR_NLP = load_nlp(model)
    started, cpu_before = time.perf_counter(), _cpu_of_this_process_and_reaped_children()
    if workers <= 1:
        entities = _floor_share(texts)
    else:
        context = multiprocessing.get_context("fork")  # children inherit the loaded model
        with context.Pool(workers) as pool:
            pieces = _split_by_chars(texts, workers * FLOOR_PIECES_PER_PROCESS)
            entities = sum(pool.imap_unordered(_floor_share, pieces, chunksize=1))
    return {"seconds": time.perf_counter() - started, "paragraphs": len(texts), "entities": entities,
            "cpu_seconds": _cpu_of_this_process_and_reaped_children() - cpu_before}


def _cpu_of_this_process_and_reaped_children() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


# --- Prefect ------------------------------------------------------------------------------


def run_noop_flow() -> None:
    """A flow that does nothing: what is left of Prefect's start-up once its server answers."""
    from prefect import flow

    @flow(name="bench-startup")
    def startup() -> None:
        return None

    startup()


def run_pipeline(runner, raw_dir: Path, warehouse_dir: Path, workers: int) -> tuple[dict, float]:
    from quotewire.flows import pipeline

    flow = pipeline.with_options(task_runner=runner)
    started = time.perf_counter()
    # The run's workers setting, which sizes its batches, is that of the runner's pool.
    result = flow(raw_dir=str(raw_dir), warehouse_dir=str(warehouse_dir), workers=workers)
    return result, time.perf_counter() - started


# --- the command ------------------------------------------------------------------------------


def _stages(result: dict, total: float) -> dict[str, float]:
    """The run's wall time by stage, then (``batches_busy_summed``, ``batch_*``) the
    workers' time inside their batches, summed over workers: that is where NER is."""
    ingest, models = result["ingest"], result["models"]
    stages = {name: round(seconds, 3) for name, seconds in (ingest.get("stage_seconds") or {}).items()}
    inside_batches = {name: stages.pop(name) for name in list(stages) if name.startswith("batch_")}
    busy = stages.pop("batches_busy", None)
    stages["models"] = round(models.get("seconds", 0.0), 3) if models else 0.0
    stages["prefect_and_other"] = round(total - sum(stages.values()), 3)
    if busy is not None:
        stages["batches_busy_summed"] = busy
        stages.update(sorted(inside_batches.items(), key=lambda item: -item[1]))
    return stages


def median_repetition(ratios: list[float]) -> int:
    """Index of the median of the repetitions' ratios (the lower middle one of an even count)."""
    order = sorted(range(len(ratios)), key=lambda i: ratios[i])
    return order[(len(order) - 1) // 2]


def bench(corpora: list[Path], limit: int | None, workers: int, keep: Path | None = None,
          runner_kind: str = "process", dask_address: str | None = None, floor: bool = True,
          repeat: int = 1, out=sys.stdout) -> dict:
    def say(message: str) -> None:
        print(message, file=out, flush=True)

    files = corpus_files(corpora, limit)
    if not files:
        raise ValueError(f"no article files under {', '.join(map(str, corpora))}")
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="quotewire-bench-"))
    raw_dir = workdir / "raw"
    warehouse_dirs = [workdir / ("warehouse" if index == 0 else f"warehouse-{index + 1}") for index in range(repeat)]
    try:
        stage_raw(files, raw_dir)
        n = len(files)
        say(f"bench: {n} articles from {', '.join(map(str, corpora))}, {workers} workers, in {workdir}")
        load_before = os.getloadavg()[0]
        if floor:
            from quotewire.settings import Settings

            model = Settings.from_args().spacy_model
            floors = [ner_floor(partial(planned_paragraphs, raw_dir, warehouse_dirs[0]), model, workers)]
            say(f"NER floor before the pipeline ({workers} processes, {floors[0]['paragraphs']} paragraphs): "
                f"{floors[0]['seconds']:.1f} s")
        # Each repetition is a whole first run into a warehouse of its own, with Prefect and
        # the workers started afresh, and the floor measured again after it: floor, run,
        # floor, run, floor ... Each run is compared with the floors either side of it.
        repetitions = []
        for index, warehouse_dir in enumerate(warehouse_dirs):
            if repeat > 1:
                say(f"repetition {index + 1} of {repeat}")
            repetition = _run_once(raw_dir, warehouse_dir, n, workers, runner_kind, dask_address,
                                   second_run=index == repeat - 1, say=say)
            if floor:
                floors.append(ner_floor(partial(published_paragraphs, warehouse_dir), model, workers))
                before, after = floors[-2], floors[-1]
                if before["paragraphs"] != after["paragraphs"]:
                    raise RuntimeError(f"the run published {after['paragraphs']} paragraphs, its plan had "
                                       f"{before['paragraphs']}: the floors measured different work")
                # The machine's speed drifts by several per cent within minutes: the floor is
                # measured on either side of the run and their mean is the one compared.
                floor_seconds = (before["seconds"] + after["seconds"]) / 2
                repetition.update({
                    "floor_s": round(floor_seconds, 2),
                    "floor_before_s": round(before["seconds"], 2),
                    "floor_after_s": round(after["seconds"], 2),
                    "floor_articles_per_s": round(n / floor_seconds, 2),
                    "floor_paragraphs": after["paragraphs"],
                    "floor_cpu_s": round((before["cpu_seconds"] + after["cpu_seconds"]) / 2, 1),
                    "ratio": round(floor_seconds / repetition["pipeline_s"], 3),
                })
                say(f"NER floor (spaCy NER alone, {workers} processes, {after['paragraphs']} paragraphs): "
                    f"{before['seconds']:.1f} s before the run, {after['seconds']:.1f} s after, mean "
                    f"{floor_seconds:.1f} s = {repetition['floor_articles_per_s']:.1f} articles/s; "
                    f"pipeline / floor = {repetition['ratio']:.3f}")
            repetitions.append(repetition)

        # The repetition with the median ratio speaks for the run; memory is the worst seen.
        middle = median_repetition([r["ratio"] for r in repetitions]) if floor else 0
        report = {"corpora": [str(c) for c in corpora], "articles": n, "workers": workers,
                  "runner": runner_kind, "dask_address": dask_address, **repetitions[middle]}
        report["peak_rss_mb"] = max(r["peak_rss_mb"] for r in repetitions)
        report["peak_pss_mb"] = max(r["peak_pss_mb"] for r in repetitions)
        for key in ("second_run_s", "second_run_share_of_first", "second_run_articles_new"):
            report[key] = repetitions[-1][key]
        if repeat > 1:
            report["repetitions"] = repeat
            report["median_of"] = {key: [r.get(key) for r in repetitions]
                                   for key in ("ratio", "pipeline_s", "floor_before_s", "floor_after_s", "peak_rss_mb",
                                               "articles_new")}
            if floor:
                say(f"pipeline / floor by repetition: {report['median_of']['ratio']}; median {report['ratio']:.3f}; "
                    f"peak RSS at most {report['peak_rss_mb']:.0f} MB")
        report["load_average_before"] = round(load_before, 2)
        report["load_average_after"] = round(os.getloadavg()[0], 2)
        print(json.dumps(report), file=out, flush=True)
        return report
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _run_once(raw_dir: Path, warehouse_dir: Path, n: int, workers: int, runner_kind: str,
              dask_address: str | None, second_run: bool, say: Callable[[str], None]) -> dict:
    """Prefect start-up (untimed), a first run into an empty ``warehouse_dir`` (timed, its
    memory and CPU sampled) and, if asked, a second run over the unchanged raw dir."""
    from quotewire.runtime.runners import one_off_run

    # As `quotewire run`: the workers start (imports, model load) while Prefect starts.
    startup_began = time.perf_counter()
    with one_off_run(runner_kind, workers, dask_address) as runner:
        pool = getattr(runner, "pool", None)
        run_noop_flow()
        startup = time.perf_counter() - startup_began
        say(f"prefect start-up: {startup:.1f} s")

        with TreeMemory() as memory:
            first, first_seconds = run_pipeline(runner, raw_dir, warehouse_dir, workers)
        workers_ready = max(pool.wait_until_ready().values()) if pool is not None else None
        stages = _stages(first, first_seconds)
        if memory.timeline:
            print("memory timeline (s, MB, processes):", [(round(t - memory.timeline[0][0], 1), mb, k)
                                                         for t, mb, k in memory.timeline], file=sys.stderr)
        say(f"run 1: {first_seconds:.1f} s, {n / first_seconds:.1f} articles/s; stages {stages}")
        counts = first["ingest"].get("batch_counts") or {}
        pieces, reused = counts.get("ner_pieces", 0), counts.get("ner_pieces_reused", 0)
        if pieces:  # entities.entity_spans: a text a worker had recognised before is not run again
            say(f"NER: {pieces} paragraph pieces, {reused} of them ({100 * reused / pieces:.1f} %) repeats "
                f"of a text their worker had already recognised, not run again")
        if workers_ready is not None:
            say(f"workers ready {workers_ready:.1f} s after they were started, Prefect ready after "
                f"{startup:.1f} s (any excess is inside run 1)")
        say(f"peak memory of the process tree: RSS {memory.peak_rss_kb / 1024:.0f} MB "
            f"(PSS {memory.peak_pss_kb / 1024:.0f} MB); at the peak: "
            + "; ".join(f"{cmd} {kb / 1024:.0f} MB" for _, cmd, kb in memory.at_peak))
        cpu_by_role = memory.cpu_seconds_by_role()
        say(f"CPU seconds during run 1 by process kind: {cpu_by_role}")

        outcome = {
            "articles_new": first["ingest"]["articles_new"],
            "prefect_startup_s": round(startup, 2),
            "workers_ready_s": None if workers_ready is None else round(workers_ready, 2),
            "pipeline_s": round(first_seconds, 2),
            "pipeline_articles_per_s": round(n / first_seconds, 2),
            "pipeline_articles_per_s_with_startup": round(n / (first_seconds + startup), 2),
            "pipeline_rate_counts_startup": False,
            "stages_s": stages,
            "peak_rss_mb": round(memory.peak_rss_kb / 1024, 1),
            "peak_pss_mb": round(memory.peak_pss_kb / 1024, 1),
            "run_1_cpu_s": cpu_by_role,
            "ner_pieces": pieces,
            "ner_pieces_reused": reused,
            "models_s": round(first["models"]["seconds"], 2),
            "second_run_s": None, "second_run_share_of_first": None, "second_run_articles_new": None,
        }
        if second_run:
            second, second_seconds = run_pipeline(runner, raw_dir, warehouse_dir, workers)
            say(f"run 2 (unchanged raw dir): {second_seconds:.2f} s = {100 * second_seconds / first_seconds:.1f} % "
                f"of run 1; articles new {second['ingest']['articles_new']}; stages {_stages(second, second_seconds)}")
            outcome.update({"second_run_s": round(second_seconds, 3),
                            "second_run_share_of_first": round(second_seconds / first_seconds, 4),
                            "second_run_articles_new": second["ingest"]["articles_new"]})
    return outcome


def command_bench(args: argparse.Namespace) -> int:
    corpora = args.corpus if isinstance(args.corpus, list) else [args.corpus]
    for corpus in corpora:
        if not Path(corpus).is_dir():
            from quotewire.cli import UserError

            raise UserError(f"corpus folder {corpus} does not exist")
    from quotewire.cli import prefect_defaults

    workers = args.workers or os.cpu_count() or 1
    # The bench's own Prefect home: its temporary server never touches the user's database.
    own_home = None
    if "PREFECT_API_URL" not in os.environ and "PREFECT_HOME" not in os.environ:
        own_home = os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="quotewire-bench-prefect-")
    prefect_defaults()  # a fresh database migrates at start-up: the longer start-up timeout
    try:
        bench([Path(c) for c in corpora], args.limit, workers, keep=getattr(args, "keep", None),
              runner_kind=getattr(args, "runner", "process"), dask_address=getattr(args, "dask_address", None),
              floor=not getattr(args, "no_floor", False), repeat=getattr(args, "repeat", 1))
    finally:
        if own_home is not None:
            shutil.rmtree(own_home, ignore_errors=True)
    return 0
