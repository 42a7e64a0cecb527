"""Charts on numeric x/y axes: lines (and steps and markers), histograms, scatter plots;
and the downsampling that keeps long series small."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlsd_site.charts.axes import Frame, XAxis, cartesian_layout, diagonal_line
from mlsd_site.charts.scales import (
    DEFAULT_FORMAT,
    axis_range,
    clean_points,
    compact_count,
    coord,
    finite,
    format_number,
    padded,
    span_text,
    valid_range,
)
from mlsd_site.charts.series import Series
from mlsd_site.charts.svg import (
    INK_2,
    MUTED,
    PALETTE,
    TICK_SIZE,
    LegendItem,
    chart_size,
    clip_polyline,
    document,
    no_data,
    path_d,
    safe_color,
)
from mlsd_site.charts.text import clean_text, escape, text_width

MAX_LINE_POINTS = 400
MAX_SCATTER_POINTS = 1500
# The natural size of a chart on numeric axes. Its text shrinks with the card it is drawn
# in, and a card's chart is about 300 px wide on both screens we check: a third of the
# submission page at 1366 px, and a phone at 390 px. At 320 units 12-unit text is drawn at
# 11.2 px or more there; a wider card shows the chart at its natural size (``max-width``),
# never larger. A page with room for more passes a ``width`` (the leaderboard's history).
CHART_WIDTH = 320
CHART_HEIGHT = 240


# --------------------------------------------------------------------------- sampling


def lttb(points: Sequence[tuple[float, float]], threshold: int) -> list[tuple[float, float]]:
    """Largest-triangle-three-buckets downsampling (keeps first, last and the peaks)."""
    n = len(points)
    if n <= threshold or threshold < 3:
        return list(points)
    sampled = [points[0]]
    bucket = (n - 2) / (threshold - 2)
    a = 0
    for i in range(threshold - 2):
        start = int(i * bucket) + 1
        end = int((i + 1) * bucket) + 1
        next_start, next_end = end, min(int((i + 2) * bucket) + 1, n)
        if next_end <= next_start:
            next_start, next_end = n - 1, n
        avg_x = sum(p[0] for p in points[next_start:next_end]) / (next_end - next_start)
        avg_y = sum(p[1] for p in points[next_start:next_end]) / (next_end - next_start)
        ax, ay = points[a]
        best, best_area = start, -1.0
        for j in range(start, end):
            x, y = points[j]
            area = abs((ax - avg_x) * (y - ay) - (ax - x) * (avg_y - ay))
            if area > best_area:
                best, best_area = j, area
        sampled.append(points[best])
        a = best
    sampled.append(points[-1])
    return sampled


def stride_sample(points: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    if len(points) <= limit:
        return list(points)
    return [points[(i * len(points)) // limit] for i in range(limit)]


def step_vertices(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pixel vertices of a step-after line: the value holds until the next x."""
    vertices: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(points):
        if i:
            vertices.append((x, vertices[-1][1]))
        vertices.append((x, y))
    return vertices


# --------------------------------------------------------------------------- line chart


