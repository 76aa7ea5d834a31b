"""The HTML report: drawn from the marts, escaped, self-contained, and actually rendered by a browser.

The browser tests run headless Chromium on the page and look at what it drew (the DOM after the
inline script ran, and the pixels of a screenshot), not at the HTML source.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from quotewire.reports import html_report
from quotewire.reports.html_report import (
    BAR_COLOUR,
    COOCCURRENCE_SQL,
    ENTITIES_PER_LABEL,
    ENTITIES_SQL,
    HEATMAP_ENTITIES,
    HEATMAP_SPEAKERS,
    LABELS_SHOWN,
    TOP_SPEAKERS,
    ReportData,
    SpeakerQuote,
    command_report,
    entities_by_label,
    grouped_month_chart,
    heatmap_table,
    horizontal_bar_chart,
    load_report_data,
    render_report,
    report_is_current,
    report_summary_markdown,
    write_report,
)
from quotewire.models.build import query
from reports.test_docs import ARTICLES, build_warehouse
from e2e.test_flows import run_pipeline, write_raw

GENERATED = datetime(2026, 5, 3, 9, 30, tzinfo=timezone.utc)
NASTY = 'Profits <b>fell</b> & "costs" rose</td></tr><script>window.injected = 1</script>'

REPORT_ARTICLES = {
    **ARTICLES,
    "daily-ledger/markets.txt": (
        "Markets wobble\n\n"
        '"Profits < costs & taxes, so we wait," said trader Dana Marks on Monday.\n\n'
        '"Nobody is buying <anything>," Dana Marks added.\n'
    ),
}


# --- a small DOM reader (stdlib only) ---------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag as (tag, attributes, classes of the enclosing svg)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None], str]] = []
        self._svg_class = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "svg":
            self._svg_class = attributes.get("class") or ""
        self.elements.append((tag, attributes, self._svg_class))

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg_class = ""


def elements(markup: str) -> list[tuple[str, dict[str, str | None], str]]:
    parser = Elements()
    parser.feed(markup)
    return parser.elements


def speaker_bars(markup: str) -> list[float]:
    return [float(attrs["width"]) for tag, attrs, svg in elements(markup)
            if tag == "rect" and attrs.get("class") == "bar" and "speakers" in svg.split()]


def quote_rows(markup: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs, _ in elements(markup) if tag == "tr" and "data-speaker" in attrs]


# --- pure rendering -------------------------------------------------------------------------


def quote(speaker: str, text: str, n: int = 0) -> SpeakerQuote:
    return SpeakerQuote(speaker, f"a1:q{n}", text, "direct", None, "Ledger", "Headline", "a1", "a1:p2", "ledger/a.txt")


def test_bar_lengths_are_proportional_to_values():
    widths = speaker_bars(horizontal_bar_chart([("A", 10), ("B", 5), ("C", 1)], "speakers"))
    assert len(widths) == 3
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[1] == pytest.approx(5 * widths[2])


def test_text_from_the_data_is_escaped_everywhere():
    data = ReportData(
        top_speakers=[(NASTY, 3)], quotes_by_month=[(NASTY, date(2026, 5, 1), 3)], entities=[("ORG", NASTY, 2)],
        cooccurrence=[(NASTY, NASTY, 1)], speaker_quotes=[quote(NASTY, NASTY)],
    )
    page = render_report(data, GENERATED)
    assert "<script>window.injected" not in page
    tags = [tag for tag, _, _ in elements(page)]
    assert "b" not in tags
    assert tags.count("script") == 1  # only the report's own
    assert "&lt;b&gt;fell&lt;/b&gt; &amp; &quot;costs&quot;" in page
    assert [row["data-speaker"] for row in quote_rows(page)] == [NASTY]  # the attribute survives intact


def test_page_needs_nothing_from_the_network():
    page = render_report(ReportData(top_speakers=[("A", 1)], speaker_quotes=[quote("A", "x")]), GENERATED)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page


def test_empty_data_renders_a_page_with_the_notice_and_no_bars():
    page = render_report(ReportData(notice="The warehouse holds no quotes or entities yet."), GENERATED)
    assert "holds no quotes" in page
    assert speaker_bars(page) == [] and quote_rows(page) == []
    assert page.count('class="empty"') >= 5  # every section says it has nothing


def test_month_chart_draws_one_bar_per_outlet_and_month_and_leaves_out_undated():
    rows = [("Ledger", date(2026, 1, 1), 4), ("Ledger", date(2026, 2, 1), 2), ("Weekly", date(2026, 2, 1), 6),
            ("Weekly", None, 9)]
    bars = [attrs for tag, attrs, _ in elements(grouped_month_chart(rows)) if attrs.get("class") == "month-bar"]
    assert len(bars) == 4  # 2 months x 2 outlets; Weekly has a zero-height bar in January
    heights = sorted(float(bar["height"]) for bar in bars)
    assert heights[0] == 0 and heights[-1] == pytest.approx(3 * heights[1])
    assert "No dated" in grouped_month_chart([("Weekly", None, 9)])


def rows_of(sql: str, table: str, columns: str, rows: list[tuple]) -> list[tuple]:
    """What ``sql`` returns over a mart ``table`` holding just ``rows``."""
    import duckdb

    with duckdb.connect(":memory:") as connection:
        connection.execute(f"create table {table} ({columns})")
        connection.executemany(f"insert into {table} values ({', '.join('?' * len(rows[0]))})", rows)
        return connection.execute(sql).fetchall()


def test_entities_are_grouped_by_label_most_mentioned_first_and_capped():
    entities = [("PERSON", "Ann", 2), ("ORG", "Acme", 5), ("PERSON", "Bo", 4)]
    entities += [(f"L{i}", f"e{i}", 1) for i in range(LABELS_SHOWN + 2)]
    entities += [("ORG", f"org{i}", 1) for i in range(ENTITIES_PER_LABEL + 3)]
    chosen = rows_of(ENTITIES_SQL, "entity_mentions", "label varchar, name varchar, n_mentions bigint", entities)
    grouped = entities_by_label(chosen)
    assert list(grouped)[:2] == ["ORG", "PERSON"]  # ORG: 5 + 11 mentions, PERSON: 6
    assert len(grouped) == LABELS_SHOWN
    assert list(grouped)[2:] == [f"L{i}" for i in range(LABELS_SHOWN - 2)]  # ties: by label
    assert grouped["PERSON"] == [("Bo", 4), ("Ann", 2)]
    assert len(grouped["ORG"]) == ENTITIES_PER_LABEL and grouped["ORG"][:3] == [("Acme", 5), ("org0", 1), ("org1", 1)]


def test_heatmap_holds_the_top_speakers_and_entities_with_every_cell():
    speakers, entities = HEATMAP_SPEAKERS + 2, HEATMAP_ENTITIES + 2
    # speaker s quotes entity e (s + e) % 3 times: totals differ, and some pairs never meet
    pairs = [(f"s{s:02}", f"e{e:02}", (s + e) % 3) for s in range(speakers) for e in range(entities) if (s + e) % 3]
    grid = rows_of(COOCCURRENCE_SQL, "speaker_entity_cooccurrence", "speaker varchar, entity_name varchar, n_quotes bigint",
                   pairs)
    totals = {}
    for speaker, _, n in pairs:
        totals[speaker] = totals.get(speaker, 0) + n
    top = sorted(totals, key=lambda s: (-totals[s], s))[:HEATMAP_SPEAKERS]
    assert [speaker for speaker, _, _ in grid[::HEATMAP_ENTITIES]] == top
    assert len(grid) == HEATMAP_SPEAKERS * HEATMAP_ENTITIES
    assert len({entity for _, entity, _ in grid}) == HEATMAP_ENTITIES
    met = {(speaker, entity): n for speaker, entity, n in pairs}
    assert all(n == met.get((speaker, entity), 0) for speaker, entity, n in grid)
    assert any(n == 0 for _, _, n in grid)


def test_heatmap_shades_cells_by_count_and_leaves_empty_pairs_blank():
    table = heatmap_table([("Ann", "Acme", 4), ("Ann", "Paris", 1), ("Bo", "Acme", 2), ("Bo", "Paris", 0)])
    cells = [attrs for tag, attrs, _ in elements(table) if tag == "td"]
    assert [cell["title"].rsplit(": ", 1)[1] for cell in cells] == ["4", "1", "2", "0"]
    opacities = [float(re.search(r"rgba\([^)]*, ([\d.]+)\)", cell.get("style") or "rgba(0, 0)").group(1)) for cell in cells]
    assert opacities[0] == 1.0 and opacities[2] < opacities[0] and opacities[1] < opacities[2] and opacities[3] == 0


def test_summary_names_the_file_and_the_top_speakers(tmp_path):
    text = report_summary_markdown(ReportData(top_speakers=[("Ann", 3), ("Bo", 1)]), tmp_path / "report.html")
    assert str(tmp_path / "report.html") in text and "Ann (3), Bo (1)" in text


def test_the_report_is_current_only_when_written_after_its_database_and_its_code(tmp_path):
    out, database = tmp_path / "report.html", tmp_path / "quotewire.duckdb"
    assert not report_is_current(out, database)  # neither exists
    database.write_text("db")
    assert not report_is_current(out, database)  # never written

    def touch(path, at):
        os.utime(path, ns=(at, at))

    code = Path(html_report.__file__).stat().st_mtime_ns  # the module that renders the page
    later = max(code, time.time_ns()) + 2_000_000_000
    out.write_text("page")
    touch(database, later)
    touch(out, later + 1_000_000_000)
    assert report_is_current(out, database)
    touch(database, later + 2_000_000_000)  # models rebuilt since
    assert not report_is_current(out, database)
    touch(database, code - 2_000_000_000)
    touch(out, code - 1_000_000_000)  # the rendering code changed after the page was written
    assert not report_is_current(out, database)


def test_a_folder_without_a_warehouse_is_an_error_and_no_folder_is_created(tmp_path):
    from quotewire.cli import UserError

    with pytest.raises(UserError, match=f"^no warehouse at {tmp_path / 'nowhere'}; run quotewire run first$"):
        command_report(argparse.Namespace(warehouse=tmp_path / "nowhere", out=None))
    assert not (tmp_path / "nowhere").exists()


# --- in a real browser ----------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.fail("chromium is not installed; install it with `apt-get install -y chromium chromium-driver` "
                "(.ci/run does this before the tests)")


def run_chromium(page: Path, profile: Path, *args: str) -> str:
    completed = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def dump_dom(page: Path, profile: Path) -> str:
    return run_chromium(page, profile, "--dump-dom")


def screenshot(page: Path, profile: Path, width: int, height: int) -> Path:
    png = profile.parent / (page.stem + ".png")
    run_chromium(page, profile, f"--window-size={width},{height}", f"--screenshot={png}")
    return png


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """(width, height, unfiltered rows, bytes per pixel) of an 8-bit RGB/RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    pixel = 3 if colour_type == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * pixel, [], bytes(width * pixel)
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - pixel] if x >= pixel else 0
            up, up_left = previous[x], previous[x - pixel] if x >= pixel else 0
            if filter_type == 1:
                line[x] = (line[x] + left) & 0xFF
            elif filter_type == 2:
                line[x] = (line[x] + up) & 0xFF
            elif filter_type == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                estimate = left + up - up_left
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows, pixel


