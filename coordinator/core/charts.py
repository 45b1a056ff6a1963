"""Server-rendered SVG charts: readable without JavaScript, scaled to the screen by their viewBox, named
for screen readers by ``<title>`` and ``<desc>`` (pages give the numbers in a table beside them too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34
# Distinguishable in colour and, for those who do not see colour, by the dash pattern.
STYLES = [
    ("#1b5e9e", ""),
    ("#c2410c", "6 3"),
    ("#15803d", "2 3"),
    ("#7e22ce", "8 3 2 3"),
    ("#a16207", "1 2"),
    ("#0e7490", "10 4"),
]


@dataclass(frozen=True)
class Line:
    """One line of a chart: a label and a value between 0 and 1 per date (None where it is not shown)."""

    label: str
    values: list[float | None]
    emphasis: bool = False


def progress_chart(
    *, chart_id: str, title: str, description: str, dates: list[date], lines: list[Line], deadline: date
) -> SafeString:
    """A line chart of progress (0–100 %) over ``dates``, a dashed line at the goal (100 %) and a mark at the
    deadline when it falls inside the dates. Every text is escaped."""
    first, last = dates[0], max(dates[-1], deadline)
    span = max(1, (last - first).days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + plot_w * (day - first).days / span, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - min(max(value, 0.0), 1.0)), 1)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        goal_dash = ' stroke-dasharray="4 3"' if tick == 1.0 else ""
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick)}" y2="{y(tick)}" class="grid" '
            f'stroke="#d4d4d8" stroke-width="1"{goal_dash}/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4}" text-anchor="end" font-size="12">'
            f"{int(tick * 100)} %</text>"
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="12">{escape(first.isoformat())}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" font-size="12" text-anchor="end">'
        f"{escape(last.isoformat())}</text>"
    )
    if first <= deadline <= last:
        parts.append(
            f'<line x1="{x(deadline)}" x2="{x(deadline)}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#b91c1c" '
            f'stroke-width="1.5" stroke-dasharray="3 3"/>'
        )
    for index, line in enumerate(lines):
        colour, dash = STYLES[index % len(STYLES)]
        points = " ".join(
            f"{x(day)},{y(value)}" for day, value in zip(dates, line.values, strict=True) if value is not None
        )
        if not points:
            continue
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        width = 3 if line.emphasis else 1.75
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="{width}"{dash_attr} points="{points}">'
            f"<title>{escape(line.label)}</title></polyline>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped; the rest are numbers


def legend(lines: list[Line]) -> list[tuple[str, str, str]]:
    """(label, colour, dash pattern) per line, for a legend beside the chart."""
    return [(line.label, *STYLES[index % len(STYLES)]) for index, line in enumerate(lines)]
