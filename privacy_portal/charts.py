"""Server-rendered SVG charts for the DPO's dashboard: no chart library, no script.

Readable without colour: every bar carries its number as text, series differ by pattern
(solid, hatched, dotted) as well as by shade, and every mark is a link to the records it
counts, named by a <title>. Each chart also has a <title>/<desc> and a table of the same
figures beside it (the template's text alternative). Shades come from the admin's CSS
variables (privacy_portal/static/privacy_portal/dashboard.css), so dark mode works.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    url: str
    text: str = ""  # shown after the bar; the value when empty


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    pattern: str  # "solid", "hatch" or "dots"


@dataclass(frozen=True)
class Column:
    label: str
    title: str
    values: dict[str, int]  # series key -> value
    urls: dict[str, str]  # series key -> URL


PATTERNS = """<defs>
<pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)">
<rect width="6" height="6" class="chart-paper"/><rect width="3" height="6" class="chart-ink"/>
</pattern>
<pattern id="{id}-dots" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" class="chart-paper"/><circle cx="3" cy="3" r="1.6" class="chart-ink"/>
</pattern>
</defs>"""


def _n(number: float) -> str:
    """A coordinate, rounded (format_html escapes its arguments before formatting)."""
    return f"{number:.1f}"


def _fill(chart_id: str, pattern: str) -> str:
    return "" if pattern == "solid" else f"url(#{chart_id}-{pattern})"


def _open(chart_id: str, height: int, title: str, description: str) -> SafeString:
    return format_html(
        '<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" width="100%" '
        'aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>',
        id=chart_id,
        w=WIDTH,
        h=height,
        title=title,
        desc=description,
    )


def bar_chart(chart_id: str, *, title: str, description: str, bars: Sequence[Bar]) -> SafeString:
    """Horizontal bars, one per row: label, bar (a link), number."""
    row, label_width, number_width = 28, 200, 60
    height = row * len(bars) + 8
    top = max([bar.value for bar in bars] + [1])
    scale = (WIDTH - label_width - number_width) / top
    rows = format_html_join(
        "",
        '<a href="{}"><title>{}: {}</title>'
        '<text x="0" y="{}" class="chart-label">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="18" class="chart-bar chart-solid"/>'
        '<text x="{}" y="{}" class="chart-value">{}</text></a>',
        (
            (
                bar.url,
                bar.label,
                bar.text or bar.value,
                i * row + 18,
                bar.label,
                label_width,
                i * row + 4,
                _n(max(bar.value * scale, 1)),
                _n(label_width + bar.value * scale + 6),
                i * row + 18,
                bar.text or bar.value,
            )
            for i, bar in enumerate(bars)
        ),
    )
    return _open(chart_id, height, title, description) + rows + mark_safe("</svg>")


def stacked_columns(
    chart_id: str,
    *,
    title: str,
    description: str,
    series: Sequence[Series],
    columns: Sequence[Column],
) -> SafeString:
    """Stacked columns (e.g. a week's decisions), a legend of patterns, totals on top."""
    plot_top, plot_height, legend_height, axis = 36, 180, 24, 34
    height = plot_top + plot_height + axis + legend_height
    top = max([sum(c.values.values()) for c in columns] + [1])
    slot = (WIDTH - 20) / max(len(columns), 1)
    width = slot * 0.7
    parts: list[SafeString] = [
        _open(chart_id, height, title, description),
        mark_safe(PATTERNS.format(id=chart_id)),  # noqa: S308  (constant markup)
    ]
    for i, column in enumerate(columns):
        x = 10 + i * slot + (slot - width) / 2
        y = plot_top + plot_height
        for s in series:
            value = column.values.get(s.key, 0)
            if not value:
                continue
            h = value / top * plot_height
            y -= h
            fill = _fill(chart_id, s.pattern)
            parts.append(
                format_html(
                    '<a href="{}"><title>{}: {} {}</title>'
                    '<rect x="{}" y="{}" width="{}" height="{}" '
                    'class="chart-bar chart-{}"{}/></a>',
                    column.urls.get(s.key, ""),
                    column.title,
                    value,
                    s.label.lower(),
                    _n(x),
                    _n(y),
                    _n(width),
                    _n(h),
                    s.pattern,
                    format_html(' fill="{}"', fill) if fill else "",
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="chart-value" text-anchor="middle">{}</text>'
                '<text x="{}" y="{}" class="chart-label" text-anchor="middle">{}</text>',
                _n(x + width / 2),
                _n(y - 4),
                sum(column.values.values()),
                _n(x + width / 2),
                plot_top + plot_height + 16,
                column.label,
            )
        )
    legend_y = plot_top + plot_height + axis
    for i, s in enumerate(series):
        x = 10 + i * 180
        fill = _fill(chart_id, s.pattern)
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="16" height="16" class="chart-bar chart-{}"{}/>'
                '<text x="{}" y="{}" class="chart-label">{}</text>',
                x,
                legend_y,
                s.pattern,
                format_html(' fill="{}"', fill) if fill else "",
                x + 22,
                legend_y + 13,
                s.label,
            )
        )
    parts.append(mark_safe("</svg>"))
    return SafeString("".join(parts))