def pixels_of_colour(png: Path, colour: str) -> int:
    target = bytes.fromhex(colour.lstrip("#"))
    width, _, rows, pixel = decode_png(png.read_bytes())
    return sum(1 for row in rows for x in range(0, width * pixel, pixel) if row[x:x + 3] == target)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("report"), REPORT_ARTICLES).parent


@pytest.mark.slow
def test_browser_draws_one_bar_per_speaker_and_filters_to_the_first(warehouse, tmp_path):
    out = tmp_path / "report.html"
    assert command_report(argparse.Namespace(warehouse=warehouse, out=out)) == 0
    _, speakers = query(warehouse / "quotewire.duckdb", "select speaker, n_quotes from quotes_per_speaker")
    assert len(speakers) >= 3  # else the checks below say little

    dom = dump_dom(out, tmp_path / "profile")
    widths = speaker_bars(dom)
    assert len(widths) == min(len(speakers), TOP_SPEAKERS) and all(width > 0 for width in widths)

    rows = quote_rows(dom)
    chosen = sorted(speakers, key=lambda s: (-s[1], s[0]))[0][0]  # most quoted; ties alphabetical
    visible = [row for row in rows if "hidden" not in row]
    assert visible and {row["data-speaker"] for row in visible} == {chosen}
    assert len(visible) == dict(speakers)[chosen]
    assert len(rows) == sum(n for _, n in speakers)  # the others are there, only hidden
    assert f"{len(visible)} quote" in dom


