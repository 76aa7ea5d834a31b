"""The two things quotewire asks of glibc's allocator, in one place because they pull against
each other: keep freed blocks for reuse (NER's per-batch scratch) and hand freed memory back
to the OS (after each batch); runtime/process.py says when. Both are no-ops, returning False,
where there is no glibc."""

from __future__ import annotations

import ctypes
from functools import cache

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


@cache
def _glibc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def keep_freed_blocks(up_to_bytes: int) -> bool:
    """Serve blocks up to ``up_to_bytes`` from the heap (not fresh mmaps) and keep up to twice
    that free at the heap's top, so a block freed and asked for again is not faulted in anew."""
    libc = _glibc()
    try:
        return libc is not None and bool(libc.mallopt(_M_MMAP_THRESHOLD, up_to_bytes)
                                         and libc.mallopt(_M_TRIM_THRESHOLD, 2 * up_to_bytes))
    except AttributeError:
        return False


def return_freed_memory() -> bool:
    """Hand the heap's free pages back to the OS (glibc keeps freed arenas otherwise)."""
    libc = _glibc()
    try:
        return libc is not None and bool(libc.malloc_trim(0))
    except AttributeError:
        return False
