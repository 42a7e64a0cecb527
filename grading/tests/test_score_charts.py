"""The residual histogram says what it clips: the scorer counts the rows beyond the range it
draws (about the 0.5th to 99.5th percentiles), the chart draws them as labelled overflow
bins, and plot data stored before the counts existed is captioned instead (pure Python: no
database)."""

import re
import xml.etree.ElementTree as ET

import numpy as np

from grading.engine import metrics
from grading.engine.scoring import RESIDUAL_BINS, plots_for
from grading.selectors.score_charts import score_charts

NS = "{http://www.w3.org/2000/svg}"


def residual_plots(residuals: np.ndarray) -> dict:
    labels = np.full(len(residuals), 30.0)
    return plots_for(metrics.prepare("regression", labels, labels + residuals))["residuals"]


def test_the_scorer_counts_the_rows_beyond_the_drawn_range_apart():
    rng = np.random.default_rng(3)
    residuals = np.concatenate([rng.normal(0, 2, 10_000), [-80.0, -60.0, 95.0]])
    plot = residual_plots(residuals)
    low, high = np.quantile(residuals, [0.005, 0.995])
    assert len(plot["counts"]) == RESIDUAL_BINS
    assert plot["edges"][0] == round(low, 3) and plot["edges"][-1] == round(high, 3)
    assert plot["below"] == np.count_nonzero(residuals < low) == 51
    assert plot["above"] == np.count_nonzero(residuals > high) == 51
    # Every row is in one place: a bin, or a tail; the end bins hold no clipped rows.
    assert sum(plot["counts"]) + plot["below"] + plot["above"] == len(residuals)
    step = (high - low) / RESIDUAL_BINS
    assert plot["counts"][0] == np.count_nonzero((residuals >= low) & (residuals < low + step))


def test_even_a_constant_residual_is_counted_once():
    plot = residual_plots(np.concatenate([np.zeros(1000), [-5.0, 7.0]]))
    assert sum(plot["counts"]) + plot["below"] + plot["above"] == 1002


def histogram_of(plots: dict) -> tuple[str, ET.Element]:
    (title, svg), *_ = score_charts(task_type="regression", plots=plots, per_slice={},
                                    primary_label="RMSE")
    return title, ET.fromstring(svg)  # noqa: S314 -- our own output, the thing under test


def test_the_histogram_draws_the_tails_as_labelled_overflow_bins():
    edges = [-10 + 0.5 * i for i in range(41)]
    title, root = histogram_of({"residuals": {"edges": edges, "counts": [5] * 40,
                                              "below": 37, "above": 52}})
    assert title == "Residuals"
    bins = [el for el in root.iter() if el.get("class") == "chart-overflow"]
    assert [b.get("data-side") for b in bins] == ["below", "above"]
    assert ["".join(b.find(f"{NS}text").itertext()) for b in bins] == ["< -10", "> 10"]
    tips = [b.find(f"{NS}rect").find(f"{NS}title").text for b in bins]
    assert tips[0].startswith("37 rows below -10") and tips[1].startswith("52 rows above 10")
    # Off the axis: left of the first bin and right of the last one.
    bars = [el for el in root.iter(f"{NS}rect") if el.find(f"{NS}title") is not None
            and " to " in el.find(f"{NS}title").text]
    first_bar, last_bar = min(float(b.get("x")) for b in bars), max(
        float(b.get("x")) + float(b.get("width")) for b in bars)
    left, right = (float(b.find(f"{NS}rect").get("x")) for b in bins)
    assert left + float(bins[0].find(f"{NS}rect").get("width")) < first_bar
    assert right > last_bar
    assert "52 rows lie above 10" in root.find(f"{NS}desc").text


def test_plot_data_from_before_the_tail_counts_says_its_end_bins_hold_them():
    title, root = histogram_of({"residuals": {"edges": [0, 1, 2], "counts": [3, 4]}})
    assert re.search(r"first and last bins also hold the rows beyond them", title)
    assert not [el for el in root.iter() if el.get("class") == "chart-overflow"]