@pytest.mark.slow
def test_quotes_with_markup_characters_stay_text_and_link_to_their_paragraph(warehouse, tmp_path):
    out = tmp_path / "report.html"
    command_report(argparse.Namespace(warehouse=warehouse, out=out))
    dom = dump_dom(out, tmp_path / "profile")
    assert "Profits &lt; costs &amp; taxes" in dom and "Nobody is buying &lt;anything&gt;" in dom
    assert "anything" not in [tag for tag, _, _ in elements(dom)]
    anchors = {attrs["id"] for _, attrs, _ in elements(dom) if (attrs.get("id") or "").startswith("paragraph-")}
    links = [attrs["href"] for tag, attrs, _ in elements(dom) if tag == "a" and (attrs.get("href") or "").startswith("#")]
    assert links and all(link[1:] in anchors for link in links)


@pytest.mark.slow
def test_screenshot_shows_the_bars_and_an_empty_warehouse_shows_none(warehouse, tmp_path):
    out = tmp_path / "report.html"
    command_report(argparse.Namespace(warehouse=warehouse, out=out))
    # The top of the page: heading and the top-speakers chart.
    drawn = pixels_of_colour(screenshot(out, tmp_path / "profile", 1000, 500), BAR_COLOUR)
    _, counts = query(warehouse / "quotewire.duckdb", "select n_quotes from quotes_per_speaker")
    assert drawn >= 20 * len(counts)  # every bar is at least 1 px wide and 20 px high, most far wider

    empty = tmp_path / "empty.html"
    write_report(tmp_path / "no-warehouse" / "quotewire.duckdb", empty, datetime.now(timezone.utc))  # the page saying so
    assert pixels_of_colour(screenshot(empty, tmp_path / "profile-empty", 1000, 500), BAR_COLOUR) == 0


