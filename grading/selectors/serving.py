"""Reads for serving under load: a submission's figures and its latency-vs-load chart, and
the leaderboard's quality-versus-p99 scatter with its Pareto front.

Latency figures are measured on the server, not derived from labels, so they are shown at
full precision during a round; the scatter's quality values follow the round rules (the
board's rounded public values while it is open, as the table shows them).
"""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from django.db import connection
from django.db.models import FloatField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from grading.engine.serving import pareto_front
from grading.models import Score
from grading.selectors.leaderboards import HistoryChart, LeaderboardPage
from mlsd_site import charts

if TYPE_CHECKING:  # the cached page calls this module: a type only, no import cycle
    from grading.selectors.leaderboard_page import LeaderboardShown

# Candidates drawn on the scatter: an even stride through the board beyond this (the
# Pareto front is drawn from every entry all the same).
SCATTER_CANDIDATES = 400
SCATTER_WIDE = (640, 320)


@dataclass(frozen=True)
class ServingView:
    """A submission's serving figures (``Score.serving``) and its latency-vs-load chart."""

    figures: dict
    chart: str

    @property
    def at_target(self) -> dict:
        return self.figures["at_target"]

    @property
    def spike(self) -> dict:
        return self.figures["spike"]

    @property
    def max_rate_text(self) -> str:
        return rate_text(self.figures["max_rate_within_budget_rps"])

    @property
    def cost_text(self) -> str:
        return usd_text(self.figures["cost_per_million_usd"])

    @property
    def price_text(self) -> str:
        return usd_text(self.figures["price_per_core_hour_usd"])

    @property
    def service_text(self) -> str:
        """The mean time of one request, to three significant digits: "21.6 ms"."""
        return f"{self.figures['service_ms']:.3g} ms"


def rate_text(rate_rps: float | None, *, unit: str = " rps") -> str:
    """"11,200 rps", "2.02 rps" (``unit=""``: "11,200"); "—" when no rate is within
    budget."""
    if not rate_rps:
        return "—"
    return (f"{rate_rps:,.0f}" if rate_rps >= 100 else f"{rate_rps:,.3g}") + unit


def usd_text(value: float | None) -> str:
    """"$1.20", "$0.00123", "$0.0000123" (three significant digits below a dollar, never in
    exponent notation: "%.3g" wrote "$1.23e-05" for a fast model's cost); "—" for no value
    (no rate meets the budget)."""
    if value is None:
        return "—"
    if value >= 1:
        return f"${value:,.2f}"
    if value <= 0:
        return "$0"
    digits = max(2, 2 - math.floor(math.log10(value)))
    return "$" + f"{value:.{digits}f}".rstrip("0").rstrip(".")


def latency_load_chart(serving: dict) -> str:
    """p50, p95 and p99 against the request rate (a log axis), the budget as a horizontal
    line and the target rate as a vertical one."""
    curve = [point for point in serving["curve"] if point["rate_rps"] > 0]
    budget, target = serving["budget_ms"], serving["target_rps"]
    rates = [p["rate_rps"] for p in curve] + [target]
    # Whole decades around the rates drawn, so the budget line spans the plot.
    low = 10.0 ** math.floor(math.log10(min(rates)))
    high = 10.0 ** math.ceil(math.log10(max(rates)))
    top = max(p["p99_ms"] for p in curve)
    y_high = max(1.25 * budget, min(top * 1.05, 3 * budget))
    series = [charts.Series(name, [(p["rate_rps"], p[key]) for p in curve])
              for name, key in (("p50", "p50_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"))]
    series.append(charts.Series(f"budget {budget:g} ms", [(low, budget), (high, budget)],
                                color=charts.WARNING, dashed=True))
    series.append(charts.Series(f"target {target:g} rps", [(target, 0), (target, y_high)],
                                color=charts.PALETTE[3], dashed=True))
    return charts.line_chart(
        series=series, title="Latency against load", x_label="requests per second (log scale)",
        y_label="latency, ms", x_range=(low, high) if high > low else None,
        y_range=(0, y_high), x_log=True)


def serving_view(*, score: Score | None) -> ServingView | None:
    """The submission page's serving section; None before scoring or for a score from
    before the load test (scorer version 2)."""
    if score is None or not score.serving.get("curve"):
        return None
    return ServingView(figures=score.serving, chart=latency_load_chart(score.serving))


class ParetoPoint(NamedTuple):  # a tuple: a board has thousands
    name: str
    is_baseline: bool
    p99_ms: float
    quality: float


def leaderboard_pareto_points(*, board: "LeaderboardPage | LeaderboardShown"
                              ) -> list[ParetoPoint]:
    """Every entry of the board with serving figures: p99 at the target rate, and the
    quality the board's table shows for the split on screen (the rounded public Ladder
    score during a round, the private score once it is closed). One query, which reads
    only the p99 of each entry's serving figures, in the entries' order."""
    column = "public_primary" if board.split == "public" else "private_primary"
    rows = (board.leaderboard.entries
            .annotate(p99=Cast(KT("serving__p99_ms"), FloatField())).filter(p99__gt=0)
            .order_by("pk").values_list("display_name", "is_baseline", "p99", column))
    # The ORM's query, read without its per-row machinery: half the time for 10k entries.
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [ParetoPoint._make(row) for row in cursor.fetchall()]


def leaderboard_pareto_chart(*, board: "LeaderboardPage | LeaderboardShown"
                             ) -> HistoryChart | None:
    """Quality against p99 at the target rate (a log axis), one marker per entry, the
    baselines named, and the Pareto front (no entry both faster and better) as a staircase;
    None when no entry has serving figures."""
    points = leaderboard_pareto_points(board=board)
    if not points:
        return None
    front = [points[i] for i in pareto_front([(p.p99_ms, p.quality) for p in points],
                                             direction=board.primary.direction)]
    candidates = [p for p in points if not p.is_baseline]
    if len(candidates) > SCATTER_CANDIDATES:
        candidates = [candidates[(i * len(candidates)) // SCATTER_CANDIDATES]
                      for i in range(SCATTER_CANDIDATES)]
    series = [charts.Series("Pareto front", [(p.p99_ms, p.quality) for p in front],
                            color=charts.PALETTE[2], kind="step")]
    if candidates:
        series.append(charts.Series("candidates", [(p.p99_ms, p.quality) for p in candidates],
                                    color=charts.PALETTE[0], kind="points"))
    for index, baseline in enumerate(p for p in points if p.is_baseline):
        series.append(charts.Series(f"baseline: {baseline.name}",
                                    [(baseline.p99_ms, baseline.quality)],
                                    color=charts.PALETTE[(3 + index) % len(charts.PALETTE)],
                                    kind="points"))
    title = f"{board.primary.label} against p99 at the target rate"
    drawn = {"series": series, "title": title,
             "x_label": "p99 latency at the target rate, ms (log scale)",
             "y_label": f"{board.primary.label} ({board.split})", "x_log": True}
    width, height = SCATTER_WIDE
    return HistoryChart(wide=charts.line_chart(**drawn, width=width, height=height),
                        narrow=charts.line_chart(**drawn))
