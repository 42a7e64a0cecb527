"""A line chart on a logarithmic x axis (``line_chart(x_log=True)``): latency against
request rate, quality against p99."""

from mlsd_site.charts import Series, line_chart
from mlsd_site.tests.chart_helpers import NS, by_class, parse, texts


def test_a_log_axis_ticks_each_power_of_ten_and_tells_the_real_values():
    svg = line_chart(series=[Series("p99", [(3.0, 1.0), (30.0, 2.0), (300.0, 9.0)]),
                             Series("models", [(0.5, 4.0), (0.0, 5.0), (-1.0, 6.0)],
                                    kind="points")],
                     title="Latency against load", x_label="rate", y_label="ms", x_log=True)
    root = parse(svg)
    labels = texts(root)
    for tick in ("0.1", "1", "10", "100", "1000"):
        assert tick in labels
    # Markers at x <= 0 have no place on a log axis; the one at 0.5 says 0.5, not log10(0.5).
    (markers,) = [g for g in by_class(root, "chart-series") if g.get("data-series") == "models"]
    tips = [c.find(f"{NS}title").text for c in markers.iter(f"{NS}circle")]
    assert tips == ["models: 0.5, 4"]
    desc = root.find(f"{NS}desc").text
    assert "x 3 to 300" in desc and "logarithmic" in desc
    # Each decade takes the same width: 3 -> 30 -> 300 are evenly spaced.
    (line,) = [p for p in by_class(root, "chart-series") if p.get("data-series") == "p99"]
    xs = [float(x) for x in line.get("d").lstrip("M").split()[::2]]
    assert abs((xs[1] - xs[0]) - (xs[2] - xs[1])) < 0.2


def test_a_log_axis_counts_large_rates_in_thousands():
    svg = line_chart(series=[Series("p99", [(2_000.0, 1.0), (40_000.0, 3.0)])],
                     title="t", x_label="rate", y_label="ms", x_log=True)
    assert {"1000", "10k", "100k"} <= set(texts(parse(svg)))
