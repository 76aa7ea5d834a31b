"""``quotewire report``: one self-contained HTML page of the marts, for people who do not write SQL.

Self-contained means it opens from a file, offline, years later: charts are SVG drawn here in
Python, the CSS and the few lines of JavaScript (the speaker filter) are inline, nothing is
fetched. Every piece of text from the data goes through ``html.escape``: quotes are full of
``<``, ``&`` and ``"``.

``load_report_data`` is the only part that touches the database; everything that draws is a
pure function of ``ReportData``, so it is tested without a warehouse.
"""

from __future__ import annotations

import argparse
import html
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from quotewire.models.build import queries
from quotewire.settings import Settings

TOP_SPEAKERS = 15
SPEAKERS_IN_FILTER = 50
QUOTES_PER_SPEAKER = 200  # keeps the page small on a big warehouse; the table says when it is cut
LABELS_SHOWN = 6
ENTITIES_PER_LABEL = 8
HEATMAP_SPEAKERS = 12
HEATMAP_ENTITIES = 12
MAX_MONTH_BAR_WIDTH = 36
LABEL_CHAR_WIDTH = 7  # px per character of 12px text, to shorten labels that would not fit

BAR_COLOUR = "#2b6cb0"
# Colour-blind-safe (Okabe-Ito) for outlets; outlets past the eighth reuse them.
SERIES_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class SpeakerQuote:
    speaker: str
    quote_id: str
    text: str
    kind: str
    published_at: datetime | None
    outlet: str | None
    headline: str | None
    article_id: str
    paragraph_id: str
    source_path: str


@dataclass(frozen=True)
class QuotedParagraph:
    paragraph_id: str
    article_id: str
    headline: str | None
    outlet: str | None
    source_path: str
    text: str


@dataclass(frozen=True)
class ReportData:
    top_speakers: list[tuple[str, int]] = field(default_factory=list)  # (speaker, quotes)
    quotes_by_month: list[tuple[str | None, date | None, int]] = field(default_factory=list)  # (outlet, month, quotes)
    # (label, name, mentions): the names shown, labels with the most mentions first (ENTITIES_SQL)
    entities: list[tuple[str, str, int]] = field(default_factory=list)
    # (speaker, entity name, quotes): the heatmap's every cell, zeros too, row by row (COOCCURRENCE_SQL)
    cooccurrence: list[tuple[str, str, int]] = field(default_factory=list)
    speaker_quotes: list[SpeakerQuote] = field(default_factory=list)
    paragraphs: list[QuotedParagraph] = field(default_factory=list)  # every paragraph a shown quote sits in
    notice: str | None = None  # why the page is empty, when it is


# --- reading the marts ----------------------------------------------------------------------

