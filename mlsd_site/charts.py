"""Server-side SVG charts for Django templates (pure Python, standard library only, no JS).

Every public function takes keyword arguments only and returns the text of one complete
``<svg>`` element. The caller marks it safe (``mark_safe`` / ``|safe``), so this module
escapes every piece of caller text it embeds (titles, labels, legend names, tick labels,
colours) with :func:`html.escape`, and strips characters that XML 1.0 forbids.

Conventions
-----------
* Non-finite or non-numeric numbers are dropped: a point whose x or y is NaN, inf or not a
  number is left out, a bar with such a value is left out. Data that ends up empty draws a
  valid chart that says "No data".
* Structural mistakes by the caller (a histogram whose ``edges`` are not one longer than its
  ``counts``, a ``reference`` list of the wrong length, an unknown ``Series.kind``) raise
  ``ValueError``.
* Output is deterministic (no ids, no randomness) and compact (coordinates rounded to one
  decimal). Charts are responsive: ``viewBox`` + ``width="100%"`` and a ``max-width`` style of
  the natural width, so they shrink on small screens but never blow up their 11-13px text.
* Accessible: ``role="img"``, ``aria-label`` and ``<title>`` carry the chart title, ``<desc>``
  summarises the data (series, point counts, ranges).
* Line series with more than ``MAX_LINE_POINTS`` points are downsampled with
  largest-triangle-three-buckets (in pixel space, so peaks survive); scatter plots keep at
  most ``MAX_SCATTER_POINTS`` points (an even, deterministic stride).
* Elements carry ``class`` names (``chart-series``, ``chart-diagonal``, ``chart-bar``,
  ``chart-reference``, ``chart-spoke``, ...) so templates and tests can find them; all
  styling is done with presentation attributes.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "PALETTE",
    "WARNING",
    "Series",
    "bar_chart",
    "histogram",
    "line_chart",
    "nice_ticks",
    "radar_chart",
    "scatter",
]

PALETTE = ("#4f46e5", "#0e7490", "#c2410c", "#15803d", "#a21caf")
WARNING = "#b91c1c"  # the site's --bad colour: bars over their reference
INK = "#111827"
INK_2 = "#374151"
MUTED = "#6b7280"
GRID = "#e5e7eb"
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
MAX_LINE_POINTS = 400
MAX_SCATTER_POINTS = 1500
KINDS = ("line", "points", "step")

_TITLE_SIZE = 13
_LABEL_SIZE = 12
_TICK_SIZE = 11
_PAD = 10
_LEGEND_ROW = 18
_PX_LIMIT = 1e6  # pixel coordinates are clamped to this, so absurd data cannot overflow
_DEFAULT_FORMAT = "{:.3g}"


@dataclass(frozen=True)
class Series:
    """One data series. ``points`` are (x, y) pairs; for :func:`radar_chart` they are
    (axis_index, value). ``kind``: "line", "points" (markers only) or "step" (the value holds
    until the next x, e.g. best score so far)."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str | None = None
    dashed: bool = False
    kind: str = "line"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Series.kind must be one of {KINDS}, not {self.kind!r}")


# --------------------------------------------------------------------------- text helpers

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_COLOR_OK = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}|(?:rgb|hsl)a?\([0-9.,%\s/a-z]{1,60}\)")


def _esc(text: object) -> str:
    """Escape for XML text and attribute values; drop characters XML 1.0 cannot hold."""
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def _clean_text(text: object) -> str:
    """Caller text as a single line (newlines and tabs become spaces)."""
    return " ".join(_XML_INVALID.sub("", str(text)).split())


def _char_em(ch: str) -> float:
    """Approximate advance of ``ch`` in em; sized for wide fallbacks such as DejaVu Sans."""
    if ch == " ":
        return 0.32
    if ch in "il.,:;'|!ftjrI1()[]{}`":
        return 0.36
    if ch in "mwMW@%&":
        return 0.9
    if ch.isdigit():
        return 0.62
    if ch.isupper():
        return 0.7
    if ord(ch) > 0x2E80:  # CJK and wider scripts
        return 1.0
    return 0.6


def _text_width(text: str, size: float) -> float:
    """A generous estimate of the rendered width of ``text`` in system-ui at ``size`` px."""
    return sum(_char_em(ch) for ch in text) * size


def _fit(text: str, max_px: float, size: float) -> str:
    """``text`` cut with an ellipsis so it fits into ``max_px``."""
    if _text_width(text, size) <= max_px:
        return text
    while text and _text_width(text + "…", size) > max_px:
        text = text[:-1]
    return text.rstrip() + "…" if text else "…"


def _wrap(text: str, max_px: float, size: float, max_lines: int = 2) -> list[str]:
    """Word-wrap ``text`` into at most ``max_lines`` lines of at most ``max_px``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and _text_width(candidate, size) > max_px:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    return [_fit(line, max_px, size) for line in lines] or [""]


def _num(value: float) -> str:
    """A coordinate with at most one decimal: 12, 12.5, -3.1."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _fmt(fmt: str, value: float) -> str:
    """Format a number with the caller's format string, falling back to 3 significant
    digits when the format does not suit the value."""
    if fmt == _DEFAULT_FORMAT and abs(value) >= 1e4:
        return _compact_count(value)  # 12k, 1.5M rather than 1.2e+04, 1.5e+06
    try:
        return str(fmt.format(value))
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
        return _DEFAULT_FORMAT.format(value)


def _safe_color(color: str | None, index: int) -> str:
    if isinstance(color, str) and _COLOR_OK.fullmatch(color.strip()):
        return color.strip()
    return PALETTE[index % len(PALETTE)]


# --------------------------------------------------------------------------- numbers


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _clean_points(points: Iterable[object] | None) -> list[tuple[float, float]]:
    """Finite (x, y) pairs; anything else (NaN, inf, None, wrong shape) is dropped."""
    cleaned: list[tuple[float, float]] = []
    for point in points if points is not None else ():
        try:
            x_raw, y_raw = point  # type: ignore[misc]
        except (TypeError, ValueError):
            continue
        x, y = _finite(x_raw), _finite(y_raw)
        if x is not None and y is not None:
            cleaned.append((x, y))
    return cleaned


