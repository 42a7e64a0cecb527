"""The rubric's verdict rules: from six step levels to a suggested recommendation.

Pure (no Django import), so the scorecard page, the services, the tests and any report share
one implementation. Arithmetic is exact (``fractions.Fraction`` over the rubric's decimal
weights), so a mean that is exactly 2.75 is never read as 2.7499999.

The rules (issue 5):

* the weighted mean over steps 1 to 6 uses the weights of the session's rubric version;
* at least 3.5 with no step below 3: Strong hire;
* at least 2.75 with no step at 1: Hire;
* at least 2.0: No hire;
* otherwise: Strong no hire;
* any red flag caps the suggestion at No hire.

**"Not reached"** (the candidate never got to the step) counts as level 1, both in the mean
and in the "no step below 3" / "no step at 1" conditions: the candidate did not show the
skill, and running out of time must not score better than a weak answer.

Communication (rubric step 7) is scored and shown to the candidate, but its rubric weight is
0 and it does not enter these rules; a grader who thinks it should weigh can override the
suggestion, with a reason.

With several graders, the consensus verdict is the lower median of their final verdicts:
with two graders, the more cautious of the two (a hire needs both); with three, the middle
one. The consensus mean is the mean of their weighted means.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

STRONG_NO_HIRE = "strong_no_hire"
NO_HIRE = "no_hire"
HIRE = "hire"
STRONG_HIRE = "strong_hire"

# Worst to best: the order the rules, the cap and the consensus compare in.
VERDICTS: tuple[tuple[str, str], ...] = (
    (STRONG_NO_HIRE, "Strong no hire"),
    (NO_HIRE, "No hire"),
    (HIRE, "Hire"),
    (STRONG_HIRE, "Strong hire"),
)
VERDICT_RANK = {code: rank for rank, (code, _) in enumerate(VERDICTS)}
VERDICT_LABELS = dict(VERDICTS)

NOT_REACHED = "not_reached"
NOT_REACHED_LEVEL = 1
SCORED_STEPS = (1, 2, 3, 4, 5, 6)
# Communication is scored and shown but weighs nothing and is not in the rules.
COMMUNICATION_STEP = 7
GRADED_STEPS = (*SCORED_STEPS, COMMUNICATION_STEP)
LEVELS = (1, 2, 3, 4)

STRONG_HIRE_MEAN = Fraction(7, 2)
HIRE_MEAN = Fraction(11, 4)
NO_HIRE_MEAN = Fraction(2)

# A step's level as the grader gave it: 1 to 4, NOT_REACHED, or None (not scored yet).
StepLevel = int | str | None


def effective_level(level: StepLevel) -> int | None:
    """The number the rules use: "not reached" is 1; None stays None (not scored)."""
    if level == NOT_REACHED:
        return NOT_REACHED_LEVEL
    if level in LEVELS:
        return int(level)
    return None


def weighted_mean(levels: Mapping[int, int], weights: Mapping[int, Decimal | str | float]
                  ) -> Fraction | None:
    """Exact weighted mean of ``levels`` (step -> 1..4) with the rubric's ``weights``; None
    when the scored steps weigh nothing."""
    total = Fraction(0)
    weight_sum = Fraction(0)
    for step, level in levels.items():
        weight = Fraction(Decimal(str(weights.get(step, 0))))
        total += weight * level
        weight_sum += weight
    if weight_sum == 0:
        return None
    return total / weight_sum


def as_decimal(value: Fraction | None, places: int = 3) -> Decimal | None:
    """``value`` rounded half up to ``places`` decimals (for storage and display)."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        quantum, rounding=ROUND_HALF_UP)


def verdict_from_rules(mean: Fraction, lowest: int) -> str:
    """The uncapped rule for a complete scorecard."""
    if mean >= STRONG_HIRE_MEAN and lowest >= 3:
        return STRONG_HIRE
    if mean >= HIRE_MEAN and lowest >= 2:
        return HIRE
    if mean >= NO_HIRE_MEAN:
        return NO_HIRE
    return STRONG_NO_HIRE