@pytest.mark.slow
def test_report_data_matches_the_marts(warehouse):
    database = warehouse / "quotewire.duckdb"
    data = load_report_data(database)
    assert data.notice is None
    assert data.top_speakers == query(database, "select speaker, n_quotes from quotes_per_speaker "
                                                "order by n_quotes desc, speaker")[1][:TOP_SPEAKERS]
    assert {q.paragraph_id for q in data.speaker_quotes} == {p.paragraph_id for p in data.paragraphs}


@pytest.mark.slow
def test_pipeline_writes_the_report_and_links_it_as_an_artifact(prefect_harness, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    raw, warehouse = write_raw(tmp_path / "raw", ARTICLES), tmp_path / "warehouse"
    run_pipeline(raw, warehouse, workers=1)

    page = (warehouse / "report.html").read_text(encoding="utf-8")
    _, speakers = query(warehouse / "quotewire.duckdb", "select speaker from quotes_per_speaker")
    assert len(speaker_bars(page)) == len(speakers) > 0
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[
            "quotewire-html-report-link", "quotewire-html-report"])))
    # Other tests' pipeline runs in this Prefect session publish artifacts under the same keys.
    data_by_key: dict[str, list[str]] = {}
    for artifact in artifacts:
        data_by_key.setdefault(artifact.key, []).append(str(artifact.data))
    report = (warehouse / "report.html").resolve()
    assert any(report.as_uri() in data for data in data_by_key["quotewire-html-report-link"])
    assert any(str(report) in data for data in data_by_key["quotewire-html-report"])

    # A run that publishes nothing new leaves the page as it was, and says so.
    written = report.stat().st_mtime_ns
    again = run_pipeline(raw, warehouse, workers=1)
    assert again["ingest"]["published"] is False and again["models"].get("skipped")
    assert report.stat().st_mtime_ns == written
    with get_client(sync_client=True) as client:
        [latest] = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[
            "quotewire-html-report"])), sort="CREATED_DESC", limit=1)
    assert str(report) in str(latest.data) and "Unchanged" in str(latest.data)

    # New data rebuilds the database, which makes the page out of date: it is written again.
    write_raw(raw, {"wire/later.txt": "Later story\n\n\"We will see,\" said Dana Marks, a judge.\n"})
    changed = run_pipeline(raw, warehouse, workers=1)
    assert changed["ingest"]["published"] is True
    assert report.stat().st_mtime_ns > written


@pytest.mark.slow
def test_a_warehouse_with_no_articles_renders_a_page_that_says_so(tmp_path):
    database = build_warehouse(tmp_path / "empty", {"empty.txt": ""})  # rejected: the warehouse has no rows
    out = tmp_path / "report.html"
    assert command_report(argparse.Namespace(warehouse=database.parent, out=out)) == 0
    dom = dump_dom(out, tmp_path / "profile")
    assert "holds no quotes or entities yet" in dom
    assert speaker_bars(dom) == [] and quote_rows(dom) == []
    assert 'id="speaker-select"' not in dom  # and the filter script found nothing to do without failing
