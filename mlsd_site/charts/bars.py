"""Bar charts: vertical bars against an optional reference per bar, and horizontal bars of
time spent against a budget per row."""

from __future__ import annotations

from collections.abc import Sequence

from mlsd_site.charts.axes import XAxis, cartesian_layout
from mlsd_site.charts.scales import DEFAULT_FORMAT, clock, coord, finite, format_number
from mlsd_site.charts.svg import (
    AMBER,
    AMBER_INK,
    INK,
    INK_2,
    MUTED,
    PALETTE,
    TICK_SIZE,
    TITLE_SIZE,
    TRACK,
    WARNING,
    LegendItem,
    chart_size,
    document,
    no_data,
)
from mlsd_site.charts.text import clean_text, escape, fit, text_width

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
    value_format: str = DEFAULT_FORMAT,
) -> str:
    """Vertical bars (label, value) from a zero baseline, each labelled with its value.

    ``reference`` (same length as ``bars``) draws a dark tick per bar, e.g. a latency budget;
    bars strictly above their reference are drawn in ``WARNING`` red. A non-finite reference
    means "no reference for this bar". Bars with a non-finite value are dropped."""
    width, height = chart_size(width, 480, 200), chart_size(height, 320, 160)
    title = clean_text(title)
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
        value = finite(value_raw)
        if value is None:
            continue
        ref = finite(refs_raw[i]) if refs_raw is not None else None
        kept.append((clean_text(label_raw), value, ref))
    if not kept:
        return no_data(width, height, title, "bar")

    values = [v for _, v, _ in kept] + [r for _, _, r in kept if r is not None]
    lo, hi = min(0.0, min(values)), max(0.0, max(values))
    headroom = (hi - lo) * 0.08 or 1.0
    y_lo = lo - headroom if lo < 0 else 0.0
    y_hi = hi + headroom if hi > 0 else 0.0

    n = len(kept)
    ref_name = clean_text(reference_label) or "reference"
    any_over = any(r is not None and v > r for _, v, r in kept)
    legend_items: list[LegendItem] = []
    if refs_raw is not None:
        if not all(r is not None and v > r for _, v, r in kept):
            legend_items.append(LegendItem(f"within {ref_name}", PALETTE[0], "box"))
        if any_over:
            legend_items.append(LegendItem(f"over {ref_name}", WARNING, "box"))
        legend_items.append(LegendItem(ref_name, INK, "tick"))
    # rotate category labels when they do not fit under their bar
    approx_slot = (width - 80) / n
    widest = max(text_width(label, TICK_SIZE) for label, _, _ in kept)
    rotate = widest + 8 > approx_slot
    x_axis = XAxis(
        -0.5,
        n - 0.5,
        labels=[(float(i), label) for i, (label, _, _) in enumerate(kept)],
        rotate=rotate,
        grid=False,
    )
    frame, body = cartesian_layout(
        width=width,
        height=height,
        legend_items=legend_items,
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
        text_width(format_number(value_format, v), TICK_SIZE) <= slot - 2 for _, v, _ in kept
    )
    for i, (label, value, ref) in enumerate(kept):
        cx = frame.px(float(i))
        y = frame.py(value)
        over = ref is not None and value > ref
        color = WARNING if over else PALETTE[0]
        value_text = format_number(value_format, value)
        tip = f"{label}: {value_text}"
        if ref is not None:
            tip += f" ({ref_name} {format_number(value_format, ref)}{', over' if over else ''})"
        rects.append(
            f'<rect class="chart-bar{" chart-over" if over else ""}" x="{coord(cx - bar_w / 2)}" '
            f'y="{coord(min(y, zero))}" width="{coord(bar_w)}" height="{coord(abs(zero - y))}" '
            f'rx="2" fill="{color}"><title>{escape(tip)}</title></rect>'
        )
        if ref is not None:
            ry = frame.py(ref)
            half = min(bar_w / 2 + 5, slot / 2 - 1)
            ticks.append(f"M{coord(cx - half)} {coord(ry)}H{coord(cx + half)}")
        if show_values:
            ty = y - 5 if value >= 0 else y + 13
            if ref is not None and abs(ty - frame.py(ref)) < 8 and value >= 0:
                ty = min(ty, frame.py(ref) - 5)
            values_text.append(
                f'<text x="{coord(cx)}" y="{coord(ty)}" fill="{WARNING if over else INK_2}">'
                f"{escape(value_text)}</text>"
            )
    body.append(f'<g class="chart-bars">{"".join(rects)}</g>')
    body.append(
        f'<path d="M{coord(frame.left)} {coord(zero)}H{coord(frame.right)}" stroke="{MUTED}"/>'
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
        text = f"{label} {format_number(value_format, value)}"
        if ref is not None:
            text += (
                f" ({ref_name} {format_number(value_format, ref)}{', over' if value > ref else ''})"
            )
        items.append(text)
    desc = (
        f"Bar chart of {clean_text(y_label) or 'values'}, {n} bars: "
        + "; ".join(items)
        + ("; …" if n > 30 else "")
        + "."
    )
    if refs_raw is not None:
        over_count = sum(1 for _, v, r in kept if r is not None and v > r)
        desc += f" {over_count} of {n} over {ref_name}."
    return document(width, height, title, desc, "bar", body)


# --------------------------------------------------------------------------- time budgets

_ROW_HEIGHT = 34
_STACKED_ROW_HEIGHT = 48
_STACK_BELOW = 560  # narrower charts (for phones) put each row's label and times on its bar
_BAR_HEIGHT = 16
_TOP = 8
_ROW_TEXT = TITLE_SIZE  # row labels and values read like body text, not like ticks
# Said in words beside the times of a row over its budget: colour is not the only cue.
_OVER_NOTE = "over budget"


def _fitted(label: str, max_px: float) -> str:
    """A row label cut to fit, with the whole label as its tooltip when it was cut."""
    shown = fit(label, max_px, _ROW_TEXT)
    tip = f"<title>{escape(label)}</title>" if shown != label else ""
    return tip + escape(shown)


def budget_bars(
    *,
    rows: Sequence[tuple[str, float, float]],
    title: str,
    width: int = 900,
) -> str:
    """One horizontal bar per ``(label, spent_seconds, budget_seconds)`` row on a light
    track, a dark tick at the budget, and "spent / budget" as m:ss (h:mm:ss past an hour)
    on the right; e.g. the time spent on each interview step. Every row shares one scale
    (the largest time spent or budget). A row over its budget (by whole seconds, as the
    labels read) has an ``AMBER`` bar, bold ``AMBER_INK`` text and the ``chart-over`` class,
    and says "over budget" in words left of its times (``chart-over-notes``), so colour is not
    the only cue.

    ``title`` names the chart for assistive technology (``<title>``, ``aria-label``) and is
    not drawn: the page's heading and legend go with it. A ``width`` under 560 (for a
    phone: about 360) puts each row's label and times on a line above its bar instead of
    beside it, so the text stays readable on a narrow page; the page shows one chart or the
    other by the width it has. Rows whose time spent is not a finite number are dropped;
    negative times count as 0; a budget that is not a positive finite number means "no
    budget" (no tick, never over). No rows draws "No data"."""
    width = chart_size(width, 900, 320)
    title = clean_text(title)
    kept: list[tuple[str, int, int | None]] = []
    for row in rows or ():
        try:
            label_raw, spent_raw, budget_raw = row
        except (TypeError, ValueError):
            continue
        spent = finite(spent_raw)
        if spent is None:
            continue
        budget = finite(budget_raw)
        budget_s = round(budget) if budget is not None and round(budget) > 0 else None
        kept.append((clean_text(label_raw), max(round(spent), 0), budget_s))
    if not kept:
        return no_data(width, 2 * _TOP + 3 * _ROW_HEIGHT, title, "budget", caption=False)

    values = [
        f"{clock(spent)} / {clock(budget)}" if budget is not None else clock(spent)
        for _, spent, budget in kept
    ]
    over_rows = [budget is not None and spent > budget for _, spent, budget in kept]
    # The times of an over-budget row are bold (wider); its note goes to their left.
    value_px = [
        text_width(v, _ROW_TEXT) * (1.1 if over else 1.0)
        for v, over in zip(values, over_rows, strict=True)
    ]
    note_px = text_width(_OVER_NOTE, _ROW_TEXT) * 1.1 + 8
    value_w = max(value_px) + 16
    stacked = width < _STACK_BELOW
    if stacked:
        row_h, label_room = _STACKED_ROW_HEIGHT, width - value_w
        plot_x, plot_w = 1.0, width - 2.0  # the bar's full width; keep the end ticks inside
    else:
        noted = [px + note_px if over else px for px, over in zip(value_px, over_rows, strict=True)]
        value_w = max(value_w, max(noted) + 16, 120.0)
        label_w = min(max(text_width(label, _ROW_TEXT) for label, _, _ in kept) + 16, width * 0.34)
        row_h, label_room = _ROW_HEIGHT, label_w - 12
        plot_x, plot_w = label_w, max(width - label_w - value_w, 40.0)
    scale = max([1, *(max(spent, budget or 0) for _, spent, budget in kept)])
    height = 2 * _TOP + row_h * len(kept)

    labels: list[str] = []
    tracks: list[str] = []
    bars: list[str] = []
    ticks: list[str] = []
    texts: list[str] = []
    notes: list[str] = []
    summaries: list[str] = []
    for i, ((label, spent, budget), value) in enumerate(zip(kept, values, strict=True)):
        y = _TOP + i * row_h
        if stacked:
            text_y, bar_y = y + 14, y + 22
        else:
            text_y, bar_y = y + row_h / 2 + 5, y + (row_h - _BAR_HEIGHT) / 2
        over = budget is not None and spent > budget
        summary = f"{label}: {clock(spent)}" + (
            f" of {clock(budget)}{', over budget' if over else ''}" if budget is not None else ""
        )
        summaries.append(summary)
        room = label_room
        if over and stacked:  # the note shares the line with the label
            room = min(label_room, width - value_px[i] - note_px - 8)
        labels.append(f'<text x="0" y="{coord(text_y)}">{_fitted(label, room)}</text>')
        tracks.append(
            f'<rect x="{coord(plot_x)}" y="{coord(bar_y)}" width="{coord(plot_w)}" '
            f'height="{_BAR_HEIGHT}" rx="4"/>'
        )
        bars.append(
            f'<rect class="chart-bar{" chart-over" if over else ""}" x="{coord(plot_x)}" '
            f'y="{coord(bar_y)}" width="{coord(plot_w * spent / scale)}" height="{_BAR_HEIGHT}" '
            f'rx="4" fill="{AMBER if over else PALETTE[0]}"><title>{escape(summary)}</title></rect>'
        )
        if budget is not None:
            x = plot_x + plot_w * budget / scale
            ticks.append(f"M{coord(x)} {coord(bar_y - 5)}V{coord(bar_y + _BAR_HEIGHT + 5)}")
        over_attrs = f' class="chart-over" fill="{AMBER_INK}" font-weight="700"' if over else ""
        texts.append(f'<text x="{width}" y="{coord(text_y)}"{over_attrs}>{escape(value)}</text>')
        if over:
            note_x = coord(width - value_px[i] - 8)
            notes.append(f'<text x="{note_x}" y="{coord(text_y)}">{_OVER_NOTE}</text>')

    body = [
        f'<g class="chart-labels" font-size="{_ROW_TEXT}" fill="{INK_2}">{"".join(labels)}</g>',
        f'<g class="chart-tracks" fill="{TRACK}">{"".join(tracks)}</g>',
        f'<g class="chart-bars">{"".join(bars)}</g>',
    ]
    if ticks:
        body.append(
            f'<path class="chart-reference" d="{"".join(ticks)}" stroke="{INK}" stroke-width="2"/>'
        )
    body.append(
        f'<g class="chart-values" font-size="{_ROW_TEXT}" fill="{INK_2}" text-anchor="end">'
        f"{''.join(texts)}</g>"
    )
    if notes:
        body.append(
            f'<g class="chart-over-notes" font-size="{_ROW_TEXT}" fill="{AMBER_INK}" '
            f'font-weight="700" text-anchor="end">{"".join(notes)}</g>'
        )
    spent_total = sum(spent for _, spent, _ in kept)
    budget_total = sum(budget or 0 for _, _, budget in kept)
    over_count = sum(1 for _, spent, budget in kept if budget is not None and spent > budget)
    desc = (
        f"{len(kept)} bars of time spent, each against its budget. "
        + ". ".join(summaries)
        + f". In all {clock(spent_total)} of {clock(budget_total)}; "
        f"{over_count} of {len(kept)} over budget."
    )
    return document(width, height, title, desc, "budget", body, caption=False)
