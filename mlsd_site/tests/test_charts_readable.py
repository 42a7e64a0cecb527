"""Chart text as it is drawn on screen. An SVG's text is sized in viewBox units and drawn
scaled to the card it sits in (never above its natural width: ``max-width``), so the size a
reader sees is the font size times (drawn width / viewBox width). This checks that size for
the charts of the model pages at the card widths of the two screens the site is checked on;
``tests/e2e/test_leaderboard_layout.py`` measures the same in Chromium.

Run: .venv/bin/python -m pytest mlsd_site/tests/test_charts_readable.py -p no:django -q
"""

import re
import xml.etree.ElementTree as ET

import pytest

from mlsd_site.charts import Series, line_chart
from mlsd_site.tests.chart_helpers import NS, make_histogram, make_line, make_scatter, parse

# The width of a chart's card, inside its padding, in CSS px: a submission page's chart
# cards are a third of the page at 1366 px (three columns of ``.charts``), and the whole
# page on a 390 px phone.
CARD_WIDTHS = {"laptop, 1366 px": 298, "phone, 390 px": 300}
MIN_TEXT_PX = 11


def drawn_text_sizes(svg: str, card_width: float) -> list[tuple[str, float]]:
    """(text, size on screen in CSS px) for every text of ``svg`` drawn in a card of
    ``card_width``, with font sizes inherited as SVG does."""
    root = parse(svg)
    view_width = float(root.get("viewBox").split()[2])
    natural = re.search(r"max-width:([\d.]+)px", root.get("style") or "")
    drawn = min(card_width, float(natural.group(1))) if natural else card_width
    scale = drawn / view_width
    sizes: list[tuple[str, float]] = []

    def walk(element: ET.Element, inherited: float) -> None:
        size = float(element.get("font-size", inherited))
        if element.tag == f"{NS}text":
            sizes.append(("".join(element.itertext()), size * scale))
        for child in element:
            walk(child, size)

    walk(root, 16.0)
    return sizes


def make_history() -> str:
    """The leaderboard's best-score chart as a phone gets it (its default size)."""
    return line_chart(
        series=[Series("best candidate", [(0, 0.5), (3, 0.45), (9, 0.41)], kind="step"),
                Series("baseline: global mean", [(0, 0.52), (9, 0.52)], dashed=True)],
        title="Best public score over time", x_label="hours since the first score",
        y_label="Log loss")


def make_histogram_with_tails() -> str:
    return make_histogram(below=12, above=7)


@pytest.mark.parametrize("make", [make_line, make_histogram, make_histogram_with_tails,
                                  make_scatter, make_history])
@pytest.mark.parametrize("screen", CARD_WIDTHS)
def test_the_model_pages_charts_draw_their_text_at_a_readable_size(make, screen):
    sizes = drawn_text_sizes(make(), CARD_WIDTHS[screen])
    assert sizes
    small = [(text, round(px, 2)) for text, px in sizes if px < MIN_TEXT_PX]
    assert not small, (screen, small[:5])


def test_a_wide_card_draws_a_chart_at_its_natural_size_not_larger():
    (text, px), *_ = drawn_text_sizes(make_line(), 1000)
    assert text == "ROC curve" and px == 13
    assert max(px for _, px in drawn_text_sizes(make_line(), 1000)) == 13
