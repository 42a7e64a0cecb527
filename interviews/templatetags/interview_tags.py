"""Template filters for interview pages."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from interviews.markdown import highlight_quotes, render_markdown
from mlsd_site.charts import clock

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Answer Markdown as sanitised HTML (raw HTML in the text stays inert)."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by nh3


@register.filter
def highlight(rendered: str, quotes) -> SafeString:
    """Mark the evidence ``quotes`` (strings or objects with ``.text``) in rendered
    Markdown: ``{{ answer.text|markdown|highlight:quotes }}``."""
    texts = [getattr(quote, "text", quote) for quote in (quotes or [])]
    return mark_safe(highlight_quotes(str(rendered), texts))  # noqa: S308 - re-escaped


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


LEVEL_WORDS = {1: "weak", 2: "mixed", 3: "solid · hire bar", 4: "strong"}


@register.filter
def level_word(level: int | None) -> str:
    """A rubric level's anchor word: 3 -> "solid · hire bar"."""
    return LEVEL_WORDS.get(level or 0, "")


@register.filter
def level_short(level: int | None) -> str:
    """3 -> "solid"."""
    return LEVEL_WORDS.get(level or 0, "").split(" · ")[0]


@register.filter
def percent(value: float | None, places: int = 0) -> str:
    """0.734 -> "73%"; None -> "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.{int(places)}f}%"


@register.filter
def get_item(mapping: dict, key: object) -> object:
    """``counts|get_item:"mine"``: a dictionary value by a variable key."""
    return mapping.get(key) if hasattr(mapping, "get") else None
