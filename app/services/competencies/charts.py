"""Growth charts as server-rendered SVG: no JavaScript, no inline styles (the CSP forbids them).

Colours and shapes are SVG presentation attributes (fill, stroke), which the CSP allows. Each series
has its own colour AND marker shape AND line pattern, so it never depends on colour alone; the page
shows a table of the same ratings as the text alternative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from markupsafe import Markup, escape

from app import dates
from app.i18n import _, ngettext


@dataclass(frozen=True)
class SeriesStyle:
    colour: str
    marker: str  # "circle", "square" or "diamond"
    dash: str | None = None


# Self in the brand teal with circles and a solid line; teacher in the accent orange with squares, dashed.
SERIES_STYLES = {
    "self": SeriesStyle("#1d5c63", "circle"),
    "teacher": SeriesStyle("#b3541e", "square", "6 4"),
}
FALLBACK_STYLE = SeriesStyle("#4a5565", "diamond", "2 3")


@dataclass
class ChartPoint:
    when: datetime
    position: int  # the level's place on the scale (1 is the first)
    label: str  # the level's label


@dataclass
class ChartSeries:
    key: str  # "self" or "teacher": chooses the colour and marker
    label: str  # shown in the legend
    points: list[ChartPoint] = field(default_factory=list)


@dataclass(frozen=True)
class ChartLevel:
    position: int
    label: str


# Geometry, in SVG user units (the chart scales to its container through viewBox).
WIDTH = 640
LEFT = 130
RIGHT = 30
TOP = 56
ROW = 44
BOTTOM = 46


def _format_date(when: datetime) -> str:
    return dates.day(when)


def _timestamp(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _marker(shape: str, x: float, y: float, style: SeriesStyle, *, css_class: str, tooltip: str) -> str:
    common = f'class="{css_class}" fill="{style.colour}" stroke="#ffffff" stroke-width="1.5"'
    if shape == "square":
        body = f'<rect {common} x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12">'
        end = "</rect>"
    elif shape == "diamond":
        body = f'<path {common} d="M{x:.1f} {y - 8:.1f} L{x + 8:.1f} {y:.1f} L{x:.1f} {y + 8:.1f} L{x - 8:.1f} {y:.1f} Z">'
        end = "</path>"
    else:
        body = f'<circle {common} cx="{x:.1f}" cy="{y:.1f}" r="7">'
        end = "</circle>"
    return f"{body}<title>{escape(tooltip)}</title>{end}"


def growth_chart_svg(
    *, levels: Sequence, series: Sequence[ChartSeries], title: str, chart_id: str = "growth-chart"
) -> Markup:
    """A line chart of ratings over time, one line per series, levels up the side and dates along the bottom.

    `levels` are anything with `position` and `label` (ProficiencyLevel rows or ChartLevel), in scale order.
    The SVG has role="img", a <title> and a <desc> (aria-labelledby names both); pair it with a table.
    """
    levels = sorted(levels, key=lambda level: level.position)
    rank = {level.position: index for index, level in enumerate(levels)}
    rows = max(len(levels), 1)
    height = TOP + ROW * (rows - 1) + BOTTOM + 20
    plot_bottom = TOP + ROW * (rows - 1)
    points = [point for each in series for point in each.points if point.position in rank]
    times = [_timestamp(point.when) for point in points]
    start, end = (min(times), max(times)) if times else (0.0, 0.0)

    def x_of(when: datetime) -> float:
        if end == start:
            return LEFT + (WIDTH - LEFT - RIGHT) / 2
        return LEFT + (WIDTH - LEFT - RIGHT) * (_timestamp(when) - start) / (end - start)

    def y_of(position: int) -> float:
        return plot_bottom - ROW * rank[position]

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    total = len(points)
    if points:
        first, last = min(points, key=lambda p: _timestamp(p.when)), max(points, key=lambda p: _timestamp(p.when))
        description = ngettext(
            "%(num)s rating, on %(first)s: %(label)s.",
            "%(num)s ratings from %(first)s to %(last)s; the latest is %(label)s.",
            total, first=_format_date(first.when), last=_format_date(last.when), label=last.label,
        )
    else:
        description = _("No ratings yet.")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="growth-chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    # The scale: one gridline per level, labelled on the left.
    for level in levels:
        y = y_of(level.position)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d5dcdf" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 12}" y="{y + 4:.1f}" text-anchor="end" fill="#1b2430">{escape(level.label)}</text>')
    axis = plot_bottom + 14
    parts.append(f'<line x1="{LEFT}" y1="{axis}" x2="{WIDTH - RIGHT}" y2="{axis}" stroke="#7a8694" stroke-width="1"/>')
    # Dates along the bottom: the first and the last (or the only one, in the middle).
    if points:
        axis_y = plot_bottom + 34
        dates = [(x_of(first.when), "middle", first.when)] if end == start else [
            (LEFT, "start", first.when), (WIDTH - RIGHT, "end", last.when)]
        for x, anchor, when in dates:
            parts.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="{anchor}" fill="#4a5565">'
                         f'{escape(_format_date(when))}</text>')
    # The legend, across the top: marker, line sample and name of each series.
    legend_x = LEFT
    for each in series:
        style = SERIES_STYLES.get(each.key, FALLBACK_STYLE)
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        parts.append(f'<g class="growth-chart__legend growth-chart__legend--{escape(each.key)}">')
        parts.append(f'<line x1="{legend_x}" y1="18" x2="{legend_x + 34}" y2="18" stroke="{style.colour}" stroke-width="3"{dash}/>')
        parts.append(_marker(style.marker, legend_x + 17, 18, style, css_class="growth-chart__key", tooltip=each.label))
        parts.append(f'<text x="{legend_x + 42}" y="22" fill="#1b2430">{escape(each.label)}</text></g>')
        legend_x += 60 + 8 * len(each.label)
    # Each series: a line through its points in time order, and a marker (with a tooltip) on each.
    for each in series:
        style = SERIES_STYLES.get(each.key, FALLBACK_STYLE)
        ordered = sorted((p for p in each.points if p.position in rank), key=lambda p: _timestamp(p.when))
        if len(ordered) > 1:
            path = " ".join(f"{x_of(p.when):.1f},{y_of(p.position):.1f}" for p in ordered)
            dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{style.colour}" stroke-width="3"{dash}/>')
        for point in ordered:
            tooltip = f"{each.label}, {_format_date(point.when)}: {point.label}"
            parts.append(_marker(style.marker, x_of(point.when), y_of(point.position), style,
                                 css_class=f"growth-chart__point growth-chart__point--{escape(each.key)}", tooltip=tooltip))
    parts.append("</svg>")
    return Markup("".join(parts))
