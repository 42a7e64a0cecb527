"""The scorecard page: the session's answers beside the rubric, the interviewer's own
scores and, when ``policy.others_visible`` allows, the other graders'."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from interviews.live.selectors import LiveRecord, LiveStepRecord, live_record_for_session
from interviews.models import (
    EvidenceQuote,
    Grade,
    InterviewSession,
    RubricStep,
    StepScore,
)
from interviews.scorecards import policy
from interviews.scorecards import verdict as rules
from interviews.scorecards.selectors.access import actor_of
from interviews.selectors.sessions import SessionReview, SessionStep, session_review


@dataclass
class OtherScore:
    """Another grader's score on one step, shown only when ``policy.others_visible``."""

    label: str
    score: StepScore
    quotes: list[EvidenceQuote]


@dataclass
class ScorecardStep:
    rubric_step: RubricStep
    session_step: SessionStep | None  # None for communication
    mine: StepScore | None
    my_quotes: list[EvidenceQuote]
    others: list[OtherScore]
    # A live interview's follow-ups and the interviewer's notes on this step (None: solo).
    live: LiveStepRecord | None = None

    @property
    def number(self) -> int:
        return self.rubric_step.number

    @property
    def is_communication(self) -> bool:
        return self.rubric_step.is_communication

    @property
    def weight_percent(self) -> int:
        return round(float(self.rubric_step.weight) * 100)

    @property
    def level_choice(self) -> str:
        """The radio value of the grader's choice: "1".."4", "not_reached" or ""."""
        if self.mine is None:
            return ""
        if self.mine.not_reached:
            return rules.NOT_REACHED
        return str(self.mine.level or "")


@dataclass
class GraderStatus:
    grade: Grade
    label: str
    is_me: bool


@dataclass
class ScorecardWorkspace:
    """The scorecard page for one viewer. ``others_visible``, ``can_claim`` and
    ``can_release`` are the policy's answers for them; ``editable``: they hold a draft."""

    session: InterviewSession
    review: SessionReview
    steps: list[ScorecardStep]
    communication: ScorecardStep
    my_grade: Grade | None
    suggestion: rules.Suggestion | None
    others_visible: bool
    other_grades: list[GraderStatus]
    graders: list[GraderStatus]
    can_claim: bool
    can_release: bool
    live: LiveRecord | None = None  # the live room's record (None for a solo session)

    @property
    def grades(self) -> list[Grade]:
        return [grader.grade for grader in self.graders]

    @property
    def editable(self) -> bool:
        return self.my_grade is not None and not self.my_grade.is_submitted

    @property
    def open_slots(self) -> int:
        return policy.open_slots(session=self.session, grades=self.grades)

    @property
    def open_slot_list(self) -> range:
        return range(self.open_slots)

    @property
    def submitted_count(self) -> int:
        return policy.submitted_count(self.grades)

    @property
    def is_complete(self) -> bool:
        return policy.is_complete(session=self.session, grades=self.grades)


def scores_by_grade(grades: Iterable[Grade]) -> tuple[dict[int, dict[int, StepScore]],
                                                      dict[int, dict[int, list]]]:
    ids = [grade.pk for grade in grades]
    scores: dict[int, dict[int, StepScore]] = defaultdict(dict)
    for score in StepScore.objects.filter(grade_id__in=ids):
        scores[score.grade_id][score.step_number] = score
    quotes: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for quote in EvidenceQuote.objects.filter(grade_id__in=ids):
        quotes[quote.grade_id][quote.step_number].append(quote)
    return scores, quotes


def scorecard_workspace(*, session: InterviewSession, user: AbstractBaseUser
                      ) -> ScorecardWorkspace:
    """Everything the scorecard page shows, in a constant number of queries. Other graders'
    scores are fetched only when ``policy.others_visible`` allows."""
    review = session_review(session=session)
    grades = list(Grade.objects.filter(session=session).select_related("grader")
                  .order_by("created_at", "id"))
    actor = actor_of(user)
    my_grade = policy.grade_of(user_id=user.pk, grades=grades)
    visible = policy.others_visible(actor=actor, session=session, grades=grades)
    readable = [grade for grade in grades
                if grade is my_grade or (visible and grade.is_submitted)]
    scores, quotes = scores_by_grade(readable)
    others = [grade for grade in readable if grade is not my_grade]
    rubric_steps = {step.number: step for step in session.rubric.steps.all()}
    live = live_record_for_session(session=session)

    def build(rubric_step: RubricStep, session_step: SessionStep | None) -> ScorecardStep:
        number = rubric_step.number
        return ScorecardStep(
            rubric_step=rubric_step, session_step=session_step,
            mine=scores[my_grade.pk].get(number) if my_grade else None,
            my_quotes=list(quotes[my_grade.pk][number]) if my_grade else [],
            others=[OtherScore(label=grade.grader.get_username(),
                               score=scores[grade.pk][number],
                               quotes=list(quotes[grade.pk][number]))
                    for grade in others if number in scores[grade.pk]],
            live=live.step(number) if live is not None and session_step is not None else None,
        )

    steps = [build(rubric_steps[step.number], step) for step in review.steps]
    communication = build(rubric_steps[rules.COMMUNICATION_STEP], None)
    suggestion = None
    if my_grade is not None:
        weights = {number: step.weight for number, step in rubric_steps.items()}
        levels = {number: score.rule_level for number, score in scores[my_grade.pk].items()}
        suggestion = rules.suggest(levels=levels, weights=weights,
                                   red_flags=bool(my_grade.red_flags))
    statuses = [GraderStatus(grade=grade, label=grade.grader.get_username(),
                             is_me=grade is my_grade) for grade in grades]
    return ScorecardWorkspace(
        session=session, review=review, steps=steps, communication=communication,
        my_grade=my_grade, suggestion=suggestion, others_visible=visible,
        other_grades=[status for status in statuses
                      if not status.is_me and visible and status.grade.is_submitted],
        graders=statuses,
        can_claim=policy.can_claim(actor=actor, session=session, grades=grades),
        can_release=policy.can_release(actor=actor, session=session, grades=grades),
        live=live,
    )


def evidence_for_step(*, grade: Grade, step_number: int) -> list[EvidenceQuote]:
    return list(EvidenceQuote.objects.filter(grade=grade, step_number=step_number))