def _valid_range(value: object) -> tuple[float, float] | None:
    try:
        lo_raw, hi_raw = value  # type: ignore[misc]
    except (TypeError, ValueError):
        return None
    lo, hi = _finite(lo_raw), _finite(hi_raw)
    if lo is None or hi is None or not lo < hi or not math.isfinite(hi - lo):
        return None
    return lo, hi


def _tidy(value: float) -> float:
    """Remove binary floating-point noise from a tick value (0.30000000000000004 -> 0.3)."""
    return float(f"{value:.12g}") + 0.0


def _nice_step(span: float, target: int) -> float:
    """The 1-2-5 step nearest (on a log scale) to ``span / target``."""
    raw = span / max(target, 1)
    base = 10.0 ** math.floor(math.log10(raw))
    candidates = [m * base for m in (1, 2, 5, 10)]
    return min(candidates, key=lambda step: abs(math.log(step / raw)))


def _ticks_with_step(lo: float, hi: float, step: float) -> list[float]:
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    if last - first > 1000:  # cannot happen with a sane target; guard anyway
        return [_tidy(lo), _tidy(hi)]
    ticks: list[float] = []
    for k in range(first, last + 1):
        tick = _tidy(k * step)
        if not ticks or tick != ticks[-1]:
            ticks.append(tick)
    return ticks


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Ticks inside [lo, hi] at the multiples of a 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, …),
    about ``target`` of them (roughly 0.7x to 1.5x ``target``)."""
    lo_f, hi_f = _finite(lo), _finite(hi)
    if lo_f is None or hi_f is None:
        return []
    lo_f, hi_f = min(lo_f, hi_f), max(lo_f, hi_f)
    if lo_f == hi_f:
        return [_tidy(lo_f)]
    if not math.isfinite(hi_f - lo_f):
        return [_tidy(lo_f), _tidy(hi_f)]
    return _ticks_with_step(lo_f, hi_f, _nice_step(hi_f - lo_f, target))


def _axis(
    lo: float, hi: float, target: int, *, expand: bool, min_step: float = 0.0
) -> tuple[float, float, list[float]]:
    """(lo, hi, ticks). With ``expand`` the range grows to whole steps around the data;
    ``min_step`` = 1 keeps count axes on whole numbers."""
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    if not math.isfinite(hi - lo):
        return lo, hi, [_tidy(lo), _tidy(hi)]
    step = max(_nice_step(hi - lo, target), min_step)
    if expand:
        lo = _tidy(math.floor(lo / step + 1e-9) * step)
        hi = _tidy(math.ceil(hi / step - 1e-9) * step)
    return lo, hi, _ticks_with_step(lo, hi, step)


def _padded(lo: float, hi: float, share: float = 0.02) -> tuple[float, float]:
    """Widen a data range a little so data does not sit on the frame, without crossing 0."""
    pad = (hi - lo) * share
    if not math.isfinite(pad) or pad == 0:
        return lo, hi
    new_lo = lo - pad if not (lo >= 0 > lo - pad) else 0.0
    new_hi = hi + pad if not (hi <= 0 < hi + pad) else 0.0
    return new_lo, new_hi


def _tick_labels(ticks: Sequence[float], fmt: str) -> list[str]:
    """Labels for ``ticks``; when the format makes neighbours equal, use enough decimals."""
    largest = max((abs(t) for t in ticks), default=0.0)
    if fmt == _DEFAULT_FORMAT and largest >= 1e4:
        # one unit for the whole axis: 800k, 1.2M would read as mixed scales
        divisor, suffix = next((d, u) for d, u in _UNITS if largest >= d)
        labels = [f"{t / divisor:.3g}{suffix}" if t else "0" for t in ticks]
    else:
        labels = [_fmt(fmt, t) for t in ticks]
    if len(set(labels)) < len(labels) and len(ticks) > 1:
        step = min(abs(b - a) for a, b in zip(ticks, ticks[1:], strict=False) if b != a)
        decimals = max(0, -math.floor(math.log10(step)) + 1) if step > 0 else 3
        labels = [f"{t:.{min(decimals, 12)}f}" for t in ticks]
    return labels


_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def _compact_count(value: float) -> str:
    """Large numbers for people: 950, 12k, 1.2M (from 10,000 up)."""
    if abs(value) >= 1e4:
        for divisor, suffix in _UNITS:
            if abs(value) >= divisor:
                return f"{value / divisor:.3g}{suffix}"
    return f"{value:.0f}" if value == int(value) else f"{value:.3g}"


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class _Frame:
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


def _clip_segment(
    a: tuple[float, float], b: tuple[float, float], box: tuple[float, float, float, float]
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Liang-Barsky: the part of segment a-b inside box (x0, y0, x1, y1), or None."""
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, ax - box[0]), (dx, box[2] - ax), (-dy, ay - box[1]), (dy, box[3] - ay)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            if t > t1:
                return None
            t0 = max(t0, t)
        else:
            if t < t0:
                return None
            t1 = min(t1, t)
    return (ax + t0 * dx, ay + t0 * dy), (ax + t1 * dx, ay + t1 * dy)


def _clip_polyline(
    points: Sequence[tuple[float, float]], box: tuple[float, float, float, float]
) -> list[list[tuple[float, float]]]:
    """Split a pixel polyline into the runs that lie inside ``box``."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    if len(points) == 1:
        x, y = points[0]
        inside = box[0] <= x <= box[2] and box[1] <= y <= box[3]
        return [[points[0]]] if inside else []
    for a, b in zip(points, points[1:], strict=False):
        clipped = _clip_segment(a, b, box)
        if clipped is None:
            if current:
                runs.append(current)
                current = []
            continue
        start, end = clipped
        if not current or current[-1] != start:
            if current:
                runs.append(current)
            current = [start]
        current.append(end)
        if end != b:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _path_d(runs: Sequence[Sequence[tuple[float, float]]]) -> str:
    """SVG path data: 'M x y x y …' per run (implicit lineto), repeated points removed."""
    parts: list[str] = []
    for run in runs:
        coords: list[str] = []
        previous = None
        for x, y in run:
            pair = f"{_num(x)} {_num(y)}"
            if pair != previous:
                coords.append(pair)
                previous = pair
        if len(coords) == 1:
            coords.append(coords[0])  # a lone point still shows with a round cap
        parts.append("M" + " ".join(coords))
    return "".join(parts)


def _lttb(points: Sequence[tuple[float, float]], threshold: int) -> list[tuple[float, float]]:
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


def _stride_sample(points: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    if len(points) <= limit:
        return list(points)
    return [points[(i * len(points)) // limit] for i in range(limit)]


def _step_vertices(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pixel vertices of a step-after line: the value holds until the next x."""
    vertices: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(points):
        if i:
            vertices.append((x, vertices[-1][1]))
        vertices.append((x, y))
    return vertices