TOP_SPEAKERS_SQL = f"select speaker, n_quotes from quotes_per_speaker order by n_quotes desc, speaker limit {TOP_SPEAKERS}"
QUOTES_BY_MONTH_SQL = "select outlet, month, n_quotes from quotes_by_outlet_month order by month nulls last, outlet"
# The two sections below show a fixed number of names however big the warehouse grows, so
# their queries choose them: the page never fetches every entity or speaker-entity pair
# (at 20,000 articles that was 98,000 + 47,000 rows and half of the report's time).
ENTITIES_SQL = f"""
with labels as (
    select label, sum(n_mentions) as label_mentions
    from entity_mentions
    group by label
    order by label_mentions desc, label
    limit {LABELS_SHOWN}
),
ranked as (
    select
        entity_mentions.label, entity_mentions.name, entity_mentions.n_mentions, labels.label_mentions,
        row_number() over (
            partition by entity_mentions.label order by entity_mentions.n_mentions desc, entity_mentions.name
        ) as n
    from entity_mentions
    join labels on entity_mentions.label = labels.label
)
select label, name, n_mentions from ranked where n <= {ENTITIES_PER_LABEL}
order by label_mentions desc, label, n
"""
COOCCURRENCE_SQL = f"""
with cells as (
    select speaker, entity_name, sum(n_quotes) as n_quotes
    from speaker_entity_cooccurrence
    group by speaker, entity_name
),
speakers as (
    select speaker, row_number() over (order by sum(n_quotes) desc, speaker) as speaker_rank
    from cells
    group by speaker
    order by speaker_rank
    limit {HEATMAP_SPEAKERS}
),
entities as (
    select entity_name, row_number() over (order by sum(n_quotes) desc, entity_name) as entity_rank
    from cells
    group by entity_name
    order by entity_rank
    limit {HEATMAP_ENTITIES}
)
select speakers.speaker, entities.entity_name, coalesce(cells.n_quotes, 0) as n_quotes
from speakers
cross join entities
left join cells on cells.speaker = speakers.speaker and cells.entity_name = entities.entity_name
order by speakers.speaker_rank, entities.entity_rank
"""
SPEAKER_QUOTES_SQL = f"""
with speakers as (
    select speaker from quotes_per_speaker order by n_quotes desc, speaker limit {SPEAKERS_IN_FILTER}
),
ranked as (
    select
        quotes.speaker, quotes.quote_id, quotes.text, quotes.kind, articles.published_at, articles.outlet,
        articles.headline, quotes.article_id, quotes.paragraph_id, articles.source_path,
        row_number() over (
            partition by quotes.speaker order by articles.published_at nulls last, quotes.quote_id
        ) as n
    from stg_quotes as quotes
    join speakers on quotes.speaker = speakers.speaker
    join stg_articles as articles on quotes.article_id = articles.article_id
)
select * exclude (n) from ranked where n <= {QUOTES_PER_SPEAKER}
order by speaker, n
"""
PARAGRAPHS_SQL = f"""
select paragraphs.paragraph_id, paragraphs.article_id, articles.headline, articles.outlet, articles.source_path,
       paragraphs.text
from stg_paragraphs as paragraphs
join stg_articles as articles on paragraphs.article_id = articles.article_id
where paragraphs.paragraph_id in (select paragraph_id from ({SPEAKER_QUOTES_SQL}))
order by articles.source_path, paragraphs.position
"""


def load_report_data(database_path: Path) -> ReportData:
    if not database_path.exists():
        return ReportData(notice=f"No warehouse database at {database_path}: run `quotewire run` first.")
    top_speakers, quotes_by_month, entities, cooccurrence, speaker_quotes, paragraphs = (
        rows for _, rows in queries(database_path, [TOP_SPEAKERS_SQL, QUOTES_BY_MONTH_SQL, ENTITIES_SQL,
                                                    COOCCURRENCE_SQL, SPEAKER_QUOTES_SQL, PARAGRAPHS_SQL]))
    data = ReportData(
        top_speakers=top_speakers, quotes_by_month=quotes_by_month, entities=entities, cooccurrence=cooccurrence,
        speaker_quotes=[SpeakerQuote(*row) for row in speaker_quotes],
        paragraphs=[QuotedParagraph(*row) for row in paragraphs],
    )
    if not (data.top_speakers or data.quotes_by_month or data.entities):
        return ReportData(notice="The warehouse holds no quotes or entities yet.")
    return data


