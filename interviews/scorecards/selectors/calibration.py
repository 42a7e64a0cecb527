"""Calibration: agreement between interviewers per step and each interviewer's
leniency against the panel."""

from collections import defaultdict
from dataclasses import dataclass
from statistics import fmean

from django.db.models import Q

from interviews.models import (
    CaseStudy,
    Grade,
    InterviewSession,
    RubricStep,
    StepScore,
)
from interviews.scorecards import agreement as agree
from interviews.scorecards import verdict as rules
from interviews.scorecards.selectors.queue import IS_COMPLETE, with_grade_counts
from mlsd_site import charts


@dataclass
class StepAgreementRow:
    number: int
    title: str
    agreement: agree.Agreement


# Mean difference from co-graders (in levels) beyond which an interviewer is called more
# lenient or stricter than the panel.
LENIENCY_THRESHOLD = 0.2


@dataclass
class RaterRow:
    user_id: int
    username: str
    grades: int
    mean: float | None  # mean level over steps 1-6 of their grades on settled sessions
    offset: float | None  # mean (their level - co-grader's level), double-graded sessions
    offset_pairs: int
    distribution: agree.Distribution

    @property
    def leniency(self) -> str:
        if self.offset is None:
            return "no double-graded sessions yet"
        if self.offset >= LENIENCY_THRESHOLD:
            return "more lenient than the panel"
        if self.offset <= -LENIENCY_THRESHOLD:
            return "stricter than the panel"
        return "in line with the panel"


@dataclass
class Disagreement:
    session_id: int
    case_title: str
    step_number: int
    step_title: str
    levels: list[tuple[str, int]]

    @property
    def spread(self) -> int:
        values = [level for _, level in self.levels]
        return max(values) - min(values)


@dataclass
class CalibrationReport:
    case_studies: list[CaseStudy]
    case_slug: str
    sessions: int
    overall: agree.Agreement
    steps: list[StepAgreementRow]
    raters: list[RaterRow]
    panel_mean: float | None
    panel_distribution: agree.Distribution
    kappa_chart: str
    leniency_chart: str
    disagreements: list[Disagreement]


def _settled_sessions(case_study: CaseStudy | None):
    """Sessions whose scorecards are all in (``IS_COMPLETE``) or whose feedback is released.

    Every figure on the page is computed over these sessions only. A submitted grade on a
    session where a co-grader's draft is still open must not count anywhere (not even in its
    own grader's mean): otherwise the page before and after the co-grader submits differs by
    exactly the co-grader's levels, which ``policy.others_visible`` keeps hidden until the
    session is complete."""
    sessions = with_grade_counts(
        InterviewSession.objects.filter(status=InterviewSession.Status.SUBMITTED))
    if case_study is not None:
        sessions = sessions.filter(case_study=case_study)
    return sessions.filter(IS_COMPLETE | Q(feedback_released_at__isnull=False))


