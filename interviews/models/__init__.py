"""The interviews app's models, by concept: the catalogue (``catalogue``), timed sessions
(``sessions``), interviewers' scorecards (``interviews.scorecards.models``) and live interviews
(``interviews.live.models``), the last two imported here so that Django registers them under
this app)."""

from interviews.live.models import FollowUp, FollowUpRevision, LiveEvent, LiveInvite, LiveRoom
from interviews.models.catalogue import (
    CaseStudy,
    ClarifyingQuestion,
    Concept,
    GuideStep,
    RolePermissions,
    Rubric,
    RubricStep,
    StepBudget,
)
from interviews.models.sessions import (
    Answer,
    AnswerRevision,
    InterviewSession,
    QuestionAsked,
    StepTime,
)
from interviews.scorecards.models import EvidenceQuote, Grade, StepScore

__all__ = [
    "Answer",
    "AnswerRevision",
    "CaseStudy",
    "ClarifyingQuestion",
    "Concept",
    "EvidenceQuote",
    "FollowUp",
    "FollowUpRevision",
    "Grade",
    "GuideStep",
    "InterviewSession",
    "LiveEvent",
    "LiveInvite",
    "LiveRoom",
    "QuestionAsked",
    "RolePermissions",
    "Rubric",
    "RubricStep",
    "StepBudget",
    "StepScore",
    "StepTime",
]
