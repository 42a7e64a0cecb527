"""Reads for model evidence beside an interview: the candidate's scored submissions for the
session's case study, shown on step 4 of the scorecard page (through ``grading_panels``, so
the interviews app never imports this one)."""

from dataclasses import dataclass

from grading.engine import metrics
from grading.models import Leaderboard, Score, Submission
from interviews.models import InterviewSession


@dataclass(frozen=True)
class ModelEvidence:
    """One of the candidate's scored model submissions for the session's case study."""

    submission: Submission
    metric_label: str
    better: str
    public_value: float
    public_ci: tuple[float, float]
    private_value: float | None  # only once the round is closed
    private_ci: tuple[float, float] | None
    decimals: int
    latency_p99_ms: float
    latency_budget_ms: int
    before_interview: bool

    @property
    def within_latency_budget(self) -> bool:
        return self.latency_p99_ms <= self.latency_budget_ms


def model_evidence_for_session(*, session: InterviewSession) -> list[ModelEvidence]:
    """The candidate's scored submissions for the session's case study, newest first, with
    the public primary metric and its 95 % interval (rounded as on the leaderboard), and the
    private one once an admin has closed the round. Two queries."""
    leaderboard = Leaderboard.objects.filter(case_study_id=session.case_study_id).first()
    closed = bool(leaderboard and leaderboard.is_closed)
    decimals = leaderboard.public_decimals if leaderboard else 4
    scores = (Score.objects.filter(is_current=True,
                                   submission__candidate_id=session.candidate_id,
                                   submission__case_study_id=session.case_study_id,
                                   submission__status=Submission.Status.SCORED)
              .select_related("submission").order_by("-submission__created_at"))
    evidence = []
    for score in scores:
        try:
            metric = metrics.metric_get(score.primary_metric)
            label, direction = metric.label, str(metric.direction)
        except KeyError:
            label, direction = score.primary_metric, ""
        better = {"higher": "higher is better", "lower": "lower is better"}.get(direction, "")
        evidence.append(ModelEvidence(
            submission=score.submission, metric_label=label, better=better,
            public_value=round(score.public_primary, decimals),
            public_ci=(round(score.public_ci_low, decimals),
                       round(score.public_ci_high, decimals)),
            private_value=score.private_primary if closed else None,
            private_ci=(score.private_ci_low, score.private_ci_high) if closed else None,
            decimals=decimals if not closed else 6,
            latency_p99_ms=score.latency_p99_ms, latency_budget_ms=score.latency_budget_ms,
            before_interview=score.submission.created_at <= (session.submitted_at
                                                             or session.deadline),
        ))
    return evidence


