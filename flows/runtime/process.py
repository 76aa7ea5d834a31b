"""How a process that analyses batches is tuned, in one place: glibc's allocator, Arrow's
memory pool, the garbage collector, the pandas guard and when spaCy frees the words it
learnt (memory zones). The analysis code knows none of it: it is handed the words-zone
policy as a parameter (``run_batch``). docs/performance.md says what each setting bought.

- ``WORKER``: a long-lived worker process of a ``worker_pool.WorkerPool``, prepared once as it
  starts (``prepare_worker``), as is the bench's NER floor;
- ``IN_PROCESS``: anywhere else batches run (a thread of the flow's process, a Dask worker,
  ``ingest_serially``, ``quotewire eval``), applied before the process's first batch.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from quotewire.analyse.article import KEEP_WORDS_OF_FIRST_ARTICLES, WordsZones
from quotewire.runtime import heap
from quotewire.runtime.pandas_guard import keep_pandas_out

T = TypeVar("T")


@dataclass(frozen=True)
class ProcessSettings:
    # glibc keeps freed blocks up to this size for reuse (NER's per-batch scratch); 0: its defaults.
    keep_freed_blocks_up_to: int = 32 * 2**20  # glibc's largest mmap threshold on 64-bit
    # Arrow allocates through malloc, so after_batch hands its freed pages back too.
    arrow_through_malloc: bool = True
    # The model and imports, loaded once, are frozen out of the garbage collector's walks.
    freeze_gc_after_loading: bool = False
    # pyarrow's look for pandas costs memory and CPU in every process that never uses it.
    keep_pandas_out: bool = False
    # A model's first articles run outside memory zones: their words fill the tokenizer's cache.
    keep_words_of_first_articles: int = KEEP_WORDS_OF_FIRST_ARTICLES
    # Articles that share one memory zone; 0: each analysis call frees its own new words.
    free_new_words_after_articles: int = 0


IN_PROCESS = ProcessSettings()
# A worker only ever analyses batches, so its zones span several batches (a zone per batch is slower).
WORKER = replace(IN_PROCESS, freeze_gc_after_loading=True, keep_pandas_out=True,
                 free_new_words_after_articles=4000)

_prepared: tuple[ProcessSettings, WordsZones] | None = None  # (settings, their words zones), set once


def prepare_worker(settings: ProcessSettings = WORKER, load: Callable[[], object] | None = None) -> None:
    """Tune this process once, before its first batch: the allocator, Arrow's pool and the
    pandas guard, then ``load()`` (imports, the model), then the garbage collector; the
    words-zone policy its batches get (``words_zones``). A later call is a no-op but for
    ``load()``: a process keeps the settings it was prepared with."""
    global _prepared
    if _prepared is None:
        if settings.keep_pandas_out:
            keep_pandas_out()
        if settings.keep_freed_blocks_up_to:
            heap.keep_freed_blocks(settings.keep_freed_blocks_up_to)
        if settings.arrow_through_malloc:
            _allocate_arrow_with_malloc()
        _prepared = (settings, WordsZones(settings.keep_words_of_first_articles,
                                          settings.free_new_words_after_articles))
    if load is not None:
        load()
    if _prepared[0].freeze_gc_after_loading:
        gc.collect()  # the loading's own garbage is not frozen with what it loaded
        gc.freeze()


def _allocate_arrow_with_malloc() -> None:
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def settings_of_this_process() -> ProcessSettings | None:
    """What this process was prepared with; None before its first batch."""
    return _prepared[0] if _prepared is not None else None


def words_zones() -> WordsZones:
    """The words-zone policy of this process's batches."""
    if _prepared is None:
        prepare_worker(IN_PROCESS)
    return _prepared[1]


def after_batch() -> bool:
    """Hand the heap's free pages back to the OS, so a long-lived process's RSS stays flat."""
    return heap.return_freed_memory()


def run_batch(fn: Callable[..., T], /, *args) -> T:
    """``fn(*args, words_zones=...)``, one batch in this process (prepared as IN_PROCESS unless
    it was prepared already), then after_batch."""
    zones = words_zones()
    try:
        return fn(*args, words_zones=zones)
    finally:
        after_batch()
