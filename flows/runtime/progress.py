"""Progress of a long ingest: a rich bar on a terminal, plain periodic lines anywhere else.

A bar redraws in place, which only makes sense on a terminal; in a log file, CI output or a
Prefect worker's captured stderr it would be a wall of control characters. There a line every
``interval`` seconds says the same thing and greps well. ``quiet`` turns both off.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Literal, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

Mode = Literal["off", "bar", "lines"]
DEFAULT_INTERVAL_SECONDS = 10.0


def choose_mode(quiet: bool, is_terminal: bool) -> Mode:
    if quiet:
        return "off"
    return "bar" if is_terminal else "lines"


def stream_is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_line(label: str, done: int, total: int, elapsed: float) -> str:
    """'analysing files: 200/1,000 (20%) · 45.3 articles/s · ETA 18 s'; no rate or ETA before the first article."""
    percent = 100 * done // total if total else 100
    line = f"{label}: {done:,}/{total:,} ({percent}%)"
    if done and elapsed > 0:
        rate = done / elapsed
        line += f" · {rate:.1f} articles/s"
        if done < total:
            line += f" · ETA {format_duration((total - done) / rate)}"
    return line


def finished_line(label: str, done: int, elapsed: float) -> str:
    rate = f" ({done / elapsed:.1f} articles/s)" if done and elapsed > 0 else ""
    return f"{label}: {done:,} articles in {format_duration(elapsed)}{rate}"


class Progress:
    """``start(total_articles)``, ``advance(n)`` per finished batch, ``finish()`` once at the end."""

    def __init__(self, label: str = "analysing files", *, quiet: bool = False, stream: TextIO | None = None,
                 interval: float = DEFAULT_INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.mode: Mode = choose_mode(quiet, stream_is_terminal(self.stream))
        self.interval = interval
        self.clock = clock
        self.total = 0
        self.done = 0
        self._started = self._last_line = 0.0
        self._bar = None
        self._task = None
        self._finished = False

    def start(self, total_articles: int) -> None:
        self.total, self.done, self._finished = total_articles, 0, False
        self._started = self._last_line = self.clock()
        if self.mode == "bar":
            self._start_bar()
        elif self.mode == "lines":
            self._write(f"{self.label}: {total_articles:,} to analyse")

    def advance(self, n: int) -> None:
        self.done += n
        if self.mode == "bar":
            self._bar.update(self._task, completed=self.done)
        elif self.mode == "lines":
            now = self.clock()
            if now - self._last_line >= self.interval and self.done < self.total:
                self._last_line = now
                self._write(progress_line(self.label, self.done, self.total, now - self._started))

    def finish(self) -> None:
        if self._finished:  # e.g. finish() inside a `with` block: one final line, not two
            return
        self._finished = True
        if self.mode == "bar" and self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self.mode == "lines":
            self._write(finished_line(self.label, self.done, self.clock() - self._started))

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if exc_type is not None and self.mode == "lines":
            return  # the failure (or interrupt) has its own line; "N articles in" would mislead
        self.finish()

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def _start_bar(self) -> None:
        self._bar = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
            ArticlesPerSecondColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=self.stream),
        )
        self._task = self._bar.add_task(self.label, total=self.total)
        self._bar.start()


class ArticlesPerSecondColumn(ProgressColumn):
    """rich's own moving-average speed, which is None until a couple of batches have finished."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} articles/s" if task.speed else "– articles/s", style="progress.data.speed")