# --- SVG charts -----------------------------------------------------------------------------


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def horizontal_bar_chart(items: list[tuple[str, int]], css_class: str, width: int = 640, label_width: int = 190) -> str:
    """One bar per (label, value), longest first as given; the bar length is proportional to value."""
    if not items:
        return '<p class="empty">No data yet.</p>'
    bar_height, gap = 20, 6
    height = len(items) * (bar_height + gap) + gap
    largest = max(value for _, value in items) or 1
    plot_width = width - label_width - 50
    rows = []
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        bar_width = max(1.0, plot_width * value / largest) if value > 0 else 0.0
        rows.append(
            f'<g><title>{esc(label)}: {value}</title>'
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{esc(_shorten(label, (label_width - 12) // LABEL_CHAR_WIDTH))}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{bar_width:.1f}" height="{bar_height}" fill="{BAR_COLOUR}"/>'
            f'<text x="{label_width + bar_width + 6:.1f}" y="{y + 15}">{value}</text></g>'
        )
    return (f'<svg class="chart {css_class}" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>')


def month_label(month: date) -> str:
    return month.strftime("%b %Y")


def grouped_month_chart(rows: list[tuple[str | None, date | None, int]], width: int = 760, height: int = 260) -> str:
    """Quotes per month, one coloured bar per outlet in each month's group, with a legend."""
    dated = [(outlet or UNKNOWN, month, n) for outlet, month, n in rows if month is not None]
    if not dated:
        return '<p class="empty">No dated articles yet.</p>'
    months = sorted({month for _, month, _ in dated})
    outlets = sorted({outlet for outlet, _, _ in dated})
    counts = {(outlet, month): n for outlet, month, n in dated}
    largest = max(counts.values()) or 1
    left, bottom, top, legend_height = 40, 40, 10, 22 * ((len(outlets) + 3) // 4)
    plot_height = height - bottom - top
    group_width = (width - left - 10) / len(months)
    # Capped, so one month of one outlet is a bar rather than a wall; the group is centred.
    bar_width = min(MAX_MONTH_BAR_WIDTH, max(1.0, group_width * 0.8 / len(outlets)))
    parts = [f'<line x1="{left}" y1="{top + plot_height}" x2="{width - 10}" y2="{top + plot_height}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{largest}</text>',
             f'<text x="{left - 6}" y="{top + plot_height}" text-anchor="end">0</text>']
    for m_index, month in enumerate(months):
        group_x = left + (m_index + 0.5) * group_width - bar_width * len(outlets) / 2
        parts.append(f'<text x="{left + (m_index + 0.5) * group_width:.1f}" y="{top + plot_height + 16}" '
                     f'text-anchor="middle">{esc(month_label(month))}</text>')
        for o_index, outlet in enumerate(outlets):
            n = counts.get((outlet, month), 0)
            bar_height = plot_height * n / largest
            parts.append(
                f'<rect class="month-bar" x="{group_x + o_index * bar_width:.1f}" y="{top + plot_height - bar_height:.1f}" '
                f'width="{bar_width:.1f}" height="{bar_height:.1f}" fill="{SERIES_COLOURS[o_index % len(SERIES_COLOURS)]}">'
                f'<title>{esc(outlet)}, {esc(month_label(month))}: {n}</title></rect>')
    for o_index, outlet in enumerate(outlets):
        x, y = left + (o_index % 4) * 180, height + 16 + (o_index // 4) * 22
        parts.append(f'<rect x="{x}" y="{y - 11}" width="12" height="12" fill="{SERIES_COLOURS[o_index % len(SERIES_COLOURS)]}"/>'
                     f'<text x="{x + 18}" y="{y}">{esc(_shorten(outlet, 24))}</text>')
    total_height = height + legend_height + 10
    return (f'<svg class="chart months" role="img" width="{width}" height="{total_height}" '
            f'viewBox="0 0 {width} {total_height}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')


def entities_by_label(entities: list[tuple[str, str, int]]) -> dict[str, list[tuple[str, int]]]:
    """(label, name, mentions) rows, as ENTITIES_SQL chooses and orders them, grouped by label."""
    per_label: dict[str, list[tuple[str, int]]] = {}
    for label, name, n in entities:
        per_label.setdefault(label, []).append((name, n))
    return per_label


# --- tables ---------------------------------------------------------------------------------


def heatmap_table(cooccurrence: list[tuple[str, str, int]]) -> str:
    """Speakers x entities, each cell shaded by how many of the speaker's quotes sit beside the
    entity: the grid COOCCURRENCE_SQL gives, every cell, row by row."""
    if not cooccurrence:
        return '<p class="empty">No speaker was quoted next to an entity yet.</p>'
    speakers = list(dict.fromkeys(speaker for speaker, _, _ in cooccurrence))
    entities = list(dict.fromkeys(entity for _, entity, _ in cooccurrence))
    cells = {(speaker, entity): n for speaker, entity, n in cooccurrence}
    largest = max(cells.values()) or 1  # all blank: the top speakers' entities are all outside the top ones
    header = "".join(f'<th class="rotate"><div>{esc(_shorten(entity, 24))}</div></th>' for entity in entities)
    body = []
    for speaker in speakers:
        row = [f'<th scope="row">{esc(speaker)}</th>']
        for entity in entities:
            n = cells.get((speaker, entity), 0)
            # Opacity rather than a colour scale: one hue reads at a glance and prints in grey.
            shade = f' style="background: rgba(43, 108, 176, {0.15 + 0.85 * n / largest:.2f})"' if n else ""
            row.append(f'<td class="heat"{shade} title="{esc(speaker)} × {esc(entity)}: {n}">{n or ""}</td>')
        body.append("<tr>" + "".join(row) + "</tr>")
    return (f'<table class="heatmap"><thead><tr><th></th>{header}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def paragraph_anchor(paragraph_id: str) -> str:
    return "paragraph-" + paragraph_id


def speaker_quotes_section(quotes: list[SpeakerQuote]) -> str:
    if not quotes:
        return '<p class="empty">No attributed quotes yet.</p>'
    counts: dict[str, int] = defaultdict(int)
    for quote in quotes:
        counts[quote.speaker] += 1
    speakers = sorted(counts, key=lambda s: (-counts[s], s))
    options = "".join(f'<option value="{esc(s)}">{esc(s)} ({counts[s]})</option>' for s in speakers)
    rows = []
    for quote in quotes:
        when = quote.published_at.date().isoformat() if quote.published_at else "undated"
        rows.append(
            f'<tr id="quote-{esc(quote.quote_id)}" data-speaker="{esc(quote.speaker)}">'
            f'<td>{esc(when)}</td><td>{esc(quote.outlet or UNKNOWN)}</td>'
            f'<td class="quote">“{esc(quote.text)}”<span class="kind">{esc(quote.kind)}</span></td>'
            f'<td><a href="#{esc(paragraph_anchor(quote.paragraph_id))}">{esc(quote.headline or quote.source_path)}</a>'
            f'<div class="ids">{esc(quote.source_path)} · {esc(quote.paragraph_id)}</div></td></tr>'
        )
    return (
        f'<label for="speaker-select">Speaker </label><select id="speaker-select">{options}</select> '
        f'<span id="speaker-count"></span>'
        f'<p class="note">Up to {QUOTES_PER_SPEAKER} quotes each for the {SPEAKERS_IN_FILTER} most quoted speakers.</p>'
        f'<table id="speaker-quotes"><thead><tr><th>published</th><th>outlet</th><th>quote</th><th>article · paragraph</th>'
        f'</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def paragraphs_section(paragraphs: list[QuotedParagraph]) -> str:
    if not paragraphs:
        return '<p class="empty">No quoted paragraphs yet.</p>'
    items = []
    for paragraph in paragraphs:
        items.append(
            f'<div class="paragraph" id="{esc(paragraph_anchor(paragraph.paragraph_id))}">'
            f'<div class="ids">{esc(paragraph.outlet or UNKNOWN)} · {esc(paragraph.headline or "")} · '
            f'{esc(paragraph.source_path)} · {esc(paragraph.paragraph_id)}</div>'
            f'<p>{esc(paragraph.text)}</p></div>')
    return "".join(items)


# --- the page -------------------------------------------------------------------------------

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px;
       padding: 0 16px; color: #1a202c; background: #fff; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #e2e8f0; }
h3 { font-size: 14px; margin: 12px 0 4px; }
.chart text { font: 12px system-ui, sans-serif; fill: #2d3748; }
.empty, .note, .generated { color: #718096; } .notice { background: #fefcbf; padding: 8px 12px; }
.labels { display: flex; flex-wrap: wrap; gap: 8px 32px; }
table { border-collapse: collapse; } th, td { padding: 4px 8px; text-align: left; vertical-align: top; }
#speaker-quotes td { border-top: 1px solid #e2e8f0; } #speaker-quotes .quote { max-width: 520px; }
.kind { margin-left: 6px; font-size: 11px; color: #718096; } .ids { font-size: 11px; color: #718096; }
.heatmap td.heat { width: 34px; text-align: center; border: 1px solid #edf2f7; }
.heatmap th.rotate { height: 130px; white-space: nowrap; vertical-align: bottom; }
.heatmap th.rotate div { transform: translate(12px, -4px) rotate(-45deg); width: 30px; }
.paragraph { border-left: 3px solid #cbd5e0; padding-left: 10px; margin: 10px 0; }
.paragraph:target { border-color: #2b6cb0; background: #ebf8ff; }
"""

# Shows only the chosen speaker's rows; without JavaScript every row stays visible.
SCRIPT = """
(function () {
  var select = document.getElementById('speaker-select');
  if (!select) { return; }
  function show() {
    var rows = document.querySelectorAll('#speaker-quotes tbody tr'), shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var match = rows[i].getAttribute('data-speaker') === select.value;
      rows[i].hidden = !match;
      if (match) { shown++; }
    }
    document.getElementById('speaker-count').textContent = shown + (shown === 1 ? ' quote' : ' quotes');
  }
  select.addEventListener('change', show);
  show();
})();
"""


def render_report(data: ReportData, generated_at: datetime) -> str:
    label_charts = "".join(
        f'<div><h3>{esc(label)}</h3>{horizontal_bar_chart(items, "entities", width=480, label_width=170)}</div>'
        for label, items in entities_by_label(data.entities).items()
    ) or '<p class="empty">No entities yet.</p>'
    undated = sum(n for _, month, n in data.quotes_by_month if month is None)
    undated_note = f'<p class="note">{undated} quotes from undated articles are not shown.</p>' if undated else ""
    notice = f'<p class="notice">{esc(data.notice)}</p>' if data.notice else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>quotewire report</title>
<style>{CSS}</style>
</head>
<body>
<h1>Who is quoted, saying what, about whom</h1>
<p class="generated">quotewire report, generated {esc(generated_at.strftime("%Y-%m-%d %H:%M UTC"))}</p>
{notice}
<section id="top-speakers"><h2>Top speakers</h2>
{horizontal_bar_chart(data.top_speakers, "speakers")}
</section>
<section id="quotes-over-time"><h2>Quotes per month by outlet</h2>
{grouped_month_chart(data.quotes_by_month)}
{undated_note}
</section>
<section id="entities"><h2>Most-mentioned entities by label</h2>
<div class="labels">{label_charts}</div>
</section>
<section id="cooccurrence"><h2>Who talks about what</h2>
<p class="note">Quotes of each speaker whose paragraph mentions the entity.</p>
{heatmap_table(data.cooccurrence)}
</section>
<section id="quotes"><h2>A speaker's quotes</h2>
{speaker_quotes_section(data.speaker_quotes)}
</section>
<section id="paragraphs"><h2>Quoted paragraphs</h2>
{paragraphs_section(data.paragraphs)}
</section>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write_report(database_path: Path, out: Path, generated_at: datetime) -> ReportData:
    """Renders the report of ``database_path`` to ``out`` (atomically); returns what it showed."""
    data = load_report_data(database_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(render_report(data, generated_at), encoding="utf-8")
    temporary.replace(out)  # a browser reloading mid-write never sees half a page
    return data


def report_is_current(out: Path, database_path: Path) -> bool:
    """``out`` was written after the database it shows was built, and after this module (which
    renders it) last changed: a run that changed nothing leaves the page as it is, so its
    "generated" time and the file a browser or dashboard holds stay those of the data."""
    try:
        written = out.stat().st_mtime_ns
        inputs = [database_path.stat().st_mtime_ns, Path(__file__).stat().st_mtime_ns]
    except FileNotFoundError:
        return False
    return written > max(inputs)


def report_summary_markdown(data: ReportData | None, out: Path) -> str:
    """A few lines for the Prefect UI pointing at the report (``data`` None: the run left an
    up-to-date report as it was)."""
    lines = [f"HTML report: `{out}`", ""]
    if data is None:
        return "\n".join(lines + ["Unchanged: this run published no new data."]) + "\n"
    if data.notice:
        return "\n".join(lines + [data.notice]) + "\n"
    lines += [f"Top speakers: {', '.join(f'{speaker} ({n})' for speaker, n in data.top_speakers[:5])}."]
    return "\n".join(lines) + "\n"


def command_report(args: argparse.Namespace) -> int:
    from datetime import timezone

    from quotewire.cli import require_warehouse

    settings = Settings.from_args(args)
    require_warehouse(settings.warehouse_dir, settings.database_path.is_file())  # a typo creates no folder
    out = args.out or settings.warehouse_dir / "report.html"
    data = write_report(settings.database_path, out, datetime.now(timezone.utc))
    print(f"wrote {out}" + (f" ({data.notice})" if data.notice else ""))
    return 0