def calibration_report(*, case_study: CaseStudy | None = None) -> CalibrationReport:
    """Agreement between interviewers, per step, over every session graded by two or more
    interviewers: quadratic weighted Cohen's kappa, exact and adjacent agreement; and each
    interviewer's mean and distribution of levels against the panel. Only sessions whose
    scorecards are all in (or released) count, for every figure: a session with a draft still
    open adds nothing until its last grade is submitted. "Not reached" counts as level 1. For
    every pair of grades on a session, the first-submitted grade is rater A. Four queries."""
    case_studies = list(CaseStudy.objects.order_by("order", "title"))
    settled = _settled_sessions(case_study)
    # Double-graded: the sessions that give pairs for agreement and leniency.
    eligible = dict(settled.filter(submitted_count__gte=2)
                    .values_list("pk", "case_study__title"))
    scores = StepScore.objects.filter(grade__status=Grade.Status.SUBMITTED,
                                      grade__session__in=settled.values("pk"))
    rows = list(scores.order_by("grade__session_id", "grade__submitted_at", "grade_id")
                .values_list("grade__session_id", "grade_id", "grade__grader_id",
                             "grade__grader__username", "step_number", "level", "not_reached"))
    titles = dict(RubricStep.objects.filter(rubric__is_current=True)
                  .values_list("number", "title"))

    # session -> step -> [(grader_id, username, level)] in submission order
    by_session: dict[int, dict[int, list[tuple[int, str, int]]]] = defaultdict(
        lambda: defaultdict(list))
    rater_levels: dict[int, list[int | str]] = defaultdict(list)
    rater_names: dict[int, str] = {}
    rater_grades: dict[int, set[int]] = defaultdict(set)
    for session_id, grade_id, grader_id, username, step, level, not_reached in rows:
        rater_names[grader_id] = username
        rater_grades[grader_id].add(grade_id)
        value = rules.effective_level(rules.NOT_REACHED if not_reached else level)
        if value is None:
            continue
        if step != rules.COMMUNICATION_STEP:
            rater_levels[grader_id].append(rules.NOT_REACHED if not_reached else value)
        if session_id in eligible:
            by_session[session_id][step].append((grader_id, username, value))

    pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    offsets: dict[int, list[int]] = defaultdict(list)
    disagreements = []
    for session_id, steps in by_session.items():
        for step, entries in steps.items():
            for i, (rater_a, _, level_a) in enumerate(entries):
                for rater_b, _, level_b in entries[i + 1:]:
                    pairs[step].append((level_a, level_b))
                    if step != rules.COMMUNICATION_STEP:
                        offsets[rater_a].append(level_a - level_b)
                        offsets[rater_b].append(level_b - level_a)
            values = [level for _, _, level in entries]
            if len(values) > 1 and max(values) - min(values) >= 2:
                disagreements.append(Disagreement(
                    session_id=session_id, case_title=eligible[session_id], step_number=step,
                    step_title=titles.get(step, f"Step {step}"),
                    levels=[(name, level) for _, name, level in entries]))

    step_rows = [StepAgreementRow(number=n, title=titles.get(n, f"Step {n}"),
                                  agreement=agree.agreement(pairs.get(n, [])))
                 for n in (*rules.SCORED_STEPS, rules.COMMUNICATION_STEP)]
    overall = agree.agreement([pair for n in rules.SCORED_STEPS for pair in pairs.get(n, [])])

    def numeric(levels: list[int | str]) -> list[int]:
        return [rules.effective_level(level) or 0 for level in levels]

    raters = sorted(
        (RaterRow(user_id=rater, username=rater_names[rater], grades=len(rater_grades[rater]),
                  mean=fmean(numeric(levels)) if levels else None,
                  offset=fmean(offsets[rater]) if offsets.get(rater) else None,
                  offset_pairs=len(offsets.get(rater, [])),
                  distribution=agree.distribution(levels))
         for rater, levels in rater_levels.items()),
        key=lambda row: row.username)
    everything = [level for levels in rater_levels.values() for level in levels]
    kappa_chart = charts.bar_chart(
        bars=[("Comm." if row.number == rules.COMMUNICATION_STEP else f"Step {row.number}",
               row.agreement.kappa if row.agreement.kappa is not None else float("nan"))
              for row in step_rows],
        title="Quadratic weighted kappa per step", y_label="kappa",
        value_format="{:.2f}", width=560, height=300)
    leniency_chart = charts.bar_chart(
        bars=[(row.username, row.offset if row.offset is not None else float("nan"))
              for row in raters],
        title="Leniency: mean difference from co-graders",
        y_label="levels vs co-graders", value_format="{:+.2f}",
        width=560, height=300)
    disagreements.sort(key=lambda d: (-d.spread, -d.session_id, d.step_number))
    return CalibrationReport(
        case_studies=case_studies, case_slug=case_study.slug if case_study else "",
        sessions=len(by_session), overall=overall, steps=step_rows, raters=raters,
        panel_mean=fmean(numeric(everything)) if everything else None,
        panel_distribution=agree.distribution(everything),
        kappa_chart=kappa_chart, leniency_chart=leniency_chart,
        disagreements=disagreements[:20],
    )
