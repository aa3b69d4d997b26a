"""Chart geometry for server-rendered SVG: numbers in, coordinates out.

The templates draw what these functions compute, so a chart needs no script, no CDN and no chart
library, works under a strict CSP and prints; every chart is shown beside a table of its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Room left of the bars for their labels, and around the plot for axes; in SVG user units.
LABEL_WIDTH = 190
PLOT_WIDTH = 420
BAR_HEIGHT = 22
BAR_GAP = 6
LINE_WIDTH = 640
LINE_HEIGHT = 240
MARGIN = 36


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    length: float
    # A second measure of the same row (attended beside registered), drawn below the first.
    second_value: int | None = None
    second_length: float = 0.0


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int


def bar_chart(rows: list[tuple[str, int]], second: list[int] | None = None) -> BarChart:
    """Horizontal bars, longest for the largest value (an empty chart has no bars); with ``second``,
    each row has a pair of bars on one scale."""
    top = max([value for _, value in rows] + (second or []), default=0) or 1
    bars = [
        Bar(
            label=label,
            value=value,
            y=index * (BAR_HEIGHT + BAR_GAP),
            length=round(PLOT_WIDTH * value / top, 1),
            second_value=second[index] if second else None,
            second_length=round(PLOT_WIDTH * second[index] / top, 1) if second else 0.0,
        )
        for index, (label, value) in enumerate(rows)
    ]
    height = max(len(rows) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT)
    return BarChart(
        bars=bars,
        width=LABEL_WIDTH + PLOT_WIDTH + 60,
        height=height,
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
    )


@dataclass(frozen=True)
class Marker:
    label: str
    x: float


@dataclass(frozen=True)
class Tick:
    label: str
    position: float


@dataclass(frozen=True)
class LineChart:
    points: str  # the polyline's "x,y x,y …"
    markers: list[Marker]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int
    height: int
    left: int
    bottom: int
    right: int
    top: int


def line_chart(series: list[tuple[date, int]], markers: list[tuple[date, str]]) -> LineChart:
    """A running total by day, with vertical lines at the marked days (inside the plotted span)."""
    left, right, top, bottom = MARGIN + 10, LINE_WIDTH - MARGIN, MARGIN // 2, LINE_HEIGHT - MARGIN
    days = [day for day, _ in series] + [day for day, _ in markers]
    first = min(days, default=date.today())
    last = max(days, default=first)
    span = max((last - first).days, 1)
    highest = max((value for _, value in series), default=0) or 1

    def x(day: date) -> float:
        return round(left + (right - left) * (day - first).days / span, 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / highest, 1)

    points = " ".join(f"{x(day)},{y(value)}" for day, value in series)
    x_ticks = [Tick(label=first.isoformat(), position=left), Tick(label=last.isoformat(), position=right)]
    y_ticks = [Tick(label=str(value), position=y(value)) for value in sorted({0, highest // 2, highest})]
    return LineChart(
        points=points,
        markers=[Marker(label=label, x=x(day)) for day, label in markers],
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        width=LINE_WIDTH,
        height=LINE_HEIGHT,
        left=left,
        bottom=bottom,
        right=right,
        top=top,
    )
