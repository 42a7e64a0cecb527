"""The pieces every chart shares: colours and sizes, the ``<svg>`` document with its
accessible title and description, the "No data" chart, legends, and polyline clipping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mlsd_site.charts.scales import coord, finite
from mlsd_site.charts.text import clean_text, escape, fit, text_width

PALETTE = ("#4f46e5", "#0e7490", "#c2410c", "#15803d", "#a21caf")
WARNING = "#b91c1c"  # the site's --bad colour: bars over their reference
AMBER = "#f59e0b"  # the site's highlight: time over its budget, the replay cursor
AMBER_INK = "#b45309"  # the site's --warn colour: text about time over its budget
INK = "#111827"
INK_2 = "#374151"
MUTED = "#6b7280"
GRID = "#e5e7eb"
TRACK = "#f1f3f7"  # the empty part of a bar, faint gridlines
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

# Text sizes in viewBox units: drawn smaller when a chart is drawn narrower than its natural
# width (see ``cartesian.CHART_WIDTH``), so the smallest is 12, not 11.
TITLE_SIZE = 13
LABEL_SIZE = 12
TICK_SIZE = 12
PAD = 10
LEGEND_ROW = 18

_COLOR_OK = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}|(?:rgb|hsl)a?\([0-9.,%\s/a-z]{1,60}\)")
_ID_OK = re.compile(r"[A-Za-z][A-Za-z0-9_:.-]{0,99}")


def safe_color(color: str | None, index: int) -> str:
    """The caller's colour if it is a plain colour value, else the palette's ``index``th."""
    if isinstance(color, str) and _COLOR_OK.fullmatch(color.strip()):
        return color.strip()
    return PALETTE[index % len(PALETTE)]


def element_id(value: str | None, what: str) -> str | None:
    """A caller's element id, checked: ids are page hooks, so a bad one is a ValueError
    rather than a silently different id."""
    if value is None:
        return None
    if not isinstance(value, str) or not _ID_OK.fullmatch(value):
        raise ValueError(
            f"{what} must be a plain HTML id (letters, digits, - _ : .), not {value!r}"
        )
    return value


def chart_size(value: object, default: int, minimum: int) -> int:
    """A caller's width or height: at least ``minimum``, ``default`` when not a number."""
    number = finite(value)
    return max(int(number), minimum) if number is not None else default


def document(
    width: float,
    height: float,
    title: str,
    desc: str,
    kind: str,
    body: Sequence[str],
    *,
    caption: bool = True,
    max_width: bool = True,
) -> str:
    """One complete ``<svg>``: responsive (``viewBox``, ``width="100%"``; with
    ``max_width`` never wider than its natural width, so its text never blows up), with
    ``role="img"``, ``aria-label``, ``<title>`` and ``<desc>``. With ``caption`` the title
    is also drawn at the top left (leave room: the body starts at y = 30)."""
    style = f' style="max-width:{coord(width)}px"' if max_width else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{kind}" '
        f'viewBox="0 0 {coord(width)} {coord(height)}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet"{style} role="img" '
        f'aria-label="{escape(title)}" font-family="{FONT_FAMILY}" font-size="{TICK_SIZE}">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    if caption:
        title_px = fit(title, width - 2 * PAD, TITLE_SIZE * 1.1)  # bold runs wider
        parts.append(
            f'<text class="chart-title" x="{PAD}" y="19" font-size="{TITLE_SIZE}" '
            f'font-weight="600" fill="{INK}">{escape(title_px)}</text>'
        )
    parts += [*body, "</svg>"]
    return "".join(parts)


