"""What the candidate sees once feedback is released: the verdict, each grader's levels
and quotes, the radar chart, the skill profile; and the released verdicts the combined
standings read."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from statistics import fmean
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser

from interviews.models import (
    CaseStudy,
    EvidenceQuote,
    Grade,
    InterviewSession,
    RubricStep,
    StepScore,
)
from interviews.scorecards import verdict as rules
from interviews.scorecards.selectors.workspace import scores_by_grade
from mlsd_site import charts

LEVEL_WORDS = {1: "weak", 2: "mixed", 3: "solid", 4: "strong"}



def grader_letter(index: int) -> str:
    """How candidates see their graders: "Interviewer A", "Interviewer B", ..."""
    return f"Interviewer {chr(ord('A') + index)}"


@dataclass
class FeedbackEntry:
    label: str
    score: StepScore
    quotes: list[EvidenceQuote]
    descriptor: str

    @property
    def level_word(self) -> str:
        return "not reached" if self.score.not_reached else LEVEL_WORDS.get(
            self.score.level or 0, "")


@dataclass
class FeedbackStep:
    rubric_step: RubricStep
    entries: list[FeedbackEntry]

    @property
    def quote_texts(self) -> list[str]:
        return [quote.text for entry in self.entries for quote in entry.quotes]

    @property
    def mean_level(self) -> float | None:
        levels = [rules.effective_level(entry.score.rule_level) for entry in self.entries]
        values = [level for level in levels if level is not None]
        return fmean(values) if values else None


@dataclass
class FeedbackGrader:
    label: str
    grade: Grade


@dataclass
class CandidateFeedback:
    session: InterviewSession
    graders: list[FeedbackGrader]
    steps: dict[int, FeedbackStep]
    communication: FeedbackStep
    radar_svg: str
    red_flags: list[str]

    @property
    def verdict_label(self) -> str:
        return self.session.feedback_verdict_label

    @property
    def is_panel(self) -> bool:
        return len(self.graders) > 1

    def step(self, number: int) -> FeedbackStep | None:
        return self.steps.get(number)


def _radar(axes: list[str], series: list[charts.Series], title: str) -> str:
    return charts.radar_chart(axes=axes, series=series, max_value=4, title=title, size=420)


def feedback_for_candidate(*, session: InterviewSession) -> CandidateFeedback | None:
    """The released feedback of the candidate's own session (the caller fetched it through
    ``session_get_for_candidate``); None until released. Graders appear as "Interviewer A",
    "Interviewer B" in the order they submitted."""
    if not session.is_released:
        return None
    grades = list(Grade.objects.filter(session=session, status=Grade.Status.SUBMITTED)
                  .order_by("submitted_at", "id"))
    scores, quotes = scores_by_grade(grades)
    rubric_steps = {step.number: step for step in session.rubric.steps.all()}
    graders = [FeedbackGrader(label=grader_letter(i), grade=grade)
               for i, grade in enumerate(grades)]

    def build(number: int) -> FeedbackStep:
        rubric_step = rubric_steps[number]
        descriptors = dict(rubric_step.descriptors)
        entries = []
        for grader in graders:
            score = scores[grader.grade.pk].get(number)
            if score is None:
                continue
            entries.append(FeedbackEntry(
                label=grader.label, score=score, quotes=list(quotes[grader.grade.pk][number]),
                descriptor=("Not reached in the time." if score.not_reached
                            else descriptors.get(score.level or 0, ""))))
        return FeedbackStep(rubric_step=rubric_step, entries=entries)

    steps = {number: build(number) for number in rules.SCORED_STEPS}
    axes = [rubric_steps[number].title for number in rules.SCORED_STEPS]
    series = []
    if len(graders) > 1:
        series.append(charts.Series(
            "Consensus (mean)",
            [(i, steps[n].mean_level or 0) for i, n in enumerate(rules.SCORED_STEPS)]))
    for k, grader in enumerate(graders):
        points = [(i, rules.effective_level(scores[grader.grade.pk][n].rule_level) or 0)
                  for i, n in enumerate(rules.SCORED_STEPS) if n in scores[grader.grade.pk]]
        series.append(charts.Series(grader.label, points, dashed=len(graders) > 1,
                                    color=charts.PALETTE[(k + 1) % len(charts.PALETTE)]
                                    if len(graders) > 1 else None))
    flags = list(dict.fromkeys(label for grader in graders
                               for label in grader.grade.red_flag_labels))
    return CandidateFeedback(
        session=session, graders=graders, steps=steps,
        communication=build(rules.COMMUNICATION_STEP),
        radar_svg=_radar(axes, series, "Your level per step (1 to 4)"), red_flags=flags,
    )


@dataclass
class SkillRow:
    number: int
    title: str
    average: float | None
    sessions: int


@dataclass
class SkillProfile:
    sessions: int
    case_studies: int
    rows: list[SkillRow]
    communication: SkillRow
    radar_svg: str
    mean: Decimal | None


def skill_profile_for_candidate(*, user: AbstractBaseUser) -> SkillProfile | None:
    """The candidate's average level per step over all their sessions with released
    feedback (each session counts once: the mean of its graders), or None before the first.
    Three queries."""
    released = InterviewSession.objects.filter(candidate=user,
                                               feedback_released_at__isnull=False)
    sessions = list(released.values_list("pk", "case_study_id", "feedback_weighted_mean"))
    if not sessions:
        return None
    per_session: dict[tuple[int, int], list[int]] = defaultdict(list)
    for session_id, step, level, not_reached in (
        StepScore.objects.filter(grade__session__in=[pk for pk, _, _ in sessions],
                                 grade__status=Grade.Status.SUBMITTED)
        .values_list("grade__session_id", "step_number", "level", "not_reached")
    ):
        value = rules.effective_level(rules.NOT_REACHED if not_reached else level)
        if value is not None:
            per_session[(session_id, step)].append(value)
    titles = dict(RubricStep.objects.filter(rubric__is_current=True)
                  .values_list("number", "title"))

    def row(number: int) -> SkillRow:
        means = [fmean(values) for (session_id, step), values in per_session.items()
                 if step == number]
        return SkillRow(number=number, title=titles.get(number, f"Step {number}"),
                        average=fmean(means) if means else None, sessions=len(means))

    rows = [row(number) for number in rules.SCORED_STEPS]
    radar = _radar([r.title for r in rows],
                   [charts.Series("Average over your graded interviews",
                                  [(i, r.average) for i, r in enumerate(rows)
                                   if r.average is not None])],
                   "Your average level per step (1 to 4)")
    return SkillProfile(
        sessions=len(sessions), case_studies=len({case for _, case, _ in sessions}),
        rows=rows, communication=row(rules.COMMUNICATION_STEP), radar_svg=radar,
        mean=rules.mean_of([mean for _, _, mean in sessions]),
    )


# --- combined standings (used by model grading) ---------------------------------------------


class ReleasedVerdict(NamedTuple):
    verdict: str  # a Grade.Verdict value, e.g. "hire"
    weighted_mean: Decimal  # the panel's weighted rubric mean, 1.000 to 4.000
    session_id: int


def released_verdicts_for_case(*, case_study: CaseStudy) -> dict[int, ReleasedVerdict]:
    """For each candidate with released feedback on ``case_study``: the consensus verdict
    and weighted rubric mean of their most recent such interview (by start time), and its
    session id. One query, whatever the number of candidates and sessions.

    Example: ``{17: ReleasedVerdict(verdict="hire", weighted_mean=Decimal("3.050"),
    session_id=42)}``; ``Grade.Verdict(v.verdict).label`` gives "Hire"."""
    rows = (InterviewSession.objects
            .filter(case_study=case_study, feedback_released_at__isnull=False)
            .order_by("candidate_id", "-started_at", "-pk")
            .values_list("candidate_id", "feedback_verdict", "feedback_weighted_mean", "pk"))
    verdicts: dict[int, ReleasedVerdict] = {}
    for candidate_id, verdict, mean, session_id in rows:
        verdicts.setdefault(candidate_id, ReleasedVerdict(verdict, mean, session_id))
    return verdicts


