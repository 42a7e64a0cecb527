"""Design claims against measurements: the verdict rules and the sensible ranges of a claimed
value, as plain functions (no Django), so that each rule is tested on its own.

A candidate claims, in steps 2-4 of an interview, something their model can be measured
against ("NDCG@10 on held-out data at least 0.35", "p99 at most 50 ms at the target rate").
A measurement with a 95 % interval supports the claim only when the whole interval is on the
claimed side; it refutes it only when the whole interval is on the other side; otherwise the
interval straddles the claimed value and the verdict is *inconclusive*. A measurement with no
interval (latency under load, the artifact's size) is compared directly, latency with a
tolerance of 5 % of the claim either way (one load test's p99 wobbles that much).

``grading.selectors.claims`` picks the figures (the public split, rounded, while a round is
open; the private one after it closes) and calls these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SUPPORTED = "supported"
NOT_SUPPORTED = "not_supported"
INCONCLUSIVE = "inconclusive"
NOT_MEASURED = "not_measured"

VERDICT_LABELS = {
    SUPPORTED: "Supported",
    NOT_SUPPORTED: "Not supported",
    INCONCLUSIVE: "Inconclusive",
    NOT_MEASURED: "Not measured",
}

AT_MOST = "le"
AT_LEAST = "ge"
COMPARATOR_SYMBOLS = {AT_MOST: "≤", AT_LEAST: "≥"}

#: A p99 within this share of the claimed value is too close to call.
LATENCY_TOLERANCE = 0.05

#: Metrics that live in [0, 1]; every other registered metric is non-negative.
UNIT_INTERVAL_METRICS = frozenset({
    "roc_auc", "pr_auc", "ndcg_at_10", "mrr", "map_at_10", "recall_at_10",
    "expected_calibration_error", "share_under_estimated",
})
#: Upper bounds of a sensible claim: beyond them the number is a typo, not a design.
METRIC_MAX = 1e6
LATENCY_MAX_MS = 60_000.0
MODEL_SIZE_MAX_MIB = 10_000.0


@dataclass(frozen=True)
class Measurement:
    """A measured figure and, where the scorer gives one, its 95 % interval."""

    value: float
    low: float | None = None
    high: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


def verdict_against_threshold(*, measured: Measurement, comparator: str, claimed: float,
                              tolerance: float = 0.0) -> str:
    """The verdict on "measured ``comparator`` claimed" (``"le"``: at most, ``"ge"``: at
    least). With an interval: supported when the whole interval is on the claimed side
    (touching the claimed value counts), not supported when it is wholly on the other side,
    inconclusive when it straddles the value. Without one: a direct comparison, inconclusive
    within ``tolerance`` (a share of the claimed value) of it."""
    if comparator not in COMPARATOR_SYMBOLS:
        raise ValueError(f"unknown comparator {comparator!r}")
    if not math.isfinite(measured.value) or not math.isfinite(claimed):
        return NOT_MEASURED
    if measured.has_interval:
        low, high = measured.low, measured.high
    else:
        if tolerance and abs(measured.value - claimed) <= tolerance * abs(claimed):
            return INCONCLUSIVE
        low = high = measured.value
    if comparator == AT_MOST:
        if high <= claimed:
            return SUPPORTED
        return NOT_SUPPORTED if low > claimed else INCONCLUSIVE
    if low >= claimed:
        return SUPPORTED
    return NOT_SUPPORTED if high < claimed else INCONCLUSIVE


def _distance_from_one(measured: Measurement) -> Measurement:
    """A target-one metric (calibration ratio) as its distance from 1, lower is better."""
    low = measured.low if measured.low is not None else measured.value
    high = measured.high if measured.high is not None else measured.value
    ends = (abs(low - 1.0), abs(high - 1.0))
    nearest = 0.0 if low <= 1.0 <= high else min(ends)
    return Measurement(value=abs(measured.value - 1.0), low=nearest, high=max(ends))


def verdict_beats(*, candidate: Measurement, baseline: Measurement, direction: str) -> str:
    """Whether the candidate's model beats the baseline on a metric whose ``direction`` is
    ``"higher"``, ``"lower"`` or ``"target_one"``: supported when the two intervals do not
    overlap and the candidate's is on the better side, not supported when they do not
    overlap and it is on the worse side, inconclusive when they overlap."""
    if direction == "target_one":
        candidate, baseline = _distance_from_one(candidate), _distance_from_one(baseline)
        direction = "lower"
    if direction not in ("higher", "lower"):
        raise ValueError(f"unknown direction {direction!r}")

    def ends(m: Measurement) -> tuple[float, float]:
        return (m.low, m.high) if m.has_interval else (m.value, m.value)

    (c_low, c_high), (b_low, b_high) = ends(candidate), ends(baseline)
    if not all(math.isfinite(x) for x in (c_low, c_high, b_low, b_high)):
        return NOT_MEASURED
    if direction == "higher":
        if c_low > b_high:
            return SUPPORTED
        return NOT_SUPPORTED if c_high < b_low else INCONCLUSIVE
    if c_high < b_low:
        return SUPPORTED
    return NOT_SUPPORTED if c_low > b_high else INCONCLUSIVE


def metric_value_problem(metric: str, value: float) -> str | None:
    """Why ``value`` cannot be a claimed value of ``metric``, or None if it can."""
    if not math.isfinite(value):
        return "Enter a finite number."
    if metric in UNIT_INTERVAL_METRICS and not 0.0 <= value <= 1.0:
        return "This metric lies between 0 and 1: enter a value in that range."
    if value < 0.0:
        return "This metric is never negative: enter a value of 0 or more."
    if value > METRIC_MAX:
        return f"Enter a value below {METRIC_MAX:g}."
    return None


def latency_value_problem(value_ms: float) -> str | None:
    if not math.isfinite(value_ms) or value_ms <= 0.0:
        return "Enter a latency in milliseconds above 0."
    if value_ms > LATENCY_MAX_MS:
        return f"Enter a latency of at most {LATENCY_MAX_MS:g} ms."
    return None


def model_size_value_problem(value_mib: float) -> str | None:
    if not math.isfinite(value_mib) or value_mib <= 0.0:
        return "Enter a size in MiB above 0."
    if value_mib > MODEL_SIZE_MAX_MIB:
        return f"Enter a size of at most {MODEL_SIZE_MAX_MIB:g} MiB."
    return None
