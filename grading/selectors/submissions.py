"""Reads for submissions: the permission-scoped getter, the queue position, a candidate's
submissions and quota, and what a submission page shows (the public part only while the
round is open)."""

from dataclasses import dataclass, field
from datetime import UTC, date

from django.conf import settings
from django.db.models import (
    OuterRef,
    Subquery,
)
from django.http import Http404
from django.utils import timezone

from grading.engine import metrics
from grading.models import (
    Leaderboard,
    LeaderboardEntry,
    QuotaUsage,
    Score,
    Submission,
)
from grading.selectors.failure_hints import failure_hint
from grading.selectors.leaderboards import MetricColumn, leaderboard_settings, metric_column
from grading.selectors.workers import workers_alive
from interviews.models import CaseStudy
from mlsd_site import roles


def submission_get_for_viewer(*, user, submission_uuid) -> Submission:
    """The submission if ``user`` may see it (its candidate, an interviewer or an admin);
    otherwise Http404, so other people's submissions are not even confirmed to exist."""
    submission = (Submission.objects.select_related("case_study", "candidate")
                  .filter(uuid=submission_uuid).first())
    if submission is None or not user.is_authenticated:
        raise Http404("No such submission.")
    if submission.candidate_id != user.pk and not roles.is_interviewer(user):
        raise Http404("No such submission.")
    return submission


def submission_current_score(*, submission: Submission) -> Score | None:
    return (Score.objects.filter(submission=submission, is_current=True)
            .select_related("dataset").first())


@dataclass(frozen=True)
class QueueStatus:
    position: int  # 1 = next to start
    running: int
    workers: int
    estimated_wait_seconds: float | None


def submission_queue_status(*, submission: Submission) -> QueueStatus | None:
    """Where a queued submission stands, and a rough wait from recent scoring times."""
    if submission.status != Submission.Status.QUEUED:
        return None
    ahead = Submission.objects.filter(status=Submission.Status.QUEUED,
                                      created_at__lt=submission.created_at).count()
    running = Submission.objects.filter(status=Submission.Status.RUNNING).count()
    workers = max(len(workers_alive(queue=settings.SCORING_QUEUE)), 1)
    recent = list(Score.objects.order_by("-created_at").values_list(
        "scoring_seconds", flat=True)[:20])
    estimate = None
    if recent:
        per_job = sum(recent) / len(recent)
        estimate = (ahead + running + 1) * per_job / workers
    return QueueStatus(position=ahead + 1, running=running, workers=workers,
                       estimated_wait_seconds=estimate)


def submissions_for_candidate(*, user, case_study: CaseStudy) -> list[Submission]:
    """The candidate's submissions, newest first, each with ``public_primary`` (or None)."""
    current = Score.objects.filter(submission=OuterRef("pk"), is_current=True)
    return list(Submission.objects.filter(candidate=user, case_study=case_study)
                .annotate(public_primary=Subquery(current.values("public_primary")[:1]))
                .order_by("-created_at"))


def utc_today() -> date:
    """The day quotas count against."""
    return timezone.now().astimezone(UTC).date()


def quota_remaining(*, user, case_study: CaseStudy,
                    leaderboard: Leaderboard | None = None) -> tuple[int, int]:
    """(remaining today, daily quota) for ``user`` on ``case_study``."""
    quota = (leaderboard or leaderboard_settings(case_study=case_study)).daily_quota
    used = (QuotaUsage.objects.filter(candidate=user, case_study=case_study, day=utc_today())
            .values_list("used", flat=True).first()) or 0
    return max(quota - used, 0), quota


@dataclass(frozen=True)
class MetricLine:
    column: MetricColumn
    value: float
    ci: tuple[float, float] | None
    is_primary: bool


@dataclass(frozen=True)
class BoardLine:
    """The candidate's public score on the leaderboard (their Ladder score), and whether
    this submission is the one it comes from."""

    value: float
    from_this_submission: bool


