"""Filters for the serving figures in tables: a request rate and a cost in US dollars, as
the submission page writes them (``grading.selectors.serving``)."""

from django import template

from grading.selectors.serving import rate_text, usd_text

register = template.Library()


@register.filter
def serving_rate(value: float | None, unit: str = " rps") -> str:
    """``11,200 rps`` (``|serving_rate:""``: ``11,200``); ``—`` when no rate is within the
    budget."""
    return rate_text(value, unit=unit)


@register.filter
def serving_usd(value: float | None) -> str:
    """``$0.00123``; ``—`` when there is no cost (no rate within the budget)."""
    return usd_text(value)
