"""Template filters for interview pages."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from interviews.markdown import render_markdown
from interviews.timechart import clock

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Answer Markdown as sanitised HTML (raw HTML in the text stays inert)."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by nh3


@register.filter
def as_clock(seconds: float | int | None) -> str:
    """725 -> "12:05"."""
    return clock(seconds or 0)


@register.filter
def ms_clock(milliseconds: int | None) -> str:
    """Milliseconds since the start as a clock: 192000 -> "3:12"."""
    return clock((milliseconds or 0) / 1000)


@register.filter
def percent_of(part: float | int | None, whole: float | int | None) -> int:
    """``part`` as a whole percentage of ``whole``, capped at 100."""
    if not whole:
        return 0
    return max(0, min(100, round(100 * (part or 0) / whole)))
