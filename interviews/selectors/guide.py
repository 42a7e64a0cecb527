"""Reads for the interviewer guide (``GuideStep``) on candidates' pages: the strong-answer
outline a candidate may study after submitting. The live console reads the whole guide for
interviewers (``interviews.live.selectors``)."""

from django.db.models import OuterRef, Subquery, TextField, Value
from django.db.models.functions import Coalesce

from interviews.models import GuideStep, InterviewSession


def guide_answer_key_column(*, session: InterviewSession) -> Coalesce | Value:
    """A column for a ``RubricStep`` query: the answer key (Markdown) of that step in the
    guide of ``session``'s case study, "" where there is none. The review page annotates its
    steps with it, so the outline costs no query of its own.

    Only the answer key is read (probes, requirement changes and red flags stay with the
    interviewers), and only once the session is submitted: before that the column is ""."""
    if not session.is_submitted:
        return Value("", output_field=TextField())
    answer_key = GuideStep.objects.filter(
        case_study_id=session.case_study_id, step_number=OuterRef("number")
    ).order_by().values("answer_key")[:1]
    return Coalesce(Subquery(answer_key), Value(""), output_field=TextField())
