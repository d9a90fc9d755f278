"""Inline SVG charts, rendered on the server: no JavaScript, no external files.

Every function takes plain numbers and returns an ``<svg>`` document fragment (a ``str``
the templates mark safe). Every text is escaped here. Colours and fonts come from the
admin stylesheet through the ``class`` attributes, so the charts follow the page style
and work under a Content-Security-Policy without ``'unsafe-inline'``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

DEFAULT_WIDTH = 760
DEFAULT_HEIGHT = 260
MARKER_LIMIT = 40  # above this many points, a line gets no dot per point
TICK_CHAR_PX = 7.0  # generous width of one character of an 11 px axis label
EMPTY_HEIGHT = 120


@dataclass(frozen=True, slots=True)
class Frame:
    """The drawing area inside an SVG of ``width`` x ``height`` pixels, with margins."""

    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    left: int = 52
    right: int = 20
    top: int = 18
    bottom: int = 40

    @property
    def inner_width(self) -> float:
        """Width of the plotting area."""
        return float(self.width - self.left - self.right)

    @property
    def inner_height(self) -> float:
        """Height of the plotting area."""
        return float(self.height - self.top - self.bottom)

    @property
    def baseline(self) -> float:
        """The y pixel of the value 0."""
        return float(self.height - self.bottom)

    def x(self, value: float, lo: float, hi: float) -> float:
        """Pixel x of ``value`` on an axis from ``lo`` (left edge) to ``hi`` (right edge)."""
        if hi <= lo:
            return self.left + self.inner_width / 2
        return self.left + (value - lo) / (hi - lo) * self.inner_width

    def y(self, value: float, top_value: float) -> float:
        """Pixel y of ``value`` on an axis from 0 (baseline) to ``top_value`` (top edge)."""
        if top_value <= 0:
            return self.baseline
        return self.baseline - value / top_value * self.inner_height


def nice_scale(max_value: float, *, ticks: int = 4, integer: bool = True) -> tuple[float, float]:
    """The axis top and the step between gridlines: 1, 2, 2.5 or 5 times a power of ten.

    The top is the first step multiple at or above ``max_value`` (one step for 0). With
    ``integer``, steps are whole numbers (counts of people never show 0.5).
    """
    raw = max(max_value, 0.0) / ticks
    if raw <= 0:
        return 1.0, 1.0
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)
    step = next(f * power for f in factors if f * power >= raw - 1e-9)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    top = step * max(1, math.ceil(max_value / step - 1e-9))
    return float(top), float(step)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def _open(frame: Frame, label: str, css: str) -> str:
    text = escape(label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
        f'height="{frame.height}" aria-label="{text}"><title>{text}</title>'
    )


def _y_grid(frame: Frame, top_value: float, step: float) -> list[str]:
    parts = []
    for i in range(round(top_value / step) + 1):
        value = step * i
        y = frame.y(value, top_value)
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{frame.left - 8}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_num(value)}</text>'
        )
    return parts


def empty_chart(message: str, *, height: int = EMPTY_HEIGHT) -> str:
    """A placeholder with ``message`` where there is nothing to draw.

    It has no ``viewBox``: drawn at the page's own scale, its text keeps the stylesheet's
    size in a narrow card (a scaled 760-pixel drawing shrank it to 9 px).
    """
    text = escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" role="img" '
        f'width="100%" height="{height}" aria-label="{text}"><title>{text}</title>'
        f'<text class="empty-note" x="50%" y="50%" dominant-baseline="middle" '
        f'text-anchor="middle">{text}</text></svg>'
    )


def _x_tick(frame: Frame, x: float, text: str) -> str:
    """An axis label centred under ``x``, or ending (starting) there when a centred label
    would be cut at the right (left) edge of the drawing."""
    half = len(text) * TICK_CHAR_PX / 2
    anchor = "middle"
    if x + half > frame.width:
        anchor = "end"
    elif x - half < 0:
        anchor = "start"
    return (
        f'<text class="tick" x="{x:.1f}" y="{frame.baseline + 18:.1f}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def line_chart(
    points: Sequence[tuple[float, float]],
    *,
    label: str,
    x_ticks: Sequence[tuple[float, str]] = (),
    point_labels: Sequence[str] = (),
    frame: Frame | None = None,
    y_max: float | None = None,
) -> str:
    """A line (with a filled area below) through ``points`` ``(x, y)``, y from 0 up.

    ``x_ticks`` puts labels under the axis at the given x values; ``point_labels`` (one
    per point) become hover tooltips on the point markers.
    """
    if not points:
        return empty_chart(f"{label}: no data")
    frame = frame or Frame()
    xs = [x for x, _ in points]
    lo, hi = min(xs), max(xs)
    top, step = nice_scale(y_max if y_max is not None else max(y for _, y in points))
    mapped = [(frame.x(x, lo, hi), frame.y(y, top)) for x, y in points]
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in mapped)
    area = (
        f"{mapped[0][0]:.1f},{frame.baseline:.1f} {line} {mapped[-1][0]:.1f},{frame.baseline:.1f}"
    )
    parts = [_open(frame, label, "line-chart"), *_y_grid(frame, top, step)]
    parts.append(f'<polygon class="area" points="{area}"/>')
    parts.append(f'<polyline class="series" fill="none" points="{line}"/>')
    if len(points) <= MARKER_LIMIT:
        parts.extend(_markers(points, mapped, point_labels))
    parts.extend(_x_tick(frame, frame.x(x, lo, hi), text) for x, text in x_ticks)
    parts.append("</svg>")
    return "".join(parts)


def _markers(
    points: Sequence[tuple[float, float]],
    mapped: Sequence[tuple[float, float]],
    labels: Sequence[str],
) -> list[str]:
    found = []
    for i, ((_, y), (px, py)) in enumerate(zip(points, mapped, strict=True)):
        tip = labels[i] if i < len(labels) else _num(y)
        found.append(
            f'<circle class="marker" cx="{px:.1f}" cy="{py:.1f}" r="4" data-value="{_num(y)}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    return found


def bar_chart(
    bars: Sequence[tuple[str, int]],
    *,
    label: str,
    unit: str = "people",
    frame: Frame | None = None,
) -> str:
    """Vertical bars, one per ``(category, count)``, with the count above each bar."""
    if not bars or not any(count for _, count in bars):
        return empty_chart(f"{label}: no data")
    frame = frame or Frame()
    top, step = nice_scale(max(count for _, count in bars))
    slot = frame.inner_width / len(bars)
    width = max(slot * 0.78, 1.0)
    parts = [_open(frame, label, "bar-chart"), *_y_grid(frame, top, step)]
    for i, (category, count) in enumerate(bars):
        x = frame.left + i * slot + (slot - width) / 2
        y = frame.y(count, top)
        center = x + width / 2
        tip = f"{category}: {count} {unit}"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{frame.baseline - y:.1f}" data-count="{count}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if count:
            parts.append(
                f'<text class="value" x="{center:.1f}" y="{y - 5:.1f}" '
                f'text-anchor="middle">{count}</text>'
            )
        parts.append(
            f'<text class="tick" x="{center:.1f}" y="{frame.baseline + 18:.1f}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(
    stages: Sequence[tuple[str, int]], *, label: str, width: int = DEFAULT_WIDTH
) -> str:
    """Horizontal bars, widest first, each with its count and its share of the first stage."""
    if not stages or not stages[0][1]:
        return empty_chart(f"{label}: no data")
    row, gap, label_w, value_w = 34, 12, 130, 120
    frame = Frame(width=width, height=len(stages) * (row + gap) + gap, left=label_w,
                  right=value_w, top=gap, bottom=0)  # fmt: skip
    first = stages[0][1]
    parts = [_open(frame, label, "funnel-chart")]
    for i, (stage, count) in enumerate(stages):
        y = gap + i * (row + gap)
        bar = frame.inner_width * count / first
        share = f"{count / first * 100:.0f}%"
        parts.append(
            f'<text class="stage" x="{label_w - 12}" y="{y + row / 2 + 5:.1f}" '
            f'text-anchor="end">{escape(stage)}</text>'
            f'<rect class="bar funnel-{i}" x="{label_w}" y="{y}" width="{max(bar, 1.0):.1f}" '
            f'height="{row}" rx="4" data-count="{count}"><title>{escape(stage)}: {count} '
            f"({share})</title></rect>"
            f'<text class="value" x="{label_w + max(bar, 1.0) + 10:.1f}" '
            f'y="{y + row / 2 + 5:.1f}">{count} · {share}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
