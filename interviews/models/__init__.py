"""The interviews app's models, by concept: the catalogue (``catalogue``), timed sessions
(``sessions``) and interviewers' scorecards (``interviews.scorecards.models``, imported here
so that Django registers them under this app)."""

from interviews.models.catalogue import (
    CaseStudy,
    ClarifyingQuestion,
    Concept,
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
    "Grade",
    "InterviewSession",
    "QuestionAsked",
    "RolePermissions",
    "Rubric",
    "RubricStep",
    "StepBudget",
    "StepScore",
    "StepTime",
]
