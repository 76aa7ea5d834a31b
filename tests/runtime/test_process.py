"""Process tuning (runtime/process.py): what a worker is prepared with, each check in a fresh
interpreter where it changes the process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from quotewire.runtime import process


def run_python(script: str, *args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


# Freed blocks below glibc's default mmap threshold (128 KB) come from the heap; once the
# free space at its top exceeds the trim threshold they go back to the OS, and the next
# round touches fresh pages again: the pattern of NER's per-batch scratch memory.
SCRATCH_ROUNDS = """
import ctypes, resource, sys
from quotewire.runtime import process
if sys.argv[1] != "default":
    process.prepare_worker(getattr(process, sys.argv[1]))
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def one_round():
    blocks = [libc.malloc(100_000) for _ in range(100)]
    for block in blocks:
        ctypes.memset(block, 1, 100_000)
    for block in reversed(blocks):
        libc.free(block)
one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    one_round()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_ner_scratch_memory_is_reused_not_faulted_in_again():
    def faults(settings: str) -> int:
        return int(run_python(SCRATCH_ROUNDS, settings)[0])

    # 5 rounds of 10 MB: some 12,000 pages touched afresh by default, next to none when kept
    assert faults("default") > 5_000
    assert faults("WORKER") < 500
    assert faults("IN_PROCESS") < 500


PREPARED = """
import gc, sys
import pyarrow as pa
from quotewire.runtime import process
process.prepare_worker(process.WORKER, lambda: [object() for _ in range(1000)])
print(pa.default_memory_pool().backend_name)
print(gc.get_freeze_count() > 0)
try:
    import pandas
    print("pandas imported")
except ModuleNotFoundError:
    print("pandas refused")
print(process.words_zones().free_new_words_after_articles)
"""


def test_a_worker_allocates_arrow_through_malloc_freezes_what_it_loaded_and_refuses_pandas():
    backend, frozen, pandas, free_after = run_python(PREPARED)
    assert backend == "system"
    assert frozen == "True"
    assert pandas == "pandas refused"
    assert int(free_after) == process.WORKER.free_new_words_after_articles > 0


def test_a_batch_gets_the_words_zones_of_its_process_and_is_followed_by_after_batch(monkeypatch):
    trims = []
    monkeypatch.setattr(process, "after_batch", lambda: trims.append("trimmed"))

    def batch(articles, words_zones):
        assert trims == []  # memory is handed back after the batch, not before
        return articles, words_zones

    articles, zones = process.run_batch(batch, ["a", "b"])
    assert articles == ["a", "b"] and zones is process.words_zones()
    assert trims == ["trimmed"]
    with pytest.raises(ZeroDivisionError):
        process.run_batch(lambda words_zones: 1 / 0)
    assert trims == ["trimmed", "trimmed"]  # a failed batch's memory goes back too