# --------------------------------------------------------------------------- svg pieces


def _svg_open(width: float, height: float, title: str, kind: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{kind}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" style="max-width:{_num(width)}px" role="img" '
        f'aria-label="{_esc(title)}" font-family="{FONT_FAMILY}" font-size="{_TICK_SIZE}">'
    )


def _document(
    width: float, height: float, title: str, desc: str, kind: str, body: Sequence[str]
) -> str:
    title_px = _fit(title, width - 2 * _PAD, _TITLE_SIZE * 1.1)  # bold runs wider
    return "".join(
        [
            _svg_open(width, height, title, kind),
            f"<title>{_esc(title)}</title><desc>{_esc(desc)}</desc>",
            f'<text class="chart-title" x="{_PAD}" y="19" font-size="{_TITLE_SIZE}" '
            f'font-weight="600" fill="{INK}">{_esc(title_px)}</text>',
            *body,
            "</svg>",
        ]
    )


def _no_data(width: float, height: float, title: str, kind: str) -> str:
    body = [
        f'<rect x="{_PAD}" y="30" width="{_num(width - 2 * _PAD)}" '
        f'height="{_num(height - 30 - _PAD)}" rx="8" fill="none" stroke="{GRID}"/>',
        f'<text class="chart-empty" x="{_num(width / 2)}" y="{_num((height + 30) / 2)}" '
        f'text-anchor="middle" dominant-baseline="middle" font-size="{_LABEL_SIZE}" '
        f'fill="{MUTED}">No data</text>',
    ]
    return _document(width, height, title, "No data.", kind, body)


def _size(value: object, default: int, minimum: int) -> int:
    number = _finite(value)
    return max(int(number), minimum) if number is not None else default


@dataclass(frozen=True)
class _LegendItem:
    name: str
    color: str
    mark: str  # "line" | "dashed" | "points" | "box" | "tick"


def _legend_rows(items: Sequence[_LegendItem], max_width: float) -> list[list[tuple[str, float]]]:
    """Item names (fitted) and widths, wrapped into rows of at most ``max_width``."""
    rows: list[list[tuple[str, float]]] = [[]]
    used = 0.0
    for item in items:
        # at most 200px, and narrow enough for two items per row
        name = _fit(_clean_text(item.name), min(200.0, max_width / 2 - 40), _TICK_SIZE)
        width = 24 + _text_width(name, _TICK_SIZE) + 14
        if rows[-1] and used + width > max_width:
            rows.append([])
            used = 0.0
        rows[-1].append((name, width))
        used += width
    return rows


def _legend_height(items: Sequence[_LegendItem], max_width: float) -> float:
    return len(_legend_rows(items, max_width)) * _LEGEND_ROW if items else 0.0


def _legend(items: Sequence[_LegendItem], x0: float, y0: float, max_width: float) -> str:
    """A legend of swatches and names starting at (x0, y0), wrapping inside ``max_width``."""
    if not items:
        return ""
    parts = [f'<g class="chart-legend" fill="{INK_2}">']
    index = 0
    for r, row in enumerate(_legend_rows(items, max_width)):
        x = x0
        y = y0 + r * _LEGEND_ROW + _LEGEND_ROW / 2
        for name, width in row:
            item = items[index]
            index += 1
            color = _esc(item.color)
            if item.mark in ("line", "dashed"):
                dash = ' stroke-dasharray="5 3"' if item.mark == "dashed" else ""
                parts.append(
                    f'<path d="M{_num(x)} {_num(y)}h18" stroke="{color}" stroke-width="2.5"{dash}/>'
                )
            elif item.mark == "points":
                parts.append(f'<circle cx="{_num(x + 9)}" cy="{_num(y)}" r="4" fill="{color}"/>')
            elif item.mark == "tick":
                parts.append(
                    f'<path d="M{_num(x + 1)} {_num(y)}h16" stroke="{color}" stroke-width="2.5"/>'
                )
            else:
                parts.append(
                    f'<rect x="{_num(x + 2)}" y="{_num(y - 5)}" width="14" height="10" '
                    f'rx="2" fill="{color}"/>'
                )
            parts.append(f'<text x="{_num(x + 24)}" y="{_num(y + 4)}">{_esc(name)}</text>')
            x += width
    parts.append("</g>")
    return "".join(parts)


@dataclass(frozen=True)
class _XAxis:
    """Numeric axis (``labels`` None) or fixed labelled positions."""

    lo: float
    hi: float
    expand: bool = False
    fmt: str = _DEFAULT_FORMAT
    labels: Sequence[tuple[float, str]] | None = None
    grid: bool = True
    rotate: bool = False