def line_chart(
    *,
    series: Sequence[Series],
    title: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    diagonal: bool = False,
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
    y_format: str = DEFAULT_FORMAT,
    x_format: str = DEFAULT_FORMAT,
    x_ticks_labels: Sequence[str] | None = None,
    x_log: bool = False,
) -> str:
    """Lines, markers or steps on numeric axes: ROC (``diagonal=True`` for the chance line),
    precision-recall, NDCG@k, a metric per time slice (``x_ticks_labels`` names x = 0, 1, …),
    best score over time (``kind="step"``), a reliability diagram (points + diagonal),
    latency against request rate (``x_log=True``).

    Ranges default to the data, widened to whole tick steps; an invalid range (not finite,
    lo >= hi) is ignored. Data outside an explicit range is clipped at the plot edge.
    ``x_log``: a logarithmic x axis with a tick at each power of ten (points with x <= 0
    are dropped; ``x_range`` is in the data's units); tooltips and the description give the
    data's own x values.
    """
    width = chart_size(width, CHART_WIDTH, 200)
    height = chart_size(height, CHART_HEIGHT, 160)
    title = clean_text(title)
    drawn: list[tuple[int, Series, list[tuple[float, float]]]] = []
    for index, item in enumerate(series or ()):
        points = clean_points(item.points)
        if x_log:  # drawn at log10(x); tooltips and the description undo it
            points = [(math.log10(x), y) for x, y in points if x > 0]
        if points:
            drawn.append((index, item, points))
    if not drawn:
        return no_data(width, height, title, "line")

    all_x = [x for _, _, pts in drawn for x, _ in pts]
    all_y = [y for _, _, pts in drawn for _, y in pts]
    labels = [clean_text(t) for t in x_ticks_labels] if x_ticks_labels is not None else None
    if x_log:
        labels = None

    explicit_x = valid_range(x_range)
    if x_log and explicit_x:
        explicit_x = ((math.log10(explicit_x[0]), math.log10(explicit_x[1]))
                      if explicit_x[0] > 0 else None)
    decades: list[tuple[float, str]] | None = None
    if x_log:
        x_lo = explicit_x[0] if explicit_x else float(math.floor(min(all_x)))
        x_hi = explicit_x[1] if explicit_x else float(math.ceil(max(all_x)))
        if x_hi <= x_lo:
            x_hi = x_lo + 1.0
        x_expand = False
        decades = [(float(k), _decade_text(k))
                   for k in range(math.ceil(x_lo - 1e-9), math.floor(x_hi + 1e-9) + 1)]
    elif explicit_x:
        x_lo, x_hi, x_expand = explicit_x[0], explicit_x[1], False
    elif labels:
        x_lo = min(0.0, min(all_x)) - 0.5
        x_hi = max(len(labels) - 1.0, max(all_x)) + 0.5
        x_expand = False
    else:
        x_lo, x_hi, x_expand = min(all_x), max(all_x), True
    explicit_y = valid_range(y_range)
    if explicit_y:
        y_lo, y_hi, y_expand = explicit_y[0], explicit_y[1], False
    else:
        (y_lo, y_hi), y_expand = padded(min(all_y), max(all_y)), True

    colors = {index: safe_color(item.color, index) for index, item, _ in drawn}
    legend_items = [
        LegendItem(
            item.name,
            colors[index],
            "points"
            if item.kind == "points" or len(points) == 1
            else ("dashed" if item.dashed else "line"),
        )
        for index, item, points in drawn
    ]
    x_axis = XAxis(
        x_lo,
        x_hi,
        expand=x_expand,
        fmt=x_format,
        labels=decades or ([(float(i), t) for i, t in enumerate(labels)] if labels else None),
    )
    frame, body = cartesian_layout(
        width=width,
        height=height,
        legend_items=legend_items,
        x_axis=x_axis,
        y_lo=y_lo,
        y_hi=y_hi,
        y_expand=y_expand,
        y_fmt=y_format,
        x_label=x_label,
        y_label=y_label,
    )
    if diagonal:
        body.append(diagonal_line(frame))

    box = (frame.left - 1, frame.top - 1, frame.right + 1, frame.bottom + 1)
    summaries: list[str] = []
    for index, item, points in drawn:
        color = escape(colors[index])
        name = clean_text(item.name)
        pixels = [(frame.px(x), frame.py(y)) for x, y in points]
        sampled = lttb(pixels, MAX_LINE_POINTS)
        label = escape(name)
        if item.kind == "points" or len(points) == 1:
            circles = [
                f'<circle cx="{coord(x)}" cy="{coord(y)}" r="3.5"><title>{label}: '
                f"{escape(format_number(x_format, 10 ** dx if x_log else dx))}, "
                f"{escape(format_number(y_format, dy))}</title></circle>"
                for (x, y), (dx, dy) in zip(pixels, points, strict=True)
                if frame.inside(x, y)
            ][:MAX_LINE_POINTS]
            body.append(
                f'<g class="chart-series" data-series="{label}" fill="{color}" stroke="#fff" '
                f'stroke-width="1">{"".join(circles)}</g>'
            )
        else:
            vertices = step_vertices(sampled) if item.kind == "step" else sampled
            d = path_d(clip_polyline(vertices, box))
            dash = ' stroke-dasharray="6 4"' if item.dashed else ""
            if d:
                body.append(
                    f'<path class="chart-series" data-series="{label}" d="{d}" fill="none" '
                    f'stroke="{color}" stroke-width="2" stroke-linejoin="round" '
                    f'stroke-linecap="round"{dash}><title>{label}</title></path>'
                )
        xs, ys = [10 ** p[0] if x_log else p[0] for p in points], [p[1] for p in points]
        x_text = f"x {span_text(xs, x_format)}" if not labels else f"{len(set(xs))} x positions"
        summaries.append(
            f"{name}: {len(points)} points"
            + (f" (drawn as {len(sampled)})" if len(sampled) < len(points) else "")
            + f", {x_text}, y {span_text(ys, y_format)}."
        )
    x_name, y_name = clean_text(x_label) or "x", clean_text(y_label) or "y"
    desc = f"Line chart of {y_name} against {x_name} with {len(drawn)} series. " + " ".join(
        summaries
    )
    if labels:
        desc += " X positions: " + ", ".join(labels[:24]) + ("…" if len(labels) > 24 else "") + "."
    if diagonal:
        desc += " A dashed diagonal marks y = x."
    if x_log:
        desc += " The x axis is logarithmic."
    return document(width, height, title, desc, "line", body)


