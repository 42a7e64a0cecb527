from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from interviews.markdown import ALLOWED_TAGS, render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png)",
    "<style>body{display:none}</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<details open ontoggle=alert(1)>",
    "`<script>` is fine in code, <b onmouseover=alert(1)>bold</b>",
    "<!-- <script>alert(1)</script> -->",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


class ElementCollector(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = ElementCollector()
    collector.feed(html)
    return collector.elements


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_raw_html_and_script_urls_in_answers_are_inert(payload):
    html = render_markdown(payload)
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, (payload, html)
        assert tag not in {"script", "img", "svg", "iframe", "style", "math"}
        for name, value in attrs.items():
            assert not name.startswith("on"), (payload, html)
            assert name != "style", (payload, html)
            if name == "href":
                assert urlsplit(value or "").scheme in {"http", "https", "mailto", ""}, html


def test_the_payload_text_is_kept_visible_but_escaped():
    html = render_markdown("<script>alert(1)</script>")
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


def test_markdown_keeps_the_formatting_candidates_use():
    html = render_markdown(
        "## Metrics\n\n- **NE** and *AUC*\n- ~~accuracy~~\n\n"
        "| metric | why |\n|---|---|\n| NE | calibration |\n\n"
        "```\nloss = bce(y, p)\n```\n\n1. first\n2. second\n\n> quote\n\n"
        "[paper](https://example.com/ne)"
    )
    for fragment in ("<h2>Metrics</h2>", "<strong>NE</strong>", "<em>AUC</em>", "<s>accuracy</s>",
                     "<table>", "<td>calibration</td>", "<pre><code>loss = bce(y, p)",
                     "<ol>", "<blockquote>", 'href="https://example.com/ne"', 'rel="nofollow'):
        assert fragment in html, fragment


def test_blank_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown("  \n\t ") == ""


def test_evidence_quotes_are_marked_in_the_rendered_answer_and_stay_inert():
    from interviews.markdown import highlight_quotes

    rendered = render_markdown("Predict **p(click)** for every <b>ad</b> & more.\n\n"
                               "- split by time\n  to avoid leakage")
    marked = highlight_quotes(rendered, ["for every <b>ad</b> & more",
                                         "split by time to avoid", "Predict p(click)", ""])
    assert ('<mark class="evidence-mark">for every &lt;b&gt;ad&lt;/b&gt; &amp; more</mark>'
            in marked)
    assert '<mark class="evidence-mark">split by time\nto avoid</mark> leakage' in marked
    # A quote across a tag is left alone rather than breaking the markup.
    assert "<strong>p(click)</strong>" in marked and marked.count("<mark") == 2
    assert "<b>" not in marked