def _cartesian(
    *,
    width: int,
    height: int,
    legend: Sequence[_LegendItem],
    x_axis: _XAxis,
    y_lo: float,
    y_hi: float,
    y_expand: bool,
    y_fmt: str | None,
    x_label: str,
    y_label: str,
    y_min_step: float = 0.0,
    top_extra: float = 0.0,
) -> tuple[_Frame, list[str]]:
    """Lay out a cartesian chart: the plot frame and the SVG of everything but the data
    (legend, gridlines, x axis, tick labels, axis labels)."""
    legend_h = _legend_height(legend, width - 2 * _PAD) if len(legend) > 1 else 0.0
    top = 30 + (legend_h + 6 if legend_h else 0) + 6 + top_extra
    x_label = _clean_text(x_label)
    y_label = _clean_text(y_label)

    # x category labels may be rotated; reserve the room they need
    rotated_extra = 0.0
    if x_axis.labels is not None and x_axis.rotate:
        longest = max((_text_width(t, _TICK_SIZE) for _, t in x_axis.labels), default=0.0)
        rotated_extra = min(longest, 110.0) * math.sin(math.radians(35)) - 4
    bottom_margin = 22 + rotated_extra + (18 if x_label else 0) + 6
    plot_h = max(height - top - bottom_margin, 40.0)

    y_target = int(min(max(plot_h / 42, 2), 8))
    y0, y1, y_ticks = _axis(y_lo, y_hi, y_target, expand=y_expand, min_step=y_min_step)
    y_labels = (
        _tick_labels(y_ticks, y_fmt) if y_fmt is not None else [_compact_count(t) for t in y_ticks]
    )
    y_labels = [_fit(_clean_text(t), 80, _TICK_SIZE) for t in y_labels]
    tick_w = max((_text_width(t, _TICK_SIZE) for t in y_labels), default=0.0)
    left = _PAD + (20 if y_label else 0) + tick_w + 8
    if x_axis.labels and x_axis.rotate:
        # the first rotated label reaches left of its bar: keep it inside the chart
        first = min(_text_width(x_axis.labels[0][1], _TICK_SIZE), 110.0)
        half_slot = (width - left - 16) / len(x_axis.labels) / 2
        left = max(left, _PAD + first * math.cos(math.radians(35)) - half_slot + 4)

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
            lo, hi, ticks = _axis(x_axis.lo, x_axis.hi, target, expand=x_axis.expand)
            labels = [_fit(_clean_text(t), 90, _TICK_SIZE) for t in _tick_labels(ticks, x_axis.fmt)]
            needed = sum(_text_width(t, _TICK_SIZE) + 12 for t in labels)
            if needed <= plot_w or target <= 2:
                return lo, hi, ticks, labels
            target -= 1

    right = 16.0
    plot_w = width - left - right
    x0, x1, x_ticks, x_labels = x_ticks_for(plot_w)
    if x_labels and x_axis.labels is None and not x_axis.rotate:
        # the last tick label is centred on the right edge: keep it inside the chart
        right = max(16.0, _text_width(x_labels[-1], _TICK_SIZE) / 2 + 8)
        plot_w = max(width - left - right, 40.0)
        x0, x1, x_ticks, x_labels = x_ticks_for(plot_w)
    frame = _Frame(left, top, plot_w, plot_h, x0, x1, y0, y1)

    grid: list[str] = []
    text_y: list[str] = []
    for tick, label in zip(y_ticks, y_labels, strict=True):
        y = frame.py(tick)
        grid.append(f"M{_num(frame.left)} {_num(y)}H{_num(frame.right)}")
        text_y.append(f'<text x="{_num(frame.left - 6)}" y="{_num(y + 3.5)}">{_esc(label)}</text>')

    # x labels: thin out category labels that would collide
    positions = [(t, lab) for t, lab in zip(x_ticks, x_labels, strict=True) if x0 <= t <= x1]
    if x_axis.labels is not None and positions:
        slot = frame.width / max(len(positions), 1)
        if x_axis.rotate:
            stride = max(1, math.ceil(16 / slot))
            positions = [(t, _fit(_clean_text(lab), 110, _TICK_SIZE)) for t, lab in positions]
        else:
            widest = max(_text_width(_clean_text(lab), _TICK_SIZE) for _, lab in positions)
            widest = min(widest, 120.0)
            stride = max(1, math.ceil((widest + 10) / slot))
            positions = [(t, _fit(_clean_text(lab), 120, _TICK_SIZE)) for t, lab in positions]
        positions = positions[::stride]
    text_x: list[str] = []
    for tick, label in positions:
        x = frame.px(tick)
        if x_axis.grid:
            grid.append(f"M{_num(x)} {_num(frame.top)}V{_num(frame.bottom)}")
        if x_axis.rotate:
            ty = frame.bottom + 14
            text_x.append(
                f'<text x="{_num(x)}" y="{_num(ty)}" text-anchor="end" '
                f'transform="rotate(-35 {_num(x)} {_num(ty)})">{_esc(label)}</text>'
            )
        else:
            text_x.append(f'<text x="{_num(x)}" y="{_num(frame.bottom + 16)}">{_esc(label)}</text>')

    parts = [
        f'<path class="chart-grid" d="{"".join(grid)}" stroke="{GRID}" fill="none"/>'
        if grid
        else "",
        f'<path class="chart-axis" d="M{_num(frame.left)} {_num(frame.bottom)}'
        f'H{_num(frame.right)}" stroke="{MUTED}"/>',
        f'<g class="chart-ticks-y" fill="{MUTED}" text-anchor="end">{"".join(text_y)}</g>',
        f'<g class="chart-ticks-x" fill="{MUTED}" text-anchor="middle">{"".join(text_x)}</g>',
    ]
    if x_label:
        label = _fit(x_label, frame.width, _LABEL_SIZE)
        parts.append(
            f'<text class="chart-x-label" x="{_num(frame.left + frame.width / 2)}" '
            f'y="{_num(height - 8)}" text-anchor="middle" font-size="{_LABEL_SIZE}" '
            f'fill="{INK_2}">{_esc(label)}</text>'
        )
    if y_label:
        label = _fit(y_label, frame.height, _LABEL_SIZE)
        cy = frame.top + frame.height / 2
        parts.append(
            f'<text class="chart-y-label" x="{_PAD + 9}" y="{_num(cy)}" text-anchor="middle" '
            f'transform="rotate(-90 {_PAD + 9} {_num(cy)})" font-size="{_LABEL_SIZE}" '
            f'fill="{INK_2}">{_esc(label)}</text>'
        )
    if len(legend) > 1:
        parts.append(_legend(legend, _PAD, 30, width - 2 * _PAD))
    return frame, parts


