"""The rubric's verdict rules (pure): thresholds at their exact boundaries, "not reached",
the red-flag cap, incomplete scorecards, and the panel consensus."""

from decimal import Decimal
from fractions import Fraction

import pytest

from interviews.models import Grade
from interviews.scorecards import verdict as rules

# The real rubric's weights (interviews/catalogue/rubric.json).
WEIGHTS = {1: Decimal("0.15"), 2: Decimal("0.15"), 3: Decimal("0.15"), 4: Decimal("0.25"),
           5: Decimal("0.2"), 6: Decimal("0.1")}
EQUAL = dict.fromkeys(range(1, 7), Decimal("0.1"))


def levels(*values):
    return dict(zip(range(1, 7), values, strict=True))


def suggest(values, weights=WEIGHTS, red_flags=False):
    return rules.suggest(levels=levels(*values), weights=weights, red_flags=red_flags)


@pytest.mark.parametrize(("values", "weights", "mean", "verdict"), [
    # Exactly 3.5 with nothing below 3: Strong hire.
    ((4, 4, 4, 3, 3, 3), EQUAL, Fraction(7, 2), rules.STRONG_HIRE),
    # 3.5 or more but a step at 2: only Hire.
    ((4, 4, 4, 4, 4, 2), EQUAL, Fraction(11, 3), rules.HIRE),
    # Exactly 2.75 under the real weights (0.45 + 0.3 + 0.45 + 0.75 + 0.6 + 0.2), no 1: Hire.
    ((3, 2, 3, 3, 3, 2), WEIGHTS, Fraction(11, 4), rules.HIRE),
    # Just under 2.75: No hire.
    ((2, 2, 3, 3, 3, 3), WEIGHTS, Fraction(27, 10), rules.NO_HIRE),
    # A high mean with a step at 1: No hire.
    ((4, 4, 4, 4, 4, 1), EQUAL, Fraction(7, 2), rules.NO_HIRE),
    # Exactly 2.0: No hire; below it: Strong no hire.
    ((2, 2, 2, 2, 2, 2), WEIGHTS, Fraction(2), rules.NO_HIRE),
    ((2, 2, 2, 2, 1, 2), WEIGHTS, Fraction(9, 5), rules.STRONG_NO_HIRE),
])
def test_rules_at_their_boundaries(values, weights, mean, verdict):
    suggestion = suggest(values, weights)
    assert suggestion.mean == mean
    assert suggestion.verdict == verdict
    assert suggestion.is_complete and not suggestion.capped


def test_the_mean_uses_the_rubric_weights_not_a_plain_average():
    # A 4 on the heaviest step (0.25) and a 1 on the lightest (0.1).
    suggestion = suggest((2, 2, 2, 4, 2, 1))
    assert suggestion.mean == Fraction(12, 5)  # a plain average would be 13/6 = 2.17
    assert suggestion.mean_decimal == Decimal("2.400")


def test_not_reached_counts_as_one_in_the_mean_and_in_the_rules():
    reached = suggest((4, 4, 4, 4, 4, 4), EQUAL)
    not_reached = suggest((4, 4, 4, 4, 4, rules.NOT_REACHED), EQUAL)
    assert reached.verdict == rules.STRONG_HIRE
    assert not_reached.mean == Fraction(7, 2)  # (5 * 4 + 1) / 6
    assert not_reached.lowest == 1
    # Mean 3.5, but a step "at 1": not even Hire.
    assert not_reached.verdict == rules.NO_HIRE
    assert "at 1" in " ".join(not_reached.reasons)


def test_a_red_flag_caps_the_suggestion_at_no_hire():
    capped = suggest((4, 4, 4, 4, 4, 4), red_flags=True)
    assert capped.verdict == rules.NO_HIRE and capped.capped
    assert any("red flag" in reason.lower() for reason in capped.reasons)
    # Already below the cap: unchanged, not "capped".
    low = suggest((1, 1, 2, 1, 1, 1), red_flags=True)
    assert low.verdict == rules.STRONG_NO_HIRE and not low.capped


def test_an_incomplete_scorecard_has_a_provisional_mean_and_no_verdict():
    suggestion = rules.suggest(levels={1: 4, 4: 2}, weights=WEIGHTS, red_flags=False)
    assert suggestion.verdict is None
    assert suggestion.missing_steps == (2, 3, 5, 6)
    # (0.15 * 4 + 0.25 * 2) / 0.4
    assert suggestion.mean == Fraction(11, 4)
    assert rules.suggest(levels={}, weights=WEIGHTS, red_flags=True).mean is None


@pytest.mark.parametrize(("verdicts", "expected"), [
    (["hire"], "hire"),
    (["hire", "strong_no_hire"], "strong_no_hire"),  # two graders: the more cautious
    (["strong_hire", "hire"], "hire"),
    (["hire", "no_hire", "strong_hire"], "hire"),  # three: the middle one
    (["no_hire", "no_hire", "strong_hire"], "no_hire"),
])
def test_consensus_is_the_lower_median(verdicts, expected):
    assert rules.consensus(verdicts) == expected


def test_mean_of_weighted_means_is_exact_and_rounded_half_up():
    assert rules.mean_of([Decimal("3.050"), Decimal("2.700")]) == Decimal("2.875")
    assert rules.mean_of([Decimal("3.001"), Decimal("3.002")]) == Decimal("3.002")


def test_the_model_choices_are_the_rules_verdicts_in_order():
    assert [value for value, _ in Grade.Verdict.choices] == [c for c, _ in rules.VERDICTS]
    assert dict(Grade.Verdict.choices) == rules.VERDICT_LABELS
