"""Line charts, histograms and scatter plots of mlsd_site.charts."""

import math
import re
import xml.etree.ElementTree as ET

import pytest

from mlsd_site import charts
from mlsd_site.charts import PALETTE, Series, histogram, line_chart, scatter
from mlsd_site.charts.cartesian import lttb
from mlsd_site.tests.chart_helpers import (
    NS,
    by_class,
    make_histogram,
    make_line,
    make_scatter,
    parse,
    roc_points,
    texts,
)

# --------------------------------------------------------------------------- line chart


def axis_box(root: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the plot, from the x axis and the y gridlines."""
    (axis,) = by_class(root, "chart-axis")
    left, bottom, right = map(float, re.fullmatch(r"M(\S+) (\S+)H(\S+)", axis.get("d")).groups())
    (grid,) = by_class(root, "chart-grid")
    tops = [float(y) for y in re.findall(r"M\S+ (\S+)H", grid.get("d"))]
    return left, min(tops), right, bottom


def test_roc_chart_has_the_chance_line_corner_to_corner():
    root = parse(make_line())
    (diagonal,) = by_class(root, "chart-diagonal")
    x0, y0, x1, y1 = map(
        float, re.fullmatch(r"M(\S+) (\S+)L(\S+) (\S+)", diagonal.get("d")).groups()
    )
    left, top, right, bottom = axis_box(root)
    assert (x0, y0, x1, y1) == (left, bottom, right, top)
    assert diagonal.get("stroke-dasharray")
    assert "y = x" in root.find(f"{NS}desc").text
    assert not by_class(parse(make_line(diagonal=False)), "chart-diagonal")


def test_roc_ticks_and_labels():
    root = parse(make_line(width=480))
    x_ticks = texts(by_class(root, "chart-ticks-x")[0])
    assert x_ticks == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    # At the natural width (a card's, on a phone too) fewer ticks, as large as ever.
    assert texts(by_class(parse(make_line()), "chart-ticks-x")[0]) == ["0", "0.5", "1"]
    assert "False positive rate" in texts(root)
    assert "True positive rate" in texts(root)


def test_legend_only_with_more_than_one_series():
    two = parse(make_line())
    (legend,) = by_class(two, "chart-legend")
    assert texts(legend) == ["model", "baseline"]
    one = parse(make_line(series=[Series("model", roc_points())]))
    assert not by_class(one, "chart-legend")


def test_series_colours_follow_the_palette_and_reject_unsafe_values():
    series = [Series(f"s{i}", [(0, i), (1, i + 1)]) for i in range(3)]
    series.append(Series("custom", [(0, 1), (1, 2)], color="#123456"))
    series.append(Series("unsafe", [(0, 1), (1, 2)], color="url(javascript:x)"))
    root = parse(line_chart(series=series, title="t", x_label="x", y_label="y"))
    strokes = [p.get("stroke") for p in by_class(root, "chart-series")]
    assert strokes == [PALETTE[0], PALETTE[1], PALETTE[2], "#123456", PALETTE[4]]


def test_long_line_series_are_downsampled():
    points = [(i, math.sin(i / 50)) for i in range(5000)]
    root = parse(line_chart(series=[Series("s", points)], title="t", x_label="x", y_label="y"))
    (path,) = by_class(root, "chart-series")
    pairs = re.findall(r"-?[\d.]+ -?[\d.]+", path.get("d"))
    assert 300 <= len(pairs) <= charts.MAX_LINE_POINTS
    assert "5000 points (drawn as 400)" in root.find(f"{NS}desc").text


def test_lttb_keeps_ends_and_peaks():
    points = [(float(i), 0.0) for i in range(1000)]
    points[500] = (500.0, 100.0)
    sampled = lttb(points, 50)
    assert len(sampled) == 50
    assert sampled[0] == points[0] and sampled[-1] == points[-1]
    assert (500.0, 100.0) in sampled


def test_step_series_draws_horizontal_then_vertical():
    svg = line_chart(
        series=[Series("best", [(0, 0), (1, 1), (2, 2)], kind="step")],
        title="t",
        x_label="x",
        y_label="y",
        x_range=(0, 2),
        y_range=(0, 2),
    )
    (path,) = by_class(parse(svg), "chart-series")
    pairs = [tuple(map(float, p.split())) for p in re.findall(r"-?[\d.]+ -?[\d.]+", path.get("d"))]
    assert len(pairs) == 5
    for (ax, ay), (bx, by) in zip(pairs, pairs[1:], strict=False):
        assert ax == bx or ay == by  # every segment is axis-parallel
    assert pairs[1][1] == pairs[0][1]  # first move is horizontal


def test_points_kind_draws_markers():
    svg = line_chart(
        series=[Series("bins", [(0.1, 0.12), (0.5, 0.45), (0.9, 0.8)], kind="points")],
        title="Reliability",
        x_label="predicted",
        y_label="observed",
        x_range=(0, 1),
        y_range=(0, 1),
        diagonal=True,
    )
    (group,) = by_class(parse(svg), "chart-series")
    assert len(list(group.iter(f"{NS}circle"))) == 3


def test_data_outside_an_explicit_range_is_clipped_to_the_plot():
    series = [
        Series("line", [(-5, -5), (0.5, 0.5), (5, 5)]),
        Series("dots", [(0.5, 0.5), (3, 0.5)], kind="points"),
    ]
    root = parse(
        line_chart(
            series=series, title="t", x_label="x", y_label="y", x_range=(0, 1), y_range=(0, 1)
        )
    )
    left, top, right, bottom = axis_box(root)
    line, dots = by_class(root, "chart-series")
    for pair in re.findall(r"-?[\d.]+ -?[\d.]+", line.get("d")):
        x, y = map(float, pair.split())
        assert left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1
    assert len(list(dots.iter(f"{NS}circle"))) == 1


def test_time_slices_use_the_given_tick_labels():
    weeks = [f"week {i}" for i in range(1, 7)]
    svg = line_chart(
        series=[Series("ndcg@10", [(i, 0.6 + 0.01 * i) for i in range(6)])],
        title="NDCG@10 per week",
        x_label="slice",
        y_label="NDCG@10",
        x_ticks_labels=weeks,
        y_format="{:.2f}",
        width=480,
    )
    root = parse(svg)
    assert texts(by_class(root, "chart-ticks-x")[0]) == weeks
    y_labels = texts(by_class(root, "chart-ticks-y")[0])
    assert all(re.fullmatch(r"0\.\d\d", t) for t in y_labels)


def test_many_tick_labels_are_thinned_not_overlapped():
    labels = [f"2025-01-{d:02d}" for d in range(1, 32)]
    svg = line_chart(
        series=[Series("s", [(i, i) for i in range(31)])],
        title="t",
        x_label="day",
        y_label="y",
        x_ticks_labels=labels,
    )
    shown = texts(by_class(parse(svg), "chart-ticks-x")[0])
    assert 2 <= len(shown) < 31
    assert shown[0] == labels[0]


def test_unknown_series_kind_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        Series("s", [], kind="area")


# --------------------------------------------------------------------------- histogram


def test_histogram_bars_and_zero_marker():
    root = parse(make_histogram())
    bars = list(by_class(root, "chart-bars")[0].iter(f"{NS}rect"))
    assert len(bars) == 8
    (zero,) = by_class(root, "chart-zero")
    x = float(re.match(r"M(\S+)", zero.get("d")).group(1))
    left, _, right, _ = axis_box(root)
    assert math.isclose(x, (left + right) / 2, abs_tol=0.1)  # 0 is the middle of [-2, 2]
    desc = root.find(f"{NS}desc").text
    assert "8 bins" in desc and "64 rows" in desc
    assert not by_class(parse(make_histogram(highlight_zero=False)), "chart-zero")
    no_zero = histogram(edges=[1, 2, 3], counts=[1, 2], title="t", x_label="x")
    assert not by_class(parse(no_zero), "chart-zero")


def test_histogram_count_ticks_are_whole_numbers():
    svg = histogram(edges=[0, 1, 2], counts=[1, 2], title="t", x_label="x")
    labels = texts(by_class(parse(svg), "chart-ticks-y")[0])
    assert labels == ["0", "1", "2"]


def test_histogram_rejects_mismatched_edges():
    with pytest.raises(ValueError, match="edges"):
        histogram(edges=[0, 1], counts=[1, 2], title="t", x_label="x")


# --------------------------------------------------------------------------- scatter


def test_scatter_draws_points_and_diagonal_on_a_shared_range():
    root = parse(make_scatter())
    assert len(list(by_class(root, "chart-series")[0].iter(f"{NS}circle"))) == 20
    assert by_class(root, "chart-diagonal")
    x_labels = texts(by_class(root, "chart-ticks-x")[0])
    y_labels = texts(by_class(root, "chart-ticks-y")[0])
    assert x_labels == y_labels
    assert not by_class(parse(make_scatter(diagonal=False)), "chart-diagonal")


def test_scatter_caps_the_number_of_markers():
    points = [(i % 97, i % 89) for i in range(10_000)]
    root = parse(scatter(points=points, title="t", x_label="x", y_label="y"))
    assert len(list(root.iter(f"{NS}circle"))) == charts.MAX_SCATTER_POINTS
    assert "10000 points (1500 drawn)" in root.find(f"{NS}desc").text