def _diagonal(frame: _Frame) -> str:
    """The y = x line across the visible part of the plot (ROC chance line, perfect
    calibration, predicted = actual)."""
    lo, hi = max(frame.x0, frame.y0), min(frame.x1, frame.y1)
    if lo >= hi:
        return ""
    return (
        f'<path class="chart-diagonal" d="M{_num(frame.px(lo))} {_num(frame.py(lo))}'
        f'L{_num(frame.px(hi))} {_num(frame.py(hi))}" stroke="{MUTED}" stroke-width="1.2" '
        f'stroke-dasharray="4 4" fill="none"/>'
    )


def _span_text(values: Sequence[float], fmt: str) -> str:
    return f"{_fmt(fmt, min(values))} to {_fmt(fmt, max(values))}"


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
    width: int = 480,
    height: int = 320,
    y_format: str = _DEFAULT_FORMAT,
    x_format: str = _DEFAULT_FORMAT,
    x_ticks_labels: Sequence[str] | None = None,
) -> str:
    """Lines, markers or steps on numeric axes: ROC (``diagonal=True`` for the chance line),
    precision-recall, NDCG@k, a metric per time slice (``x_ticks_labels`` names x = 0, 1, …),
    best score over time (``kind="step"``), a reliability diagram (points + diagonal).

    Ranges default to the data, widened to whole tick steps; an invalid range (not finite,
    lo >= hi) is ignored. Data outside an explicit range is clipped at the plot edge.
    """
    width, height = _size(width, 480, 200), _size(height, 320, 160)
    title = _clean_text(title)
    drawn: list[tuple[int, Series, list[tuple[float, float]]]] = []
    for index, item in enumerate(series or ()):
        points = _clean_points(item.points)
        if points:
            drawn.append((index, item, points))
    if not drawn:
        return _no_data(width, height, title, "line")

    all_x = [x for _, _, pts in drawn for x, _ in pts]
    all_y = [y for _, _, pts in drawn for _, y in pts]
    labels = [_clean_text(t) for t in x_ticks_labels] if x_ticks_labels is not None else None

    explicit_x = _valid_range(x_range)
    if explicit_x:
        x_lo, x_hi, x_expand = explicit_x[0], explicit_x[1], False
    elif labels:
        x_lo = min(0.0, min(all_x)) - 0.5
        x_hi = max(len(labels) - 1.0, max(all_x)) + 0.5
        x_expand = False
    else:
        x_lo, x_hi, x_expand = min(all_x), max(all_x), True
    explicit_y = _valid_range(y_range)
    if explicit_y:
        y_lo, y_hi, y_expand = explicit_y[0], explicit_y[1], False
    else:
        (y_lo, y_hi), y_expand = _padded(min(all_y), max(all_y)), True

    colors = {index: _safe_color(item.color, index) for index, item, _ in drawn}
    legend = [
        _LegendItem(
            item.name,
            colors[index],
            "points"
            if item.kind == "points" or len(points) == 1
            else ("dashed" if item.dashed else "line"),
        )
        for index, item, points in drawn
    ]
    x_axis = _XAxis(
        x_lo,
        x_hi,
        expand=x_expand,
        fmt=x_format,
        labels=[(float(i), t) for i, t in enumerate(labels)] if labels else None,
    )
    frame, body = _cartesian(
        width=width,
        height=height,
        legend=legend,
        x_axis=x_axis,
        y_lo=y_lo,
        y_hi=y_hi,
        y_expand=y_expand,
        y_fmt=y_format,
        x_label=x_label,
        y_label=y_label,
    )
    if diagonal:
        body.append(_diagonal(frame))

    box = (frame.left - 1, frame.top - 1, frame.right + 1, frame.bottom + 1)
    summaries: list[str] = []
    for index, item, points in drawn:
        color = _esc(colors[index])
        name = _clean_text(item.name)
        pixels = [(frame.px(x), frame.py(y)) for x, y in points]
        sampled = _lttb(pixels, MAX_LINE_POINTS)
        label = _esc(name)
        if item.kind == "points" or len(points) == 1:
            circles = [
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5"><title>{label}: '
                f"{_esc(_fmt(x_format, dx))}, {_esc(_fmt(y_format, dy))}</title></circle>"
                for (x, y), (dx, dy) in zip(pixels, points, strict=True)
                if frame.inside(x, y)
            ][:MAX_LINE_POINTS]
            body.append(
                f'<g class="chart-series" data-series="{label}" fill="{color}" stroke="#fff" '
                f'stroke-width="1">{"".join(circles)}</g>'
            )
        else:
            vertices = _step_vertices(sampled) if item.kind == "step" else sampled
            d = _path_d(_clip_polyline(vertices, box))
            dash = ' stroke-dasharray="6 4"' if item.dashed else ""
            if d:
                body.append(
                    f'<path class="chart-series" data-series="{label}" d="{d}" fill="none" '
                    f'stroke="{color}" stroke-width="2" stroke-linejoin="round" '
                    f'stroke-linecap="round"{dash}><title>{label}</title></path>'
                )
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x_text = f"x {_span_text(xs, x_format)}" if not labels else f"{len(set(xs))} x positions"
        summaries.append(
            f"{name}: {len(points)} points"
            + (f" (drawn as {len(sampled)})" if len(sampled) < len(points) else "")
            + f", {x_text}, y {_span_text(ys, y_format)}."
        )
    x_name, y_name = _clean_text(x_label) or "x", _clean_text(y_label) or "y"
    desc = f"Line chart of {y_name} against {x_name} with {len(drawn)} series. " + " ".join(
        summaries
    )
    if labels:
        desc += " X positions: " + ", ".join(labels[:24]) + ("…" if len(labels) > 24 else "") + "."
    if diagonal:
        desc += " A dashed diagonal marks y = x."
    return _document(width, height, title, desc, "line", body)


# --------------------------------------------------------------------------- histogram


