"""Progress output: which mode is chosen, and what the plain line mode writes (tests have no TTY)."""

from __future__ import annotations

import io

import pytest

from quotewire.runtime.progress import Progress, choose_mode, format_duration, progress_line, stream_is_terminal


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines_progress(interval: float = 10.0) -> tuple[Progress, io.StringIO, FakeClock]:
    stream, clock = io.StringIO(), FakeClock()
    return Progress("analysing files", stream=stream, interval=interval, clock=clock), stream, clock


@pytest.mark.parametrize(("quiet", "terminal", "mode"), [
    (False, True, "bar"), (False, False, "lines"), (True, True, "off"), (True, False, "off"),
])
def test_mode_follows_quiet_and_terminal(quiet, terminal, mode):
    assert choose_mode(quiet, terminal) == mode


def test_streams_without_a_usable_isatty_are_not_terminals():
    closed = io.StringIO()
    closed.close()
    assert stream_is_terminal(Terminal()) is True
    assert stream_is_terminal(io.StringIO()) is False
    assert stream_is_terminal(closed) is False
    assert stream_is_terminal(object()) is False


def test_progress_picks_its_mode_from_the_stream():
    assert Progress(stream=io.StringIO()).mode == "lines"
    assert Progress(stream=Terminal()).mode == "bar"
    assert Progress(stream=Terminal(), quiet=True).mode == "off"


def test_line_mode_writes_at_most_one_line_per_interval_then_a_final_line():
    progress, stream, clock = lines_progress(interval=10)
    progress.start(1000)
    clock.now += 4
    progress.advance(200)  # 4 s in: too soon for a line
    clock.now += 6
    progress.advance(200)  # 10 s in: a line
    clock.now += 1
    progress.advance(100)  # 11 s: too soon again
    clock.now += 14
    progress.advance(500)  # all done: the final line says so, not a 100% progress line
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "analysing files: 1,000 to analyse",
        "analysing files: 400/1,000 (40%) · 40.0 articles/s · ETA 15 s",
        "analysing files: 1,000 articles in 25 s (40.0 articles/s)",
    ]


def test_quiet_writes_nothing_even_on_a_terminal():
    stream = Terminal()
    progress = Progress(stream=stream, quiet=True, clock=FakeClock())
    progress.start(10)
    progress.advance(10)
    progress.finish()
    assert stream.getvalue() == ""


def test_bar_mode_draws_on_the_stream_and_ends_with_the_total():
    stream = Terminal()
    with Progress("analysing files", stream=stream) as progress:
        progress.start(4)
        progress.advance(1)
        progress.advance(3)
    assert "analysing files" in stream.getvalue() and "4/4" in stream.getvalue()


def test_progress_line_before_any_article_has_no_rate_or_eta():
    assert progress_line("x", 0, 50, 3.0) == "x: 0/50 (0%)"
    assert progress_line("x", 0, 0, 0.0) == "x: 0/0 (100%)"


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0 s"), (59, "59 s"), (61, "1 min 01 s"), (3725, "1 h 02 min")])
def test_durations_read_naturally(seconds, text):
    assert format_duration(seconds) == text


def test_finishing_twice_writes_the_final_line_once():
    progress, stream, _ = lines_progress()
    with progress:
        progress.start(2)
        progress.advance(2)
        progress.finish()
    assert len(stream.getvalue().splitlines()) == 2


# --- the end-of-run summary ----------------------------------------------------------------


def test_summary_shows_new_unchanged_rejected_quotes_speakers_entities_and_time():
    from quotewire.reports.console import summary_rows

    ingested = {"files_seen": 7, "articles_new": 3, "articles_unchanged": 2, "articles_removed": 1,
                "rejects_by_reason": {"empty": 1, "binary": 1}, "seconds": 2.25}
    rows = dict(summary_rows(ingested, {"seconds": 0.5}, {"articles": 5, "quotes": 40}, n_speakers=9, n_entities=31))
    assert rows["articles new / unchanged / removed / rejected"] == "3 / 2 / 1 / 2"
    assert rows["rejected by reason"] == "binary: 1, empty: 1"
    assert rows["quotes in warehouse"] == "40"
    assert rows["named speakers"] == "9" and rows["distinct entities"] == "31"
    assert rows["time"] == "2.8 s (ingest 2.2 s, models 0.5 s)"


def test_summary_without_rejects_has_no_reason_row():
    from quotewire.reports.console import summary_rows

    ingested = {"files_seen": 1, "articles_new": 1, "articles_unchanged": 0, "articles_removed": 0,
                "rejects_by_reason": {}, "seconds": 1.0}
    rows = dict(summary_rows(ingested, {}, {}, n_speakers=0, n_entities=0))
    assert rows["articles new / unchanged / removed / rejected"] == "1 / 0 / 0 / 0"
    assert "rejected by reason" not in rows
