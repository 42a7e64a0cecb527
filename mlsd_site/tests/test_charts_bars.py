"""Bar charts and radar charts of mlsd_site.charts."""

import math

import pytest

from mlsd_site.charts import PALETTE, WARNING, Series, bar_chart, radar_chart
from mlsd_site.tests.chart_helpers import NS, RUBRIC, by_class, make_bars, make_radar, parse, texts

# --------------------------------------------------------------------------- bar chart


def test_bars_over_their_reference_get_the_warning_colour():
    root = parse(make_bars(bars=[("p50", 12.0), ("p90", 50.0), ("p99", 130.0)]))
    fills = [bar.get("fill") for bar in by_class(root, "chart-bar")]
    assert fills == [PALETTE[0], PALETTE[0], WARNING]  # equal to the budget is not over
    assert len(by_class(root, "chart-over")) == 1
    (reference,) = by_class(root, "chart-reference")
    assert reference.get("d").count("M") == 3
    assert texts(by_class(root, "chart-legend")[0]) == ["within budget", "over budget", "budget"]
    assert "1 of 3 over budget" in root.find(f"{NS}desc").text


def test_bars_without_reference_and_with_missing_references():
    root = parse(make_bars(reference=None))
    assert {bar.get("fill") for bar in by_class(root, "chart-bar")} == {PALETTE[0]}
    assert not by_class(root, "chart-reference") and not by_class(root, "chart-legend")
    root = parse(make_bars(reference=[10.0, math.nan, 100.0]))
    fills = [bar.get("fill") for bar in by_class(root, "chart-bar")]
    assert fills == [WARNING, PALETTE[0], WARNING]
    assert by_class(root, "chart-reference")[0].get("d").count("M") == 2


def test_bar_values_labels_and_negative_values():
    root = parse(bar_chart(bars=[("up", 3.0), ("down", -1.5)], title="t", y_label="change"))
    assert texts(by_class(root, "chart-values")[0]) == ["3", "-1.5"]
    assert {"up", "down"} <= set(texts(root))
    up, down = by_class(root, "chart-bar")
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(down.get("y")))


def test_long_bar_labels_are_rotated_and_kept():
    bars = [(f"Category number {i}", float(i + 1)) for i in range(9)]
    root = parse(bar_chart(bars=bars, title="t", y_label="y"))
    labels = list(by_class(root, "chart-ticks-x")[0].iter(f"{NS}text"))
    assert len(labels) == 9 and all("rotate(-35" in el.get("transform") for el in labels)


def test_bar_reference_length_must_match():
    with pytest.raises(ValueError, match="reference"):
        make_bars(reference=[1.0])


# --------------------------------------------------------------------------- radar chart


def test_radar_has_a_polygon_per_series_and_a_spoke_per_axis():
    root = parse(make_radar())
    assert len(list(root.iter(f"{NS}polygon"))) == 2
    assert len(by_class(root, "chart-series")) == 2
    assert len(by_class(root, "chart-spoke")) == 6
    labels = " ".join(texts(by_class(root, "chart-axis-labels")[0]))
    for axis in RUBRIC:
        assert all(word in labels for word in axis.split())
    assert texts(by_class(root, "chart-rings")[0]) == ["1", "2", "3", "4"]
    assert texts(by_class(root, "chart-legend")[0]) == ["you", "bar"]


def test_radar_vertices_scale_with_value():
    root = parse(
        radar_chart(
            axes=["a", "b", "c", "d"],
            series=[Series("s", [(0, 4), (1, 2), (2, 0), (3, 8)])],
            max_value=4,
            title="t",
        )
    )
    (polygon,) = root.iter(f"{NS}polygon")
    pts = [tuple(map(float, p.split(","))) for p in polygon.get("points").split()]
    spokes = by_class(root, "chart-spoke")
    cx, cy = float(spokes[0].get("x1")), float(spokes[0].get("y1"))
    radius = cy - float(spokes[0].get("y2"))
    distances = [math.dist((cx, cy), p) for p in pts]
    assert distances == pytest.approx([radius, radius / 2, 0, radius], abs=0.2)  # 8 clamps to 4


def test_radar_ignores_bad_axis_indexes_and_non_finite_values():
    svg = radar_chart(
        axes=["a", "b", "c"],
        series=[Series("s", [(0, 1), (1.5, 2), (7, 3), (-1, 2), (2, math.inf), (1, 2)])],
        max_value=math.nan,
        title="t",
    )
    root = parse(svg)
    desc = root.find(f"{NS}desc").text
    assert "a 1, b 2, c none" in desc
    assert "scored 0 to 2" in desc  # max_value taken from the data