def histogram(
    *,
    edges: Sequence[float],
    counts: Sequence[int],
    title: str,
    x_label: str,
    y_label: str = "rows",
    width: int = 480,
    height: int = 320,
    highlight_zero: bool = True,
) -> str:
    """Bars between consecutive ``edges`` (``len(edges) == len(counts) + 1``), e.g. residuals,
    with a dashed marker at x = 0 when 0 lies inside the range and ``highlight_zero``.
    Bins with a non-finite edge or count, or with right edge <= left edge, are dropped;
    negative counts count as 0."""
    width, height = _size(width, 480, 200), _size(height, 320, 160)
    title = _clean_text(title)
    edges = list(edges or ())
    counts = list(counts or ())
    if not edges and not counts:
        return _no_data(width, height, title, "histogram")
    if len(edges) != len(counts) + 1:
        raise ValueError(
            f"histogram needs len(edges) == len(counts) + 1, got {len(edges)} and {len(counts)}"
        )
    bins: list[tuple[float, float, float]] = []
    for i, count_raw in enumerate(counts):
        left, right, count = _finite(edges[i]), _finite(edges[i + 1]), _finite(count_raw)
        if left is None or right is None or count is None or not right > left:
            continue
        bins.append((left, right, max(count, 0.0)))
    if not bins:
        return _no_data(width, height, title, "histogram")

    lo, hi = min(b[0] for b in bins), max(b[1] for b in bins)
    top_count = max(b[2] for b in bins)
    total = sum(b[2] for b in bins)
    frame, body = _cartesian(
        width=width,
        height=height,
        legend=[],
        x_axis=_XAxis(lo, hi),
        y_lo=0.0,
        y_hi=max(top_count, 1.0),
        y_expand=True,
        y_fmt=None,
        x_label=x_label,
        y_label=y_label,
        y_min_step=1.0,
        top_extra=10.0 if highlight_zero and lo < 0 < hi else 0.0,
    )
    unit = _clean_text(y_label) or "rows"
    rects: list[str] = []
    for left, right, count in bins:
        x_l, x_r = frame.px(left), frame.px(right)
        gap = 1.0 if x_r - x_l > 3 else 0.0
        y = frame.py(count)
        if count <= 0:
            continue
        rects.append(
            f'<rect x="{_num(x_l + gap / 2)}" y="{_num(y)}" '
            f'width="{_num(max(x_r - x_l - gap, 0.5))}" height="{_num(frame.bottom - y)}"><title>'
            f"{_esc(f'{_DEFAULT_FORMAT.format(left)} to {_DEFAULT_FORMAT.format(right)}')}: "
            f"{_esc(f'{count:,.0f}')} {_esc(unit)}</title></rect>"
        )
    body.append(
        f'<g class="chart-bars" fill="{PALETTE[0]}" fill-opacity="0.85">{"".join(rects)}</g>'
    )
    # redraw the baseline over the bars
    body.append(
        f'<path d="M{_num(frame.left)} {_num(frame.bottom)}H{_num(frame.right)}" stroke="{MUTED}"/>'
    )
    zero_text = ""
    if highlight_zero and lo < 0 < hi:
        x = frame.px(0.0)
        body.append(
            f'<path class="chart-zero" d="M{_num(x)} {_num(frame.top - 2)}V{_num(frame.bottom)}" '
            f'stroke="{PALETTE[2]}" stroke-width="2"/>'
            f'<text x="{_num(x)}" y="{_num(frame.top - 6)}" text-anchor="middle" '
            f'fill="{PALETTE[2]}" font-weight="600">0</text>'
        )
        below = sum(c for left, right, c in bins if right <= 0)
        zero_text = (
            f" A line marks 0; {below / total:.0%} of {unit} lie in bins below 0."
            if total
            else " A line marks 0."
        )
    peak = max(bins, key=lambda b: b[2])
    x_name = _clean_text(x_label) or "values"
    desc = (
        f"Histogram of {x_name}: {len(bins)} bins from {_fmt(_DEFAULT_FORMAT, lo)} to "
        f"{_fmt(_DEFAULT_FORMAT, hi)}, {total:,.0f} {unit} in all; the tallest bin, "
        f"{_fmt(_DEFAULT_FORMAT, peak[0])} to {_fmt(_DEFAULT_FORMAT, peak[1])}, holds "
        f"{peak[2]:,.0f} {unit}.{zero_text}"
    )
    return _document(width, height, title, desc, "histogram", body)


# --------------------------------------------------------------------------- scatter


def scatter(
    *,
    points: Sequence[tuple[float, float]],
    title: str,
    x_label: str,
    y_label: str,
    diagonal: bool = True,
    width: int = 480,
    height: int = 320,
) -> str:
    """Markers for (x, y) pairs, e.g. predicted vs actual. With ``diagonal`` both axes share
    one range and a dashed y = x line marks perfect predictions. At most
    ``MAX_SCATTER_POINTS`` points are drawn (an even stride through the data)."""
    width, height = _size(width, 480, 200), _size(height, 320, 160)
    title = _clean_text(title)
    cleaned = _clean_points(points)
    if not cleaned:
        return _no_data(width, height, title, "scatter")
    xs, ys = [p[0] for p in cleaned], [p[1] for p in cleaned]
    if diagonal:
        lo, hi = min(min(xs), min(ys)), max(max(xs), max(ys))
        # one shared range, so y = x runs corner to corner
        lo, hi, _ = _axis(*_padded(lo, hi), 5, expand=True)
        x_lo, x_hi, y_lo, y_hi = lo, hi, lo, hi
    else:
        (x_lo, x_hi), (y_lo, y_hi) = _padded(min(xs), max(xs)), _padded(min(ys), max(ys))
    frame, body = _cartesian(
        width=width,
        height=height,
        legend=[],
        x_axis=_XAxis(x_lo, x_hi, expand=not diagonal),
        y_lo=y_lo,
        y_hi=y_hi,
        y_expand=not diagonal,
        y_fmt=_DEFAULT_FORMAT,
        x_label=x_label,
        y_label=y_label,
    )
    if diagonal:
        body.append(_diagonal(frame))
    shown = _stride_sample(cleaned, MAX_SCATTER_POINTS)
    radius = "3" if len(shown) <= 300 else "2.2"
    circles = "".join(
        f'<circle cx="{_num(frame.px(x))}" cy="{_num(frame.py(y))}" r="{radius}"/>'
        for x, y in shown
    )
    body.append(f'<g class="chart-series" fill="{PALETTE[0]}" fill-opacity="0.55">{circles}</g>')
    desc = (
        f"Scatter plot of {_clean_text(y_label) or 'y'} against {_clean_text(x_label) or 'x'}: "
        f"{len(cleaned)} points"
        + (f" ({len(shown)} drawn)" if len(shown) < len(cleaned) else "")
        + f", x {_span_text(xs, _DEFAULT_FORMAT)}, y {_span_text(ys, _DEFAULT_FORMAT)}."
        + (" A dashed diagonal marks y = x." if diagonal else "")
    )
    return _document(width, height, title, desc, "scatter", body)


