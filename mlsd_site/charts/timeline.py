"""Timelines: rows of events on a shared time axis (milliseconds since a start), with
markers across all rows and an optional cursor a script can move, e.g. every save of each
interview step and the questions asked, under a replay slider."""

from __future__ import annotations

from collections.abc import Sequence

from mlsd_site.charts.scales import clock, coord, finite, time_ticks
from mlsd_site.charts.svg import (
    AMBER,
    GRID,
    INK_2,
    MUTED,
    PALETTE,
    TICK_SIZE,
    TITLE_SIZE,
    TRACK,
    chart_size,
    document,
    element_id,
    no_data,
)
from mlsd_site.charts.text import clean_text, escape, fit

_RIGHT_PAD = 24  # room for the last time label, centred on its tick
_ROW = 26
_MARKER_Y = 10
_AXIS_ROOM = 18  # below the plot: the time labels
_MAX_DESC_EVENTS = 12
_MAX_DESC_MARKERS = 20


def timeline_plot(*, width: int = 900, label_width: int = 170) -> tuple[int, int]:
    """Where :func:`timeline` draws its time axis for this ``width`` and ``label_width``:
    (left, length) in viewBox units. Time ``ms`` of ``end_ms`` is at
    ``left + length * ms / end_ms``; a script moving the cursor needs these two numbers."""
    width = chart_size(width, 900, 320)
    label_width = min(chart_size(label_width, 170, 0), width // 2)
    return label_width, width - label_width - _RIGHT_PAD


def timeline(
    *,
    rows: Sequence[tuple[str, Sequence[float]]],
    end_ms: float,
    title: str,
    markers: Sequence[tuple[float, str]] = (),
    marker_symbol: str = "",
    width: int = 900,
    label_width: int = 170,
    cursor_ms: float | None = None,
    cursor_id: str | None = None,
) -> str:
    """One track per ``(label, [ms, ...])`` row with a dot per event, on a time axis from
    0 to ``end_ms`` milliseconds with clock labels (0:00, 5:00, …). ``markers`` are
    ``(ms, text)``: a dashed line across every row topped by a circle holding
    ``marker_symbol`` (one character, e.g. "?"), with ``text`` as its tooltip.

    With ``cursor_ms`` or ``cursor_id`` a ``<line class="chart-cursor">`` marks a time
    (``cursor_ms``, default 0) and carries ``id=cursor_id`` so a script can move it by
    setting ``x1`` and ``x2`` (see :func:`timeline_plot`); a ``cursor_id`` that is not a
    plain HTML id raises ValueError.

    The chart fills the width of its container (no ``max-width``) and, like
    :func:`budget_bars`, does not draw ``title``. Times outside [0, ``end_ms``] are drawn
    at the nearer end; non-finite times are dropped. An ``end_ms`` that is not a positive
    number becomes the latest time given (at least one second). No rows and no markers
    draws "No data"."""
    width = chart_size(width, 900, 320)
    plot_x, plot_w = timeline_plot(width=width, label_width=label_width)
    title = clean_text(title)
    cursor_id = element_id(cursor_id, "cursor_id")
    events: list[tuple[str, list[float]]] = []
    for row in rows or ():
        try:
            label_raw, times_raw = row
        except (TypeError, ValueError):
            continue
        times = sorted(t for t in (finite(v) for v in times_raw or ()) if t is not None)
        events.append((clean_text(label_raw), times))
    marks: list[tuple[float, str]] = []
    for marker in markers or ():
        try:
            at_raw, text_raw = marker
        except (TypeError, ValueError):
            continue
        at = finite(at_raw)
        if at is not None:
            marks.append((at, clean_text(text_raw)))
    height = _ROW * (len(events) + 1) + 26
    if not events and not marks:
        return no_data(width, height, title, "timeline", caption=False)

    end = finite(end_ms)
    if end is None or end <= 0:
        latest = [t for _, times in events for t in times] + [at for at, _ in marks]
        end = max([1000.0, *latest])

    def x(ms: float) -> float:
        return plot_x + plot_w * min(max(ms, 0.0), end) / end

    plot_bottom = height - _AXIS_ROOM
    grid: list[str] = []
    tick_text: list[str] = []
    for seconds in time_ticks(end / 1000, max(2, int(plot_w / 75))):
        tx = x(seconds * 1000)
        grid.append(f"M{coord(tx)} 8V{coord(plot_bottom)}")
        tick_text.append(
            f'<text x="{coord(tx)}" y="{coord(height - 4)}">{escape(clock(seconds))}</text>'
        )
    body = [
        f'<path class="chart-grid" d="{"".join(grid)}" stroke="{TRACK}"/>',
        f'<g class="chart-ticks-x" fill="{MUTED}" text-anchor="middle">{"".join(tick_text)}</g>',
    ]

    labels: list[str] = []
    tracks: list[str] = []
    dots: list[str] = []
    summaries: list[str] = []
    for i, (label, times) in enumerate(events):
        y = _ROW * (i + 1)
        fitted = fit(label, plot_x - 8, TITLE_SIZE)
        tip = f"<title>{escape(label)}</title>" if fitted != label else ""  # the whole label
        labels.append(f'<text x="0" y="{coord(y + 4)}">{tip}{escape(fitted)}</text>')
        tracks.append(f"M{coord(plot_x)} {y}H{coord(plot_x + plot_w)}")
        circles = "".join(f'<circle cx="{coord(x(t))}" cy="{y}" r="3.5"/>' for t in times)
        dots.append(f'<g class="chart-series" data-series="{escape(label)}">{circles}</g>')
        shown = ", ".join(clock(t / 1000) for t in times[:_MAX_DESC_EVENTS])
        more = ", …" if len(times) > _MAX_DESC_EVENTS else ""
        summaries.append(f"{label}: {len(times)} at {shown}{more}" if times else f"{label}: none")
    body += [
        f'<g class="chart-labels" font-size="{TITLE_SIZE}" fill="{INK_2}">{"".join(labels)}</g>',
        f'<path class="chart-tracks" d="{"".join(tracks)}" stroke="{GRID}" stroke-width="2"/>'
        if tracks
        else "",
        f'<g class="chart-events" fill="{PALETTE[0]}" fill-opacity="0.85">{"".join(dots)}</g>',
    ]

    symbol = escape(clean_text(marker_symbol)[:1])
    for at, text in sorted(marks, key=lambda mark: mark[0]):
        mx = coord(x(at))
        tip = f"{clock(at / 1000)} · {text}" if text else clock(at / 1000)
        body.append(
            f'<g class="chart-marker"><title>{escape(tip)}</title>'
            f'<path d="M{mx} {_MARKER_Y}V{coord(plot_bottom - 4)}" stroke="{PALETTE[1]}" '
            f'stroke-dasharray="3 3"/>'
            f'<circle cx="{mx}" cy="{_MARKER_Y}" r="7" fill="{PALETTE[1]}"/>'
            + (
                f'<text x="{mx}" y="{_MARKER_Y + 4}" text-anchor="middle" fill="#fff" '
                f'font-size="{TICK_SIZE}" font-weight="700">{symbol}</text>'
                if symbol
                else ""
            )
            + "</g>"
        )
    if cursor_ms is not None or cursor_id is not None:
        at = finite(cursor_ms) or 0.0
        cx = coord(x(at))
        id_attr = f' id="{escape(cursor_id)}"' if cursor_id else ""
        body.append(
            f'<line class="chart-cursor"{id_attr} x1="{cx}" x2="{cx}" y1="4" '
            f'y2="{coord(plot_bottom)}" stroke="{AMBER}" stroke-width="2.5"/>'
        )

    sentences = [f"Timeline of {len(events)} rows over {clock(end / 1000)}."]
    if summaries:
        sentences.append("; ".join(summaries) + ".")
    if marks:
        listed = "; ".join(
            f"{clock(at / 1000)} {text}".strip() for at, text in sorted(marks)[:_MAX_DESC_MARKERS]
        )
        more = "; …" if len(marks) > _MAX_DESC_MARKERS else ""
        sentences.append(f"{len(marks)} markers: {listed}{more}.")
    desc = " ".join(sentences)
    return document(width, height, title, desc, "timeline", body, caption=False, max_width=False)
