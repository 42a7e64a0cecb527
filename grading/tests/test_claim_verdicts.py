"""The verdict rules of design claims (``grading.engine.claims``), pure: intervals against a
claimed value, the latency tolerance, beating the baseline, sensible ranges."""

import math

import pytest

from grading.engine.claims import (
    INCONCLUSIVE,
    NOT_MEASURED,
    NOT_SUPPORTED,
    SUPPORTED,
    Measurement,
    latency_value_problem,
    metric_value_problem,
    model_size_value_problem,
    verdict_against_threshold,
    verdict_beats,
)


@pytest.mark.parametrize(("low", "high", "comparator", "claimed", "verdict"), [
    (0.40, 0.44, "ge", 0.35, SUPPORTED),       # the whole interval above "at least 0.35"
    (0.35, 0.44, "ge", 0.35, SUPPORTED),       # touching the claimed value counts
    (0.30, 0.34, "ge", 0.35, NOT_SUPPORTED),   # wholly below
    (0.33, 0.37, "ge", 0.35, INCONCLUSIVE),    # straddles it
    (0.30, 0.34, "le", 0.35, SUPPORTED),
    (0.30, 0.35, "le", 0.35, SUPPORTED),
    (0.36, 0.40, "le", 0.35, NOT_SUPPORTED),
    (0.33, 0.37, "le", 0.35, INCONCLUSIVE),
])
def test_an_interval_supports_refutes_or_straddles_the_claim(low, high, comparator, claimed,
                                                              verdict):
    measured = Measurement(value=(low + high) / 2, low=low, high=high)
    assert verdict_against_threshold(measured=measured, comparator=comparator,
                                     claimed=claimed) == verdict


def test_the_point_alone_would_have_said_supported_where_the_interval_says_inconclusive():
    measured = Measurement(value=0.36, low=0.33, high=0.39)
    assert verdict_against_threshold(measured=Measurement(0.36), comparator="ge",
                                     claimed=0.35) == SUPPORTED
    assert verdict_against_threshold(measured=measured, comparator="ge",
                                     claimed=0.35) == INCONCLUSIVE


@pytest.mark.parametrize(("p99", "verdict"), [
    (40.0, SUPPORTED),       # well under 50 ms
    (47.4, SUPPORTED),       # 5.2 % under: outside the tolerance
    (48.0, INCONCLUSIVE),    # within 5 % of the claim
    (52.5, INCONCLUSIVE),    # exactly 5 % over
    (53.0, NOT_SUPPORTED),
])
def test_latency_within_five_percent_of_the_claim_is_too_close_to_call(p99, verdict):
    assert verdict_against_threshold(measured=Measurement(p99), comparator="le", claimed=50.0,
                                     tolerance=0.05) == verdict


def test_a_direct_comparison_without_tolerance_is_exact():
    assert verdict_against_threshold(measured=Measurement(2.0), comparator="le",
                                     claimed=2.0) == SUPPORTED
    assert verdict_against_threshold(measured=Measurement(2.01), comparator="le",
                                     claimed=2.0) == NOT_SUPPORTED


def test_a_figure_that_is_not_finite_is_not_measured():
    assert verdict_against_threshold(measured=Measurement(math.nan), comparator="le",
                                     claimed=1.0) == NOT_MEASURED


def test_an_unknown_comparator_is_a_programming_error():
    with pytest.raises(ValueError):
        verdict_against_threshold(measured=Measurement(1.0), comparator="eq", claimed=1.0)


@pytest.mark.parametrize(("mine", "theirs", "direction", "verdict"), [
    ((0.45, 0.47), (0.40, 0.44), "higher", SUPPORTED),
    ((0.40, 0.44), (0.45, 0.47), "higher", NOT_SUPPORTED),
    ((0.42, 0.46), (0.40, 0.44), "higher", INCONCLUSIVE),  # the intervals overlap
    ((0.30, 0.32), (0.35, 0.40), "lower", SUPPORTED),      # log loss: lower is better
    ((0.36, 0.38), (0.30, 0.32), "lower", NOT_SUPPORTED),
    ((0.31, 0.36), (0.35, 0.40), "lower", INCONCLUSIVE),
    ((0.98, 1.01), (1.10, 1.20), "target_one", SUPPORTED),  # calibration ratio: nearer 1
    ((1.20, 1.30), (0.97, 1.02), "target_one", NOT_SUPPORTED),
])
def test_beating_the_baseline_needs_intervals_that_do_not_overlap(mine, theirs, direction,
                                                                   verdict):
    def measured(ends):
        return Measurement(value=sum(ends) / 2, low=ends[0], high=ends[1])

    assert verdict_beats(candidate=measured(mine), baseline=measured(theirs),
                         direction=direction) == verdict


def test_sensible_ranges_of_claimed_values():
    assert metric_value_problem("ndcg_at_10", 0.35) is None
    assert "between 0 and 1" in metric_value_problem("ndcg_at_10", 35)
    assert "never negative" in metric_value_problem("log_loss", -0.1)
    assert metric_value_problem("rmse", 12.5) is None
    assert metric_value_problem("rmse", math.inf) == "Enter a finite number."
    assert latency_value_problem(50) is None
    assert latency_value_problem(0) and latency_value_problem(120_000)
    assert model_size_value_problem(20) is None
    assert model_size_value_problem(-1) and model_size_value_problem(1e9)
