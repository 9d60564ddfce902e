"""Chart geometry for server-rendered SVG: stacked bars, lines and horizontal bars.

Only numbers come out of here (coordinates in a fixed viewBox); the templates draw them with
presentation attributes and CSS classes, so the charts need no script and no inline style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 600, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 24  # margins for the axis labels
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    y: float
    height: float
    css: str
    value: float


@dataclass(frozen=True)
class Column:
    """One bar: its place, its segments (bottom first) and its label."""

    x: float
    width: float
    label: str
    segments: list[Segment]


@dataclass(frozen=True)
class Line:
    """One series of a line chart, split where values are missing."""

    css: str
    name: str
    paths: list[str]  # each a `points` attribute value
    dots: list[tuple[float, float]]


@dataclass(frozen=True)
class Chart:
    """A chart in the fixed viewBox: columns or lines, the axis maximum and some x labels."""

    top_value: float
    columns: list[Column] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    x_labels: list[tuple[float, str, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom_y: int = TOP + PLOT_H

    @property
    def empty(self) -> bool:
        """True when every value is zero or missing."""
        return self.top_value <= 0


def nice_top(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - (value / top * PLOT_H if top else 0)


def x_labels(labels: Sequence[str], slot: float) -> list[tuple[float, str, str]]:
    """Labels under the first, middle and last slots: (x, text, text-anchor)."""
    if not labels:
        return []
    last = len(labels) - 1
    found = [(float(LEFT), labels[0], "start")]
    if last >= 2:
        found.append((LEFT + slot * (last // 2 + 0.5), labels[last // 2], "middle"))
    if last >= 1:
        found.append((float(LEFT + PLOT_W), labels[last], "end"))
    return found


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> Chart:
    """Bars of several series stacked bottom up; `series` is [(css class, values)]."""
    count = len(labels)
    totals = [sum(values[i] for _, values in series) for i in range(count)]
    top = nice_top(max(totals, default=0))
    slot = PLOT_W / max(1, count)
    columns = []
    for i, label in enumerate(labels):
        base, segments = 0.0, []
        for css, values in series:
            if values[i]:
                y = _y(base + values[i], top)
                segments.append(Segment(round(y, 1), round(_y(base, top) - y, 1), css, values[i]))
                base += values[i]
        x = LEFT + slot * i + slot * 0.1
        columns.append(Column(round(x, 1), round(slot * 0.8, 1), label, segments))
    return Chart(top, columns=columns, x_labels=x_labels(labels, slot))


def lines(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]]
) -> Chart:
    """A line per series [(css class, name, values)]; missing values break the line."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = nice_top(max(values, default=0))
    slot = PLOT_W / max(1, len(labels))
    drawn = []
    for css, name, points in series:
        paths: list[str] = []
        current: list[str] = []
        dots = []
        for i, value in enumerate(points):
            if value is None:
                paths, current = paths + ([" ".join(current)] if current else []), []
                continue
            x, y = round(LEFT + slot * (i + 0.5), 1), round(_y(value, top), 1)
            current.append(f"{x},{y}")
            dots.append((x, y))
        paths += [" ".join(current)] if current else []
        drawn.append(Line(css, name, paths, dots))
    return Chart(top, lines=drawn, x_labels=x_labels(labels, slot))