# --------------------------------------------------------------------------- bar chart


def bar_chart(
    *,
    bars: Sequence[tuple[str, float]],
    title: str,
    y_label: str,
    reference: Sequence[float] | None = None,
    reference_label: str = "budget",
    width: int = 480,
    height: int = 320,
    value_format: str = _DEFAULT_FORMAT,
) -> str:
    """Vertical bars (label, value) from a zero baseline, each labelled with its value.

    ``reference`` (same length as ``bars``) draws a dark tick per bar, e.g. a latency budget;
    bars strictly above their reference are drawn in ``WARNING`` red. A non-finite reference
    means "no reference for this bar". Bars with a non-finite value are dropped."""
    width, height = _size(width, 480, 200), _size(height, 320, 160)
    title = _clean_text(title)
    bars = list(bars or ())
    refs_raw = list(reference) if reference is not None else None
    if refs_raw is not None and len(refs_raw) != len(bars):
        raise ValueError(
            f"reference needs one value per bar: {len(refs_raw)} values for {len(bars)} bars"
        )
    kept: list[tuple[str, float, float | None]] = []
    for i, bar in enumerate(bars):
        try:
            label_raw, value_raw = bar
        except (TypeError, ValueError):
            continue
        value = _finite(value_raw)
        if value is None:
            continue
        ref = _finite(refs_raw[i]) if refs_raw is not None else None
        kept.append((_clean_text(label_raw), value, ref))
    if not kept:
        return _no_data(width, height, title, "bar")

    values = [v for _, v, _ in kept] + [r for _, _, r in kept if r is not None]
    lo, hi = min(0.0, min(values)), max(0.0, max(values))
    headroom = (hi - lo) * 0.08 or 1.0
    y_lo = lo - headroom if lo < 0 else 0.0
    y_hi = hi + headroom if hi > 0 else 0.0

    n = len(kept)
    ref_name = _clean_text(reference_label) or "reference"
    any_over = any(r is not None and v > r for _, v, r in kept)
    legend: list[_LegendItem] = []
    if refs_raw is not None:
        if not all(r is not None and v > r for _, v, r in kept):
            legend.append(_LegendItem(f"within {ref_name}", PALETTE[0], "box"))
        if any_over:
            legend.append(_LegendItem(f"over {ref_name}", WARNING, "box"))
        legend.append(_LegendItem(ref_name, INK, "tick"))
    # rotate category labels when they do not fit under their bar
    approx_slot = (width - 80) / n
    widest = max(_text_width(label, _TICK_SIZE) for label, _, _ in kept)
    rotate = widest + 8 > approx_slot
    x_axis = _XAxis(
        -0.5,
        n - 0.5,
        labels=[(float(i), label) for i, (label, _, _) in enumerate(kept)],
        rotate=rotate,
        grid=False,
    )
    frame, body = _cartesian(
        width=width,
        height=height,
        legend=legend,
        x_axis=x_axis,
        y_lo=y_lo,
        y_hi=y_hi,
        y_expand=True,
        y_fmt=value_format,
        x_label="",
        y_label=y_label,
    )
    slot = frame.width / n
    bar_w = min(slot * 0.64, 64.0)
    zero = frame.py(0.0)
    rects: list[str] = []
    ticks: list[str] = []
    values_text: list[str] = []
    show_values = all(
        _text_width(_fmt(value_format, v), _TICK_SIZE) <= slot - 2 for _, v, _ in kept
    )
    for i, (label, value, ref) in enumerate(kept):
        cx = frame.px(float(i))
        y = frame.py(value)
        over = ref is not None and value > ref
        color = WARNING if over else PALETTE[0]
        value_text = _fmt(value_format, value)
        tip = f"{label}: {value_text}"
        if ref is not None:
            tip += f" ({ref_name} {_fmt(value_format, ref)}{', over' if over else ''})"
        rects.append(
            f'<rect class="chart-bar{" chart-over" if over else ""}" x="{_num(cx - bar_w / 2)}" '
            f'y="{_num(min(y, zero))}" width="{_num(bar_w)}" height="{_num(abs(zero - y))}" '
            f'rx="2" fill="{color}"><title>{_esc(tip)}</title></rect>'
        )
        if ref is not None:
            ry = frame.py(ref)
            half = min(bar_w / 2 + 5, slot / 2 - 1)
            ticks.append(f"M{_num(cx - half)} {_num(ry)}H{_num(cx + half)}")
        if show_values:
            ty = y - 5 if value >= 0 else y + 13
            if ref is not None and abs(ty - frame.py(ref)) < 8 and value >= 0:
                ty = min(ty, frame.py(ref) - 5)
            values_text.append(
                f'<text x="{_num(cx)}" y="{_num(ty)}" fill="{WARNING if over else INK_2}">'
                f"{_esc(value_text)}</text>"
            )
    body.append(f'<g class="chart-bars">{"".join(rects)}</g>')
    body.append(
        f'<path d="M{_num(frame.left)} {_num(zero)}H{_num(frame.right)}" stroke="{MUTED}"/>'
    )
    if ticks:
        body.append(
            f'<path class="chart-reference" d="{"".join(ticks)}" stroke="{INK}" '
            f'stroke-width="2.5" stroke-linecap="round"/>'
        )
    if values_text:
        body.append(f'<g class="chart-values" text-anchor="middle">{"".join(values_text)}</g>')

    items = []
    for label, value, ref in kept[:30]:
        text = f"{label} {_fmt(value_format, value)}"
        if ref is not None:
            text += f" ({ref_name} {_fmt(value_format, ref)}{', over' if value > ref else ''})"
        items.append(text)
    desc = (
        f"Bar chart of {_clean_text(y_label) or 'values'}, {n} bars: "
        + "; ".join(items)
        + ("; …" if n > 30 else "")
        + "."
    )
    if refs_raw is not None:
        over_count = sum(1 for _, v, r in kept if r is not None and v > r)
        desc += f" {over_count} of {n} over {ref_name}."
    return _document(width, height, title, desc, "bar", body)