def _decade_text(power: int) -> str:
    """A log axis's tick: 0.01, 0.1, 1, 10, 100, 1000, 10k, 100k, 1M."""
    value = 10.0 ** power
    return compact_count(value) if value >= 1e4 else f"{value:g}"


# --------------------------------------------------------------------------- histogram


def histogram(
    *,
    edges: Sequence[float],
    counts: Sequence[int],
    title: str,
    x_label: str,
    y_label: str = "rows",
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
    highlight_zero: bool = True,
    below: float = 0,
    above: float = 0,
) -> str:
    """Bars between consecutive ``edges`` (``len(edges) == len(counts) + 1``), e.g. residuals,
    with a dashed marker at x = 0 when 0 lies inside the range and ``highlight_zero``.
    Bins with a non-finite edge or count, or with right edge <= left edge, are dropped;
    negative counts count as 0.

    ``below`` and ``above`` count what lies beyond the edges (a range clipped to
    percentiles): each that is more than 0 is drawn as a grey overflow bin off the end of
    the x axis, labelled "< first edge" or "> last edge" (class ``chart-overflow``), on
    the same count scale."""
    width = chart_size(width, CHART_WIDTH, 200)
    height = chart_size(height, CHART_HEIGHT, 160)
    title = clean_text(title)
    edges = list(edges or ())
    counts = list(counts or ())
    if not edges and not counts:
        return no_data(width, height, title, "histogram")
    if len(edges) != len(counts) + 1:
        raise ValueError(
            f"histogram needs len(edges) == len(counts) + 1, got {len(edges)} and {len(counts)}"
        )
    bins: list[tuple[float, float, float]] = []
    for i, count_raw in enumerate(counts):
        left, right, count = finite(edges[i]), finite(edges[i + 1]), finite(count_raw)
        if left is None or right is None or count is None or not right > left:
            continue
        bins.append((left, right, max(count, 0.0)))
    if not bins:
        return no_data(width, height, title, "histogram")

    lo, hi = min(b[0] for b in bins), max(b[1] for b in bins)
    tails = [
        (max(finite(below) or 0.0, 0.0), f"< {format_number(DEFAULT_FORMAT, lo)}"),
        (max(finite(above) or 0.0, 0.0), f"> {format_number(DEFAULT_FORMAT, hi)}"),
    ]
    left_gutter, right_gutter = (
        text_width(label, TICK_SIZE) + 14 if count else 0.0 for count, label in tails
    )
    gutters = (left_gutter, right_gutter)
    top_count = max(max(b[2] for b in bins), *(count for count, _ in tails))
    total = sum(b[2] for b in bins)
    frame, body = cartesian_layout(
        width=width,
        height=height,
        legend_items=[],
        x_axis=XAxis(lo, hi),
        y_lo=0.0,
        y_hi=max(top_count, 1.0),
        y_expand=True,
        y_fmt=None,
        x_label=x_label,
        y_label=y_label,
        y_min_step=1.0,
        top_extra=10.0 if highlight_zero and lo < 0 < hi else 0.0,
        x_gutters=gutters,
    )
    unit = clean_text(y_label) or "rows"
    rects: list[str] = []
    for left, right, count in bins:
        x_l, x_r = frame.px(left), frame.px(right)
        gap = 1.0 if x_r - x_l > 3 else 0.0
        y = frame.py(count)
        if count <= 0:
            continue
        rects.append(
            f'<rect x="{coord(x_l + gap / 2)}" y="{coord(y)}" '
            f'width="{coord(max(x_r - x_l - gap, 0.5))}" height="{coord(frame.bottom - y)}"><title>'
            f"{escape(f'{DEFAULT_FORMAT.format(left)} to {DEFAULT_FORMAT.format(right)}')}: "
            f"{escape(f'{count:,.0f}')} {escape(unit)}</title></rect>"
        )
    body.append(
        f'<g class="chart-bars" fill="{PALETTE[0]}" fill-opacity="0.85">{"".join(rects)}</g>'
    )
    tail_text = _overflow_bins(frame, body, tails, gutters, unit)
    # redraw the baseline over the bars
    body.append(
        f'<path d="M{coord(frame.left - gutters[0])} {coord(frame.bottom)}'
        f'H{coord(frame.right + gutters[1])}" stroke="{MUTED}"/>'
    )
    zero_text = ""
    if highlight_zero and lo < 0 < hi:
        x = frame.px(0.0)
        body.append(
            f'<path class="chart-zero" '
            f'd="M{coord(x)} {coord(frame.top - 2)}V{coord(frame.bottom)}" '
            f'stroke="{PALETTE[2]}" stroke-width="2"/>'
            f'<text x="{coord(x)}" y="{coord(frame.top - 6)}" text-anchor="middle" '
            f'fill="{PALETTE[2]}" font-weight="600">0</text>'
        )
        below = sum(c for left, right, c in bins if right <= 0)
        zero_text = (
            f" A line marks 0; {below / total:.0%} of {unit} lie in bins below 0."
            if total
            else " A line marks 0."
        )
    peak = max(bins, key=lambda b: b[2])
    x_name = clean_text(x_label) or "values"
    desc = (
        f"Histogram of {x_name}: {len(bins)} bins from {format_number(DEFAULT_FORMAT, lo)} to "
        f"{format_number(DEFAULT_FORMAT, hi)}, {total:,.0f} {unit} in all; the tallest bin, "
        f"{format_number(DEFAULT_FORMAT, peak[0])} to "
        f"{format_number(DEFAULT_FORMAT, peak[1])}, holds "
        f"{peak[2]:,.0f} {unit}.{zero_text}{tail_text}"
    )
    return document(width, height, title, desc, "histogram", body)


