"""Radar (spider) charts: one polygon per series over named axes, e.g. rubric scores."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlsd_site.charts.scales import (
    DEFAULT_FORMAT,
    clean_points,
    coord,
    finite,
    format_number,
    nice_ticks,
)
from mlsd_site.charts.series import Series
from mlsd_site.charts.svg import (
    GRID,
    INK_2,
    LABEL_SIZE,
    MUTED,
    PAD,
    LegendItem,
    chart_size,
    document,
    legend,
    legend_height,
    no_data,
    safe_color,
)
from mlsd_site.charts.text import clean_text, escape, text_width, wrap


def radar_chart(
    *,
    axes: Sequence[str],
    series: Sequence[Series],
    max_value: float,
    title: str,
    size: int = 360,
) -> str:
    """A radar (spider) chart, e.g. rubric scores 1-4 on six axes. ``Series.points`` are
    (axis_index, value); values are clamped to [0, max_value]; an axis a series has no
    finite value for is drawn at the centre. ``max_value`` that is not a positive finite
    number is taken from the data. The chart is ``size`` wide; its height follows the
    labels and legend."""
    size = chart_size(size, 360, 220)
    title = clean_text(title)
    axis_names = [clean_text(a) for a in (axes or ())]
    n = len(axis_names)
    drawn: list[tuple[int, Series, dict[int, float]]] = []
    for index, item in enumerate(series or ()):
        values: dict[int, float] = {}
        for axis_raw, value_raw in clean_points(item.points):
            if axis_raw == int(axis_raw) and 0 <= int(axis_raw) < n:
                values[int(axis_raw)] = value_raw
        if values:
            drawn.append((index, item, values))
    if n == 0 or not drawn:
        return no_data(size, size, title, "radar")
    top_value = finite(max_value)
    if top_value is None or top_value <= 0:
        top_value = max((v for _, _, vals in drawn for v in vals.values()), default=1.0)
        top_value = top_value if top_value > 0 else 1.0

    colors = {index: safe_color(item.color, index) for index, item, _ in drawn}
    legend_items = [
        LegendItem(item.name, colors[index], "dashed" if item.dashed else "line")
        for index, item, _ in drawn
    ]
    legend_h = legend_height(legend_items, size - 2 * PAD) if len(legend_items) > 1 else 0.0
    top = 30 + (legend_h + 6 if legend_h else 0) + 8

    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]
    gap = 10.0
    line_h = 14.0
    cx = size / 2

    # the largest radius (up to 0.34 * size) that leaves every side label room for its
    # longest word and, if the label is longer, about a fifth of the width; labels then
    # wrap into that room
    radius = size * 0.34
    for angle, name in zip(angles, axis_names, strict=True):
        cos = math.cos(angle)
        word = max((text_width(w, LABEL_SIZE) for w in name.split()), default=0.0)
        wanted = min(text_width(name, LABEL_SIZE), max(word, size * 0.2))
        if abs(cos) > 0.3:
            radius = min(radius, (size / 2 - PAD - wanted) / abs(cos) - gap)
    radius = min(max(radius, size * 0.2), size / 2 - 24)

    # label boxes: (anchor, x, first baseline y relative to centre, lines)
    layout: list[tuple[str, float, float, list[str]]] = []
    extents: list[float] = [-radius, radius]
    for angle, name in zip(angles, axis_names, strict=True):
        cos, sin = math.cos(angle), math.sin(angle)
        x = cx + (radius + gap) * cos
        y = (radius + gap) * sin
        if cos > 0.3:
            anchor, room = "start", size - PAD - x
        elif cos < -0.3:
            anchor, room = "end", x - PAD
        else:
            anchor, room = "middle", min(size * 0.5, size - 2 * PAD)
        lines = wrap(name, room, LABEL_SIZE, max_lines=3)
        block = line_h * len(lines)
        if sin < -0.3:
            first = y - block + line_h - 4
        elif sin > 0.3:
            first = y + line_h - 2
        else:
            first = y - block / 2 + line_h - 4
        extents += [first - line_h + 2, first + (len(lines) - 1) * line_h + 4]
        layout.append((anchor, x, first, lines))
    cy = top - min(extents)
    height = cy + max(extents) + PAD + 4

    body: list[str] = []
    ring_values = [t for t in nice_ticks(0.0, top_value, 4) if t > 0]
    if not ring_values or ring_values[-1] < top_value:
        ring_values.append(top_value)

    def vertex(i: int, value: float) -> tuple[float, float]:
        r = radius * value / top_value
        return cx + r * math.cos(angles[i]), cy + r * math.sin(angles[i])

    rings: list[str] = []
    for value in ring_values:
        if n >= 3:
            pts = [vertex(i, value) for i in range(n)]
            rings.append("M" + " ".join(f"{coord(x)} {coord(y)}" for x, y in pts) + "Z")
        else:
            r = radius * value / top_value
            rings.append(
                f"M{coord(cx - r)} {coord(cy)}a{coord(r)} {coord(r)} 0 1 0 {coord(2 * r)} 0"
                f"a{coord(r)} {coord(r)} 0 1 0 {coord(-2 * r)} 0"
            )
    body.append(f'<path class="chart-grid" d="{"".join(rings)}" fill="none" stroke="{GRID}"/>')
    for i in range(n):
        x, y = vertex(i, top_value)
        body.append(
            f'<line class="chart-spoke" x1="{coord(cx)}" y1="{coord(cy)}" x2="{coord(x)}" '
            f'y2="{coord(y)}" stroke="{GRID}"/>'
        )

    summaries: list[str] = []
    for index, item, values in drawn:
        color = escape(colors[index])
        name = clean_text(item.name)
        clamped = [min(max(values.get(i, 0.0), 0.0), top_value) for i in range(n)]
        pts = [vertex(i, v) for i, v in enumerate(clamped)]
        dash = ' stroke-dasharray="6 4"' if item.dashed else ""
        body.append(
            f'<polygon class="chart-series" data-series="{escape(name)}" '
            f'points="{" ".join(f"{coord(x)},{coord(y)}" for x, y in pts)}" fill="{color}" '
            f'fill-opacity="0.14" stroke="{color}" stroke-width="2" stroke-linejoin="round"'
            f"{dash}><title>{escape(name)}</title></polygon>"
        )
        dots = "".join(
            f'<circle cx="{coord(x)}" cy="{coord(y)}" r="3"><title>'
            f"{escape(f'{name}, {axis_names[i]}: ')}"
            f"{escape(format_number(DEFAULT_FORMAT, values[i]) if i in values else 'no value')}"
            f"</title></circle>"
            for i, (x, y) in enumerate(pts)
        )
        body.append(f'<g fill="{color}">{dots}</g>')
        summaries.append(
            f"{name}: "
            + ", ".join(
                f"{axis_names[i]} "
                f"{format_number(DEFAULT_FORMAT, values[i]) if i in values else 'none'}"
                for i in range(n)
            )
            + "."
        )

    # ring values with a white halo: between the first two spokes (no vertex dots there)
    # when there are five or more axes, else just right of the first spoke
    if n >= 5:
        mid, reach, shift, anchor = -math.pi / 2 + math.pi / n, math.cos(math.pi / n), 0, "middle"
    else:
        mid, reach, shift, anchor = -math.pi / 2, 1.0, 5, "start"
    ring_text = "".join(
        f'<text x="{coord(cx + radius * v / top_value * reach * math.cos(mid) + shift)}" '
        f'y="{coord(cy + radius * v / top_value * reach * math.sin(mid) + 4 + shift * 1.6)}">'
        f"{escape(format_number(DEFAULT_FORMAT, v))}</text>"
        for v in ring_values
    )
    body.append(
        f'<g class="chart-rings" fill="{MUTED}" stroke="#fff" stroke-width="3" '
        f'paint-order="stroke" text-anchor="{anchor}">{ring_text}</g>'
    )
    labels: list[str] = []
    for anchor, x, first, lines in layout:
        tspans = "".join(
            f'<tspan x="{coord(x)}" y="{coord(cy + first + k * line_h)}">{escape(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        labels.append(f'<text text-anchor="{anchor}">{tspans}</text>')
    body.append(
        f'<g class="chart-axis-labels" font-size="{LABEL_SIZE}" fill="{INK_2}">'
        f"{''.join(labels)}</g>"
    )
    if len(legend_items) > 1:
        body.append(legend(legend_items, PAD, 30, size - 2 * PAD))
    desc = (
        f"Radar chart of {n} axes scored 0 to {format_number(DEFAULT_FORMAT, top_value)}, "
        f"{len(drawn)} series. " + " ".join(summaries)
    )
    return document(size, height, title, desc, "radar", body)
