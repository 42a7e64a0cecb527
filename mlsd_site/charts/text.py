"""Caller text made safe and measured: escaping for XML, one-line cleaning, an estimate of
the rendered width, and fitting or wrapping into a width (no font files are read)."""

from __future__ import annotations

import html
import re

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: object) -> str:
    """Escape for XML text and attribute values; drop characters XML 1.0 cannot hold."""
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def clean_text(text: object) -> str:
    """Caller text as a single line (newlines and tabs become spaces), not yet escaped."""
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


def text_width(text: str, size: float) -> float:
    """A generous estimate of the rendered width of ``text`` in system-ui at ``size`` px."""
    return sum(_char_em(ch) for ch in text) * size


def fit(text: str, max_px: float, size: float) -> str:
    """``text`` cut with an ellipsis so it fits into ``max_px``."""
    if text_width(text, size) <= max_px:
        return text
    while text and text_width(text + "…", size) > max_px:
        text = text[:-1]
    return text.rstrip() + "…" if text else "…"


def wrap(text: str, max_px: float, size: float, max_lines: int = 2) -> list[str]:
    """Word-wrap ``text`` into at most ``max_lines`` lines of at most ``max_px``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size) > max_px:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    return [fit(line, max_px, size) for line in lines] or [""]