def cap(verdict: str, ceiling: str) -> str:
    return verdict if VERDICT_RANK[verdict] <= VERDICT_RANK[ceiling] else ceiling


@dataclass(frozen=True)
class Suggestion:
    """What the rules say about a scorecard, complete or not.

    ``verdict`` is None until all six steps have a level (or "not reached"); ``mean`` is
    the weighted mean over the steps scored so far (provisional while incomplete)."""

    mean: Fraction | None
    verdict: str | None
    missing_steps: tuple[int, ...]
    lowest: int | None
    red_flagged: bool
    capped: bool
    reasons: tuple[str, ...] = field(default=())

    @property
    def is_complete(self) -> bool:
        return not self.missing_steps

    @property
    def mean_decimal(self) -> Decimal | None:
        return as_decimal(self.mean)

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(self.verdict or "", "")


def _fmt(value: Fraction) -> str:
    return f"{as_decimal(value, 2)}"


def suggest(*, levels: Mapping[int, StepLevel], weights: Mapping[int, Decimal | str | float],
            red_flags: bool) -> Suggestion:
    """Apply the rules to ``levels`` (step 1..6 -> 1..4, NOT_REACHED or None).

    Steps missing from ``levels`` or set to None are "not scored yet": the suggestion then
    has a provisional mean over the scored steps and no verdict."""
    effective = {step: effective_level(levels.get(step)) for step in SCORED_STEPS}
    scored = {step: level for step, level in effective.items() if level is not None}
    missing = tuple(step for step, level in effective.items() if level is None)
    mean = weighted_mean(scored, weights) if scored else None
    lowest = min(scored.values()) if scored else None
    if missing or mean is None or lowest is None:
        return Suggestion(mean=mean, verdict=None, missing_steps=missing, lowest=lowest,
                          red_flagged=red_flags, capped=False,
                          reasons=(f"Score every step to get a suggestion "
                                   f"({len(missing)} left).",))
    uncapped = verdict_from_rules(mean, lowest)
    reasons = [_rule_reason(uncapped, mean, lowest)]
    verdict = uncapped
    capped = False
    if red_flags:
        verdict = cap(uncapped, NO_HIRE)
        capped = verdict != uncapped
        reasons.append("A red flag caps the recommendation at No hire."
                       if capped else "A red flag is raised (the cap at No hire applies).")
    return Suggestion(mean=mean, verdict=verdict, missing_steps=(), lowest=lowest,
                      red_flagged=red_flags, capped=capped, reasons=tuple(reasons))


def _rule_reason(verdict: str, mean: Fraction, lowest: int) -> str:
    m = _fmt(mean)
    if verdict == STRONG_HIRE:
        return f"Mean {m} ≥ 3.5 and no step below 3."
    if verdict == HIRE:
        if mean >= STRONG_HIRE_MEAN:
            return f"Mean {m} ≥ 3.5 but a step is below 3, and none is at 1."
        return f"Mean {m} ≥ 2.75 and no step at 1."
    if verdict == NO_HIRE:
        if mean >= HIRE_MEAN and lowest == 1:
            return f"Mean {m} ≥ 2.75 but a step is at 1 (or not reached)."
        return f"Mean {m} is between 2.0 and 2.75."
    return f"Mean {m} is below 2.0."


def consensus(verdicts: Sequence[str]) -> str:
    """The panel's verdict: the lower median (two graders: the more cautious one)."""
    if not verdicts:
        raise ValueError("consensus of no verdicts")
    ordered = sorted(verdicts, key=VERDICT_RANK.__getitem__)
    return ordered[(len(ordered) - 1) // 2]


def mean_of(values: Sequence[Decimal]) -> Decimal:
    """The mean of stored weighted means, rounded to three decimals."""
    if not values:
        raise ValueError("mean of no values")
    total = sum((Fraction(value) for value in values), Fraction(0))
    result = as_decimal(total / len(values))
    assert result is not None
    return result
