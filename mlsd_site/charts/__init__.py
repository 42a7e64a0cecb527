"""Server-side SVG charts for Django templates (pure Python, standard library only, no JS).

Every public function takes keyword arguments only and returns the text of one complete
``<svg>`` element. The caller marks it safe (``mark_safe`` / ``|safe``), so the package
escapes every piece of caller text it embeds (titles, labels, legend names, tick labels,
tooltips, colours, ids) and strips characters that XML 1.0 forbids.

Conventions
-----------
* Non-finite or non-numeric numbers are dropped: a point whose x or y is NaN, inf or not a
  number is left out, a bar with such a value is left out. Data that ends up empty draws a
  valid chart that says "No data".
* Structural mistakes by the caller (a histogram whose ``edges`` are not one longer than its
  ``counts``, a ``reference`` list of the wrong length, an unknown ``Series.kind``, an
  element id that is not a plain id) raise ``ValueError``.
* Output is deterministic (no generated ids, no randomness) and compact (coordinates rounded
  to one decimal). Charts are responsive: ``viewBox`` + ``width="100%"``; most also carry a
  ``max-width`` style attribute of their natural width, so they shrink on small screens but
  never blow up their 12-13px text (the only inline style: the site's CSP allows style
  attributes, not ``<style>`` elements). Text shrinks with the chart: the charts on
  numeric axes are 320 units wide by default (``cartesian.CHART_WIDTH``), about the width
  of a card on a phone and of a third of a laptop's page, so their text is drawn at 11 px
  or more there; a page with a wider card passes ``width`` and shows a narrow copy on
  phones.
* Accessible: ``role="img"``, ``aria-label`` and ``<title>`` carry the chart title, ``<desc>``
  summarises the data (series, point counts, ranges). :func:`budget_bars` and
  :func:`timeline` sit under a page heading and do not draw their title.
* Line series with more than ``MAX_LINE_POINTS`` points are downsampled with
  largest-triangle-three-buckets (in pixel space, so peaks survive); scatter plots keep at
  most ``MAX_SCATTER_POINTS`` points (an even, deterministic stride).
* Elements carry ``class`` names (``chart-series``, ``chart-diagonal``, ``chart-bar``,
  ``chart-over``, ``chart-reference``, ``chart-spoke``, ``chart-marker``, ``chart-cursor``,
  ...) so templates and tests can find them; all styling is done with presentation
  attributes, so the charts need no stylesheet.

Modules: ``text`` (escaping, measuring, wrapping), ``scales`` (ticks, number and clock
formats), ``svg`` (colours, the document, legends, clipping), ``axes`` (the x/y layout),
``cartesian`` (lines, histograms, scatter plots), ``bars``, ``radar``, ``timeline``.
"""

from mlsd_site.charts.bars import bar_chart, budget_bars
from mlsd_site.charts.cartesian import (
    MAX_LINE_POINTS,
    MAX_SCATTER_POINTS,
    histogram,
    line_chart,
    scatter,
)
from mlsd_site.charts.radar import radar_chart
from mlsd_site.charts.scales import clock, nice_ticks
from mlsd_site.charts.series import Series
from mlsd_site.charts.svg import AMBER, PALETTE, WARNING
from mlsd_site.charts.timeline import timeline, timeline_plot

__all__ = [
    "AMBER",
    "MAX_LINE_POINTS",
    "MAX_SCATTER_POINTS",
    "PALETTE",
    "WARNING",
    "Series",
    "bar_chart",
    "budget_bars",
    "clock",
    "histogram",
    "line_chart",
    "nice_ticks",
    "radar_chart",
    "scatter",
    "timeline",
    "timeline_plot",
]