def no_data(width: float, height: float, title: str, kind: str, *, caption: bool = True) -> str:
    """A valid chart of the right size that says "No data"."""
    top = 30 if caption else PAD
    body = [
        f'<rect x="{PAD}" y="{top}" width="{coord(width - 2 * PAD)}" '
        f'height="{coord(height - top - PAD)}" rx="8" fill="none" stroke="{GRID}"/>',
        f'<text class="chart-empty" x="{coord(width / 2)}" y="{coord((height + top) / 2)}" '
        f'text-anchor="middle" dominant-baseline="middle" font-size="{LABEL_SIZE}" '
        f'fill="{MUTED}">No data</text>',
    ]
    return document(width, height, title, "No data.", kind, body, caption=caption)


# --------------------------------------------------------------------------- legends


@dataclass(frozen=True)
class LegendItem:
    name: str
    color: str
    mark: str  # "line" | "dashed" | "points" | "box" | "tick"


def _legend_rows(items: Sequence[LegendItem], max_width: float) -> list[list[tuple[str, float]]]:
    """Item names (fitted) and widths, wrapped into rows of at most ``max_width``."""
    rows: list[list[tuple[str, float]]] = [[]]
    used = 0.0
    for item in items:
        # at most 200px, and narrow enough for two items per row
        name = fit(clean_text(item.name), min(200.0, max_width / 2 - 40), TICK_SIZE)
        width = 24 + text_width(name, TICK_SIZE) + 14
        if rows[-1] and used + width > max_width:
            rows.append([])
            used = 0.0
        rows[-1].append((name, width))
        used += width
    return rows


def legend_height(items: Sequence[LegendItem], max_width: float) -> float:
    """The height :func:`legend` needs for ``items`` inside ``max_width``."""
    return len(_legend_rows(items, max_width)) * LEGEND_ROW if items else 0.0


def legend(items: Sequence[LegendItem], x0: float, y0: float, max_width: float) -> str:
    """A legend of swatches and names starting at (x0, y0), wrapping inside ``max_width``."""
    if not items:
        return ""
    parts = [f'<g class="chart-legend" fill="{INK_2}">']
    index = 0
    for r, row in enumerate(_legend_rows(items, max_width)):
        x = x0
        y = y0 + r * LEGEND_ROW + LEGEND_ROW / 2
        for name, width in row:
            item = items[index]
            index += 1
            color = escape(item.color)
            if item.mark in ("line", "dashed"):
                dash = ' stroke-dasharray="5 3"' if item.mark == "dashed" else ""
                parts.append(
                    f'<path d="M{coord(x)} {coord(y)}h18" stroke="{color}" '
                    f'stroke-width="2.5"{dash}/>'
                )
            elif item.mark == "points":
                parts.append(f'<circle cx="{coord(x + 9)}" cy="{coord(y)}" r="4" fill="{color}"/>')
            elif item.mark == "tick":
                parts.append(
                    f'<path d="M{coord(x + 1)} {coord(y)}h16" stroke="{color}" stroke-width="2.5"/>'
                )
            else:
                parts.append(
                    f'<rect x="{coord(x + 2)}" y="{coord(y - 5)}" width="14" height="10" '
                    f'rx="2" fill="{color}"/>'
                )
            parts.append(f'<text x="{coord(x + 24)}" y="{coord(y + 4)}">{escape(name)}</text>')
            x += width
    parts.append("</g>")
    return "".join(parts)


# --------------------------------------------------------------------------- clipping

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


def _clip_segment(
    a: tuple[float, float], b: tuple[float, float], box: Box
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


def clip_polyline(
    points: Sequence[tuple[float, float]], box: Box
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


def path_d(runs: Sequence[Sequence[tuple[float, float]]]) -> str:
    """SVG path data: 'M x y x y …' per run (implicit lineto), repeated points removed."""
    parts: list[str] = []
    for run in runs:
        coords: list[str] = []
        previous = None
        for x, y in run:
            pair = f"{coord(x)} {coord(y)}"
            if pair != previous:
                coords.append(pair)
                previous = pair
        if len(coords) == 1:
            coords.append(coords[0])  # a lone point still shows with a round cap
        parts.append("M" + " ".join(coords))
    return "".join(parts)
