"""Markdown for answers: CommonMark with raw HTML off, then an allow-list sanitiser.

Pure (no Django import). Two layers, so that a bug in one still leaves answers inert:
markdown-it-py escapes any HTML the candidate types, and nh3 keeps only the tags below and
only http(s)/mailto links.
"""

import html
import re
from collections.abc import Iterable
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}
                      ).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """Safe HTML for ``text``; an empty string for blank text."""
    if not text or not text.strip():
        return ""
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def plain_text(text: str) -> str:
    """The words of ``text`` as a reader sees them rendered, white space collapsed: what a
    grader can select in the answer and quote as evidence."""
    rendered = render_markdown(text)
    if not rendered:
        return ""
    words = html.unescape(nh3.clean(rendered, tags=set(), attributes={}))
    return " ".join(words.split())


_TAG = re.compile(r"(<[^>]*>)")


def highlight_quotes(rendered: str, quotes: Iterable[str]) -> str:
    """Wrap the first occurrence of each quote in ``rendered`` (HTML from
    ``render_markdown``) in ``<mark class="evidence-mark">``.

    Only text between tags is searched and everything put back is escaped again, so the
    result is as safe as the input. White space in a quote matches any run of white space; a
    quote that crosses a tag (part of it bold, say) is left unmarked."""
    for quote in quotes:
        words = quote.split()
        if not words:
            continue
        pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
        parts = _TAG.split(rendered)
        for index in range(0, len(parts), 2):  # even indexes are text, odd ones tags
            text = html.unescape(parts[index])
            match = pattern.search(text)
            if match is None:
                continue
            parts[index] = (
                html.escape(text[:match.start()], quote=False)
                + '<mark class="evidence-mark">' + html.escape(match.group(), quote=False)
                + "</mark>" + html.escape(text[match.end():], quote=False)
            )
            break
        rendered = "".join(parts)
    return rendered
