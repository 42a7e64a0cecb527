"""The interviews app's models, by concept: the catalogue (``catalogue``), timed sessions
(``sessions``), interviewers' scorecards (``interviews.scorecards.models``) and live interviews
(``interviews.live.models``) and scheduling (``interviews.scheduling.models``), the last
three imported here so that Django registers them under
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
from interviews.scheduling.models import (
    Availability,
    Booking,
    PeerMock,
    PeerScorecard,
    Profile,
    Slot,
)
from interviews.scorecards.models import EvidenceQuote, Grade, StepScore

__all__ = [
    "Answer",
    "AnswerRevision",
    "Availability",
    "Booking",
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
    "PeerMock",
    "PeerScorecard",
    "Profile",
    "QuestionAsked",
    "RolePermissions",
    "Rubric",
    "RubricStep",
    "Slot",
    "StepBudget",
    "StepScore",
    "StepTime",
]