def _overflow_bins(
    frame: Frame,
    body: list[str],
    tails: Sequence[tuple[float, str]],
    gutters: Sequence[float],
    unit: str,
) -> str:
    """Draw the overflow bins in the gutters beside ``frame``; return their description."""
    said: list[str] = []
    for side, ((count, label), gutter) in enumerate(zip(tails, gutters, strict=True)):
        if not count:
            continue
        # the bin fills its gutter but for a gap that sets it apart from the axis
        x_l = frame.left - gutter + 3 if side == 0 else frame.right + 8
        bar_w = gutter - 11
        y = frame.py(count)
        where = "below" if side == 0 else "above"
        edge = label[2:]
        tip = f"{count:,.0f} {unit} {where} {edge}, beyond the range drawn"
        body.append(
            f'<g class="chart-overflow" data-side="{where}">'
            f'<rect x="{coord(x_l)}" y="{coord(y)}" width="{coord(bar_w)}" '
            f'height="{coord(frame.bottom - y)}" fill="{MUTED}" fill-opacity="0.7">'
            f"<title>{escape(tip)}</title></rect>"
            f'<text x="{coord(x_l + bar_w / 2)}" y="{coord(frame.bottom + 16)}" '
            f'text-anchor="middle" fill="{INK_2}">{escape(label)}</text></g>'
        )
        said.append(f"{count:,.0f} {unit} lie {where} {edge}")
    if not said:
        return ""
    return (
        " Beyond the range drawn, "
        + " and ".join(said)
        + ": the grey bins at the ends count them."
    )