@dataclass
class SubmissionView:
    """What the submission page shows. During a round only the public part is shown,
    rounded, so the private part cannot be probed, and no chart says more than the rounded
    numbers (``score_charts``); after it closes, everything."""

    split: str
    decimals: int
    lines: list[MetricLine]
    per_slice: dict[str, float]
    charts: list[tuple[str, str]]
    latency_within_budget: bool
    kept_back: list[str] = field(default_factory=list)  # charts shown when the round closes
    board: BoardLine | None = None

    @property
    def kept_back_phrase(self) -> str:
        """"ROC curve, precision-recall curve and reliability diagram"."""
        if len(self.kept_back) < 2:
            return "".join(self.kept_back)
        return f"{', '.join(self.kept_back[:-1])} and {self.kept_back[-1]}"


def _board_line(*, submission: Submission, leaderboard: Leaderboard) -> BoardLine | None:
    if leaderboard.pk is None or submission.candidate_id is None:
        return None
    row = (LeaderboardEntry.objects.filter(leaderboard=leaderboard,
                                           candidate_id=submission.candidate_id)
           .values_list("public_primary", "ladder_submission_id").first())
    if row is None:
        return None
    return BoardLine(value=row[0], from_this_submission=row[1] == submission.pk)


def submission_view(*, submission: Submission, score: Score | None,
                    leaderboard: Leaderboard) -> SubmissionView | None:
    """The page's metrics, per-week values and charts: the private part and the whole
    split at full precision once the round is closed; while it is open the public part,
    every number rounded to ``leaderboard.public_decimals``, the label-derived charts kept
    back, and the candidate's Ladder score on the board."""
    from grading.selectors.score_charts import charts_kept_back, score_charts

    if score is None:
        return None
    reveal = leaderboard.is_closed
    split = "private" if reveal else "public"
    decimals = 6 if reveal else leaderboard.public_decimals

    def shown(value: float) -> float:
        return value if reveal else round(value, decimals)

    values = score.metrics.get(split, {})
    primary_key = score.primary_metric
    lines = []
    for key in [primary_key, *[k for k in values if k != primary_key]]:
        if key not in values or key not in metrics.METRICS:
            continue
        ci = None
        if key == primary_key:
            ci = ((score.private_ci_low, score.private_ci_high) if reveal
                  else (shown(score.public_ci_low), shown(score.public_ci_high)))
        lines.append(MetricLine(column=metric_column(key), value=shown(values[key]), ci=ci,
                                is_primary=key == primary_key))
    plot_split = "all" if reveal else "public"
    plots = score.plots.get(plot_split, {})
    per_slice = {label: shown(value)
                 for label, value in score.per_slice.get(plot_split, {}).items()}
    task_type = submission.case_study.task_type
    return SubmissionView(
        split=split,
        decimals=decimals,
        lines=lines,
        per_slice=per_slice,
        charts=score_charts(task_type=task_type, plots=plots, per_slice=per_slice,
                            primary_label=metrics.metric_get(primary_key).label,
                            public_decimals=None if reveal else decimals),
        latency_within_budget=score.latency_p99_ms <= score.latency_budget_ms,
        kept_back=[] if reveal else charts_kept_back(task_type=task_type, plots=plots),
        board=None if reveal else _board_line(submission=submission, leaderboard=leaderboard),
    )


@dataclass(frozen=True)
class FailureHelp:
    """What a failed submission's page says beyond the failure's own message: how to fix
    it, whether it used a quota slot, and whether its candidate can send another now."""

    hint: str
    quota_charged: bool | None  # None: not counted against a quota (a baseline)
    remaining: int | None  # the owner's submissions left today; None for other viewers
    quota: int | None
    round_closed: bool

    @property
    def can_submit_another(self) -> bool:
        return bool(self.remaining) and not self.round_closed


def submission_failure_help(*, submission: Submission, viewer,
                            leaderboard: Leaderboard) -> FailureHelp | None:
    """The fix-it hint (for the failure's code, else its reason) and the quota facts of a
    failed ``submission``; None unless it failed. The quota left today is counted only for
    its own candidate (``viewer``): one query."""
    if submission.status != Submission.Status.FAILED:
        return None
    remaining = quota = None
    if submission.candidate_id is not None and submission.candidate_id == viewer.pk:
        remaining, quota = quota_remaining(user=viewer, case_study=submission.case_study,
                                           leaderboard=leaderboard)
    return FailureHelp(
        hint=failure_hint(reason=submission.failure_reason, code=submission.failure_code),
        quota_charged=None if submission.quota_day is None else not submission.quota_refunded,
        remaining=remaining,
        quota=quota,
        round_closed=leaderboard.is_closed,
    )
