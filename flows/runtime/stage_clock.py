"""Where a batch's time goes: seconds per stage, summed over the batch's articles.

The benchmark compares the pipeline with spaCy's NER alone; these figures say how much of a
worker's time is that NER and how much is everything around it (reading, structure, entity
resolution, quotes, tables, Parquet).
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator


class StageClock:
    """``with clock("ner"): ...`` adds the block's wall time to ``clock.seconds["ner"]``;
    ``clock.count("ner_pieces", n)`` counts work done, so a time can be read per unit."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] += n

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    def as_dict(self) -> dict[str, float]:
        return dict(self.seconds)