# --------------------------------------------------------------------------- scatter


def scatter(
    *,
    points: Sequence[tuple[float, float]],
    title: str,
    x_label: str,
    y_label: str,
    diagonal: bool = True,
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
) -> str:
    """Markers for (x, y) pairs, e.g. predicted vs actual. With ``diagonal`` both axes share
    one range and a dashed y = x line marks perfect predictions. At most
    ``MAX_SCATTER_POINTS`` points are drawn (an even stride through the data)."""
    width = chart_size(width, CHART_WIDTH, 200)
    height = chart_size(height, CHART_HEIGHT, 160)
    title = clean_text(title)
    cleaned = clean_points(points)
    if not cleaned:
        return no_data(width, height, title, "scatter")
    xs, ys = [p[0] for p in cleaned], [p[1] for p in cleaned]
    if diagonal:
        lo, hi = min(min(xs), min(ys)), max(max(xs), max(ys))
        # one shared range, so y = x runs corner to corner
        lo, hi, _ = axis_range(*padded(lo, hi), 5, expand=True)
        x_lo, x_hi, y_lo, y_hi = lo, hi, lo, hi
    else:
        (x_lo, x_hi), (y_lo, y_hi) = padded(min(xs), max(xs)), padded(min(ys), max(ys))
    frame, body = cartesian_layout(
        width=width,
        height=height,
        legend_items=[],
        x_axis=XAxis(x_lo, x_hi, expand=not diagonal),
        y_lo=y_lo,
        y_hi=y_hi,
        y_expand=not diagonal,
        y_fmt=DEFAULT_FORMAT,
        x_label=x_label,
        y_label=y_label,
    )
    if diagonal:
        body.append(diagonal_line(frame))
    shown = stride_sample(cleaned, MAX_SCATTER_POINTS)
    radius = "3" if len(shown) <= 300 else "2.2"
    circles = "".join(
        f'<circle cx="{coord(frame.px(x))}" cy="{coord(frame.py(y))}" r="{radius}"/>'
        for x, y in shown
    )
    body.append(f'<g class="chart-series" fill="{PALETTE[0]}" fill-opacity="0.55">{circles}</g>')
    desc = (
        f"Scatter plot of {clean_text(y_label) or 'y'} against {clean_text(x_label) or 'x'}: "
        f"{len(cleaned)} points"
        + (f" ({len(shown)} drawn)" if len(shown) < len(cleaned) else "")
        + f", x {span_text(xs, DEFAULT_FORMAT)}, y {span_text(ys, DEFAULT_FORMAT)}."
        + (" A dashed diagonal marks y = x." if diagonal else "")
    )
    return document(width, height, title, desc, "scatter", body)
