"""Numbers for axes: cleaning caller data, 1-2-5 ticks, axis ranges, number and clock
formats, and SVG coordinates."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

DEFAULT_FORMAT = "{:.3g}"
_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "k"))
# Tick steps of a time axis, in seconds: whole seconds, then whole minutes, then hours.
_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000)


# --------------------------------------------------------------------------- cleaning


def finite(value: object) -> float | None:
    """``value`` as a finite float, or None (NaN, inf, None, not a number)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def clean_points(points: Iterable[object] | None) -> list[tuple[float, float]]:
    """Finite (x, y) pairs; anything else (NaN, inf, None, wrong shape) is dropped."""
    cleaned: list[tuple[float, float]] = []
    for point in points if points is not None else ():
        try:
            x_raw, y_raw = point  # type: ignore[misc]
        except (TypeError, ValueError):
            continue
        x, y = finite(x_raw), finite(y_raw)
        if x is not None and y is not None:
            cleaned.append((x, y))
    return cleaned


def valid_range(value: object) -> tuple[float, float] | None:
    """A caller's (lo, hi) if both are finite and lo < hi, else None."""
    try:
        lo_raw, hi_raw = value  # type: ignore[misc]
    except (TypeError, ValueError):
        return None
    lo, hi = finite(lo_raw), finite(hi_raw)
    if lo is None or hi is None or not lo < hi or not math.isfinite(hi - lo):
        return None
    return lo, hi


# --------------------------------------------------------------------------- ticks


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
    lo_f, hi_f = finite(lo), finite(hi)
    if lo_f is None or hi_f is None:
        return []
    lo_f, hi_f = min(lo_f, hi_f), max(lo_f, hi_f)
    if lo_f == hi_f:
        return [_tidy(lo_f)]
    if not math.isfinite(hi_f - lo_f):
        return [_tidy(lo_f), _tidy(hi_f)]
    return _ticks_with_step(lo_f, hi_f, _nice_step(hi_f - lo_f, target))


def axis_range(
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


def padded(lo: float, hi: float, share: float = 0.02) -> tuple[float, float]:
    """Widen a data range a little so data does not sit on the frame, without crossing 0."""
    pad = (hi - lo) * share
    if not math.isfinite(pad) or pad == 0:
        return lo, hi
    new_lo = lo - pad if not (lo >= 0 > lo - pad) else 0.0
    new_hi = hi + pad if not (hi <= 0 < hi + pad) else 0.0
    return new_lo, new_hi


def time_ticks(end_seconds: float, most: int) -> list[float]:
    """Ticks in seconds from 0 to ``end_seconds`` at a clock-friendly step (1, 2, 5, 10,
    15, 30 s, 1, 2, 5, 10, 15, 30 min, 1 h, …): the smallest giving at most ``most``."""
    if not end_seconds > 0:
        return [0.0]
    step = next((s for s in _TIME_STEPS if end_seconds / s <= max(most, 1)), None)
    if step is None:
        step = _TIME_STEPS[-1] * math.ceil(end_seconds / (_TIME_STEPS[-1] * max(most, 1)))
    return [float(k * step) for k in range(int(end_seconds // step) + 1)]


# --------------------------------------------------------------------------- formats


def coord(value: float) -> str:
    """An SVG coordinate with at most one decimal: 12, 12.5, -3.1."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def compact_count(value: float) -> str:
    """Large numbers for people: 950, 12k, 1.2M (from 10,000 up)."""
    if abs(value) >= 1e4:
        for divisor, suffix in _UNITS:
            if abs(value) >= divisor:
                return f"{value / divisor:.3g}{suffix}"
    return f"{value:.0f}" if value == int(value) else f"{value:.3g}"


def format_number(fmt: str, value: float) -> str:
    """Format a number with the caller's format string, falling back to 3 significant
    digits when the format does not suit the value."""
    if fmt == DEFAULT_FORMAT and abs(value) >= 1e4:
        return compact_count(value)  # 12k, 1.5M rather than 1.2e+04, 1.5e+06
    try:
        return str(fmt.format(value))
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
        return DEFAULT_FORMAT.format(value)


def tick_labels(ticks: Sequence[float], fmt: str) -> list[str]:
    """Labels for ``ticks``; when the format makes neighbours equal, use enough decimals."""
    largest = max((abs(t) for t in ticks), default=0.0)
    if fmt == DEFAULT_FORMAT and largest >= 1e4:
        # one unit for the whole axis: 800k, 1.2M would read as mixed scales
        divisor, suffix = next((d, u) for d, u in _UNITS if largest >= d)
        labels = [f"{t / divisor:.3g}{suffix}" if t else "0" for t in ticks]
    else:
        labels = [format_number(fmt, t) for t in ticks]
    if len(set(labels)) < len(labels) and len(ticks) > 1:
        step = min(abs(b - a) for a, b in zip(ticks, ticks[1:], strict=False) if b != a)
        decimals = max(0, -math.floor(math.log10(step)) + 1) if step > 0 else 3
        labels = [f"{t:.{min(decimals, 12)}f}" for t in ticks]
    return labels


def span_text(values: Sequence[float], fmt: str) -> str:
    """'lo to hi' of ``values`` in ``fmt``, for descriptions."""
    return f"{format_number(fmt, min(values))} to {format_number(fmt, max(values))}"


def clock(seconds: float) -> str:
    """A duration as a clock: 12:05 for 725 seconds, 1:02:05 past an hour; negative or
    non-finite durations read 0:00. Rounds to the nearest second."""
    value = finite(seconds)
    total = max(0, int(round(value))) if value is not None else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
