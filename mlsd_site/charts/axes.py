"""The layout of a chart on x/y axes: the plot frame that maps data to pixels, and the
gridlines, tick labels, axis labels and legend around it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mlsd_site.charts.scales import (
    DEFAULT_FORMAT,
    axis_range,
    compact_count,
    coord,
    finite,
    tick_labels,
)
from mlsd_site.charts.svg import (
    GRID,
    INK_2,
    LABEL_SIZE,
    MUTED,
    PAD,
    TICK_SIZE,
    LegendItem,
    legend,
    legend_height,
)
from mlsd_site.charts.text import clean_text, escape, fit, text_width

_PX_LIMIT = 1e6  # pixel coordinates are clamped to this, so absurd data cannot overflow


@dataclass(frozen=True)
class Frame:
    """The plot area in pixels and the data ranges it shows."""

    left: float
    top: float
    width: float
    height: float
    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def px(self, x: float) -> float:
        value = self.left + (x - self.x0) / (self.x1 - self.x0) * self.width
        return min(max(value, -_PX_LIMIT), _PX_LIMIT)

    def py(self, y: float) -> float:
        value = self.bottom - (y - self.y0) / (self.y1 - self.y0) * self.height
        return min(max(value, -_PX_LIMIT), _PX_LIMIT)

    def inside(self, x: float, y: float, slack: float = 0.5) -> bool:
        return (
            self.left - slack <= x <= self.right + slack
            and self.top - slack <= y <= self.bottom + slack
        )


@dataclass(frozen=True)
class XAxis:
    """Numeric axis (``labels`` None) or fixed labelled positions."""

    lo: float
    hi: float
    expand: bool = False
    fmt: str = DEFAULT_FORMAT
    labels: Sequence[tuple[float, str]] | None = None
    grid: bool = True
    rotate: bool = False


def cartesian_layout(
    *,
    width: int,
    height: int,
    legend_items: Sequence[LegendItem],
    x_axis: XAxis,
    y_lo: float,
    y_hi: float,
    y_expand: bool,
    y_fmt: str | None,
    x_label: str,
    y_label: str,
    y_min_step: float = 0.0,
    top_extra: float = 0.0,
    x_gutters: tuple[float, float] = (0.0, 0.0),
) -> tuple[Frame, list[str]]:
    """Lay out a cartesian chart: the plot frame and the SVG of everything but the data
    (legend, gridlines, x axis, tick labels, axis labels). ``y_fmt`` None labels the y
    axis with counts (12k, 1.2M). ``x_gutters`` reserves that many pixels left and right of
    the frame, under the gridlines but off the x axis, for marks beyond its range (a
    histogram's overflow bins); no x tick label reaches into them."""
    legend_h = legend_height(legend_items, width - 2 * PAD) if len(legend_items) > 1 else 0.0
    top = 30 + (legend_h + 6 if legend_h else 0) + 6 + top_extra
    x_label = clean_text(x_label)
    y_label = clean_text(y_label)

    # x category labels may be rotated; reserve the room they need
    rotated_extra = 0.0
    if x_axis.labels is not None and x_axis.rotate:
        longest = max((text_width(t, TICK_SIZE) for _, t in x_axis.labels), default=0.0)
        rotated_extra = min(longest, 110.0) * math.sin(math.radians(35)) - 4
    bottom_margin = 22 + rotated_extra + (18 if x_label else 0) + 6
    plot_h = max(height - top - bottom_margin, 40.0)

    y_target = int(min(max(plot_h / 42, 2), 8))
    y0, y1, y_ticks = axis_range(y_lo, y_hi, y_target, expand=y_expand, min_step=y_min_step)
    y_labels = (
        tick_labels(y_ticks, y_fmt) if y_fmt is not None else [compact_count(t) for t in y_ticks]
    )
    y_labels = [fit(clean_text(t), 80, TICK_SIZE) for t in y_labels]
    tick_w = max((text_width(t, TICK_SIZE) for t in y_labels), default=0.0)
    left = PAD + (20 if y_label else 0) + tick_w + 8
    if x_axis.labels and x_axis.rotate:
        # the first rotated label reaches left of its bar: keep it inside the chart
        first = min(text_width(x_axis.labels[0][1], TICK_SIZE), 110.0)
        half_slot = (width - left - 16) / len(x_axis.labels) / 2
        left = max(left, PAD + first * math.cos(math.radians(35)) - half_slot + 4)

    def x_ticks_for(plot_w: float) -> tuple[float, float, list[float], list[str]]:
        if x_axis.labels is not None:
            return (
                x_axis.lo,
                x_axis.hi,
                [p for p, _ in x_axis.labels],
                [t for _, t in x_axis.labels],
            )
        target = int(min(max(plot_w / 70, 2), 10))
        while True:
            lo, hi, ticks = axis_range(x_axis.lo, x_axis.hi, target, expand=x_axis.expand)
            labels = [fit(clean_text(t), 90, TICK_SIZE) for t in tick_labels(ticks, x_axis.fmt)]
            needed = sum(text_width(t, TICK_SIZE) + 12 for t in labels)
            if needed <= plot_w or target <= 2:
                return lo, hi, ticks, labels
            target -= 1

    gutter_left, gutter_right = (max(finite(g) or 0.0, 0.0) for g in x_gutters)
    right = 16.0 + gutter_right
    plot_w = width - left - gutter_left - right
    x0, x1, x_ticks, x_labels = x_ticks_for(plot_w)
    if x_labels and x_axis.labels is None and not x_axis.rotate and not gutter_right:
        # the last tick label is centred on the right edge: keep it inside the chart
        right = max(16.0, text_width(x_labels[-1], TICK_SIZE) / 2 + 8)
        plot_w = max(width - left - right, 40.0)
        x0, x1, x_ticks, x_labels = x_ticks_for(plot_w)
    frame = Frame(left + gutter_left, top, plot_w, plot_h, x0, x1, y0, y1)
    grid_left, grid_right = frame.left - gutter_left, frame.right + gutter_right

    grid: list[str] = []
    text_y: list[str] = []
    for tick, label in zip(y_ticks, y_labels, strict=True):
        y = frame.py(tick)
        grid.append(f"M{coord(grid_left)} {coord(y)}H{coord(grid_right)}")
        text_y.append(
            f'<text x="{coord(grid_left - 6)}" y="{coord(y + 3.5)}">{escape(label)}</text>'
        )

    # x labels: thin out category labels that would collide
    positions = [(t, lab) for t, lab in zip(x_ticks, x_labels, strict=True) if x0 <= t <= x1]
    if gutter_left or gutter_right:
        # numbers of the axis stay over the axis: the gutters hold their own labels
        low = frame.left - 2 if gutter_left else -math.inf
        high = frame.right + 2 if gutter_right else math.inf
        positions = [
            (t, lab)
            for t, lab in positions
            if low <= frame.px(t) - text_width(lab, TICK_SIZE) / 2
            and frame.px(t) + text_width(lab, TICK_SIZE) / 2 <= high
        ]
    if x_axis.labels is not None and positions:
        slot = frame.width / max(len(positions), 1)
        if x_axis.rotate:
            stride = max(1, math.ceil(16 / slot))
            positions = [(t, fit(clean_text(lab), 110, TICK_SIZE)) for t, lab in positions]
        else:
            widest = max(text_width(clean_text(lab), TICK_SIZE) for _, lab in positions)
            widest = min(widest, 120.0)
            stride = max(1, math.ceil((widest + 10) / slot))
            positions = [(t, fit(clean_text(lab), 120, TICK_SIZE)) for t, lab in positions]
        positions = positions[::stride]
    text_x: list[str] = []
    for tick, label in positions:
        x = frame.px(tick)
        if x_axis.grid:
            grid.append(f"M{coord(x)} {coord(frame.top)}V{coord(frame.bottom)}")
        if x_axis.rotate:
            ty = frame.bottom + 14
            text_x.append(
                f'<text x="{coord(x)}" y="{coord(ty)}" text-anchor="end" '
                f'transform="rotate(-35 {coord(x)} {coord(ty)})">{escape(label)}</text>'
            )
        else:
            text_x.append(
                f'<text x="{coord(x)}" y="{coord(frame.bottom + 16)}">{escape(label)}</text>'
            )

    parts = [
        f'<path class="chart-grid" d="{"".join(grid)}" stroke="{GRID}" fill="none"/>'
        if grid
        else "",
        f'<path class="chart-axis" d="M{coord(frame.left)} {coord(frame.bottom)}'
        f'H{coord(frame.right)}" stroke="{MUTED}"/>',
        f'<g class="chart-ticks-y" fill="{MUTED}" text-anchor="end">{"".join(text_y)}</g>',
        f'<g class="chart-ticks-x" fill="{MUTED}" text-anchor="middle">{"".join(text_x)}</g>',
    ]
    if x_label:
        label = fit(x_label, frame.width, LABEL_SIZE)
        parts.append(
            f'<text class="chart-x-label" x="{coord(frame.left + frame.width / 2)}" '
            f'y="{coord(height - 8)}" text-anchor="middle" font-size="{LABEL_SIZE}" '
            f'fill="{INK_2}">{escape(label)}</text>'
        )
    if y_label:
        label = fit(y_label, frame.height, LABEL_SIZE)
        cy = frame.top + frame.height / 2
        parts.append(
            f'<text class="chart-y-label" x="{PAD + 9}" y="{coord(cy)}" text-anchor="middle" '
            f'transform="rotate(-90 {PAD + 9} {coord(cy)})" font-size="{LABEL_SIZE}" '
            f'fill="{INK_2}">{escape(label)}</text>'
        )
    if len(legend_items) > 1:
        parts.append(legend(legend_items, PAD, 30, width - 2 * PAD))
    return frame, parts


def diagonal_line(frame: Frame) -> str:
    """The y = x line across the visible part of the plot (ROC chance line, perfect
    calibration, predicted = actual)."""
    lo, hi = max(frame.x0, frame.y0), min(frame.x1, frame.y1)
    if lo >= hi:
        return ""
    return (
        f'<path class="chart-diagonal" d="M{coord(frame.px(lo))} {coord(frame.py(lo))}'
        f'L{coord(frame.px(hi))} {coord(frame.py(hi))}" stroke="{MUTED}" stroke-width="1.2" '
        f'stroke-dasharray="4 4" fill="none"/>'
    )