# --------------------------------------------------------------------------- radar chart


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
    size = _size(size, 360, 220)
    title = _clean_text(title)
    axis_names = [_clean_text(a) for a in (axes or ())]
    n = len(axis_names)
    drawn: list[tuple[int, Series, dict[int, float]]] = []
    for index, item in enumerate(series or ()):
        values: dict[int, float] = {}
        for axis_raw, value_raw in _clean_points(item.points):
            if axis_raw == int(axis_raw) and 0 <= int(axis_raw) < n:
                values[int(axis_raw)] = value_raw
        if values:
            drawn.append((index, item, values))
    if n == 0 or not drawn:
        return _no_data(size, size, title, "radar")
    top_value = _finite(max_value)
    if top_value is None or top_value <= 0:
        top_value = max((v for _, _, vals in drawn for v in vals.values()), default=1.0)
        top_value = top_value if top_value > 0 else 1.0

    colors = {index: _safe_color(item.color, index) for index, item, _ in drawn}
    legend = [
        _LegendItem(item.name, colors[index], "dashed" if item.dashed else "line")
        for index, item, _ in drawn
    ]
    legend_h = _legend_height(legend, size - 2 * _PAD) if len(legend) > 1 else 0.0
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
        word = max((_text_width(w, _LABEL_SIZE) for w in name.split()), default=0.0)
        wanted = min(_text_width(name, _LABEL_SIZE), max(word, size * 0.2))
        if abs(cos) > 0.3:
            radius = min(radius, (size / 2 - _PAD - wanted) / abs(cos) - gap)
    radius = min(max(radius, size * 0.2), size / 2 - 24)

    # label boxes: (anchor, x, first baseline y relative to centre, lines)
    layout: list[tuple[str, float, float, list[str]]] = []
    extents: list[float] = [-radius, radius]
    for angle, name in zip(angles, axis_names, strict=True):
        cos, sin = math.cos(angle), math.sin(angle)
        x = cx + (radius + gap) * cos
        y = (radius + gap) * sin
        if cos > 0.3:
            anchor, room = "start", size - _PAD - x
        elif cos < -0.3:
            anchor, room = "end", x - _PAD
        else:
            anchor, room = "middle", min(size * 0.5, size - 2 * _PAD)
        lines = _wrap(name, room, _LABEL_SIZE, max_lines=3)
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
    height = cy + max(extents) + _PAD + 4

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
            rings.append("M" + " ".join(f"{_num(x)} {_num(y)}" for x, y in pts) + "Z")
        else:
            r = radius * value / top_value
            rings.append(
                f"M{_num(cx - r)} {_num(cy)}a{_num(r)} {_num(r)} 0 1 0 {_num(2 * r)} 0"
                f"a{_num(r)} {_num(r)} 0 1 0 {_num(-2 * r)} 0"
            )
    body.append(f'<path class="chart-grid" d="{"".join(rings)}" fill="none" stroke="{GRID}"/>')
    for i in range(n):
        x, y = vertex(i, top_value)
        body.append(
            f'<line class="chart-spoke" x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" '
            f'y2="{_num(y)}" stroke="{GRID}"/>'
        )

    summaries: list[str] = []
    for index, item, values in drawn:
        color = _esc(colors[index])
        name = _clean_text(item.name)
        clamped = [min(max(values.get(i, 0.0), 0.0), top_value) for i in range(n)]
        pts = [vertex(i, v) for i, v in enumerate(clamped)]
        dash = ' stroke-dasharray="6 4"' if item.dashed else ""
        body.append(
            f'<polygon class="chart-series" data-series="{_esc(name)}" '
            f'points="{" ".join(f"{_num(x)},{_num(y)}" for x, y in pts)}" fill="{color}" '
            f'fill-opacity="0.14" stroke="{color}" stroke-width="2" stroke-linejoin="round"'
            f"{dash}><title>{_esc(name)}</title></polygon>"
        )
        dots = "".join(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3"><title>'
            f"{_esc(f'{name}, {axis_names[i]}: ')}"
            f"{_esc(_fmt(_DEFAULT_FORMAT, values[i]) if i in values else 'no value')}"
            f"</title></circle>"
            for i, (x, y) in enumerate(pts)
        )
        body.append(f'<g fill="{color}">{dots}</g>')
        summaries.append(
            f"{name}: "
            + ", ".join(
                f"{axis_names[i]} {_fmt(_DEFAULT_FORMAT, values[i]) if i in values else 'none'}"
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
        f'<text x="{_num(cx + radius * v / top_value * reach * math.cos(mid) + shift)}" '
        f'y="{_num(cy + radius * v / top_value * reach * math.sin(mid) + 4 + shift * 1.6)}">'
        f"{_esc(_fmt(_DEFAULT_FORMAT, v))}</text>"
        for v in ring_values
    )
    body.append(
        f'<g class="chart-rings" fill="{MUTED}" stroke="#fff" stroke-width="3" '
        f'paint-order="stroke" text-anchor="{anchor}">{ring_text}</g>'
    )
    labels: list[str] = []
    for anchor, x, first, lines in layout:
        tspans = "".join(
            f'<tspan x="{_num(x)}" y="{_num(cy + first + k * line_h)}">{_esc(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        labels.append(f'<text text-anchor="{anchor}">{tspans}</text>')
    body.append(
        f'<g class="chart-axis-labels" font-size="{_LABEL_SIZE}" fill="{INK_2}">'
        f"{''.join(labels)}</g>"
    )
    if len(legend) > 1:
        body.append(_legend(legend, _PAD, 30, size - 2 * _PAD))
    desc = (
        f"Radar chart of {n} axes scored 0 to {_fmt(_DEFAULT_FORMAT, top_value)}, "
        f"{len(drawn)} series. " + " ".join(summaries)
    )
    return _document(size, height, title, desc, "radar", body)
