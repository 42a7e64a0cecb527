"""What the API answers, as the OpenAPI schema documents it."""

from datetime import datetime
from uuid import UUID

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    reason: str | None = None


class MeOut(Schema):
    username: str
    role: str
    token_name: str
    scopes: list[str]
    token_expires_at: datetime


class CaseStudyOut(Schema):
    slug: str
    title: str
    task_type: str
    primary_metric: str
    secondary_metrics: list[str]
    latency_budget_ms: int
    scoring_open: bool
    round_closed: bool
    daily_quota: int
    remaining_today: int
    url: str


class ColumnOut(Schema):
    name: str
    dtype: str
    description: str
    model_input: bool


class TrainingFileOut(Schema):
    name: str
    content_type: str
    url: str


class ContractOut(CaseStudyOut):
    request_rows: int
    max_upload_bytes: int
    columns: list[ColumnOut]
    files: list[TrainingFileOut]
    # Exactly what the downloadable validator carries (its contract.json): the command
    # line's ``mlsd validate`` runs the validator's checks with it.
    validator: dict


class QueueOut(Schema):
    position: int
    running: int
    workers: int
    estimated_wait_seconds: float | None


class FailureOut(Schema):
    reason: str
    code: str
    message: str
    hint: str
    quota_charged: bool | None


class MetricOut(Schema):
    key: str
    label: str
    direction: str
    value: float
    ci_low: float | None
    ci_high: float | None
    is_primary: bool


class ScoresOut(Schema):
    split: str
    decimals: int
    round_closed: bool
    metrics: list[MetricOut]
    per_slice: dict[str, float]
    latency_p50_ms: float
    latency_p99_ms: float
    latency_budget_ms: int
    latency_within_budget: bool
    board_value: float | None
    board_from_this_submission: bool | None


class SubmissionOut(Schema):
    uuid: UUID
    case_study: str
    status: str
    original_filename: str
    note: str
    artifact_format: str
    created_at: datetime
    finished_at: datetime | None
    queue: QueueOut | None
    failure: FailureOut | None
    scores: ScoresOut | None
    url: str


class SubmissionSummaryOut(Schema):
    uuid: UUID
    case_study: str
    status: str
    original_filename: str
    note: str
    created_at: datetime
    public_primary: float | None
    is_pinned: bool
    url: str


class LeaderboardRowOut(Schema):
    rank: int | None
    name: str
    is_baseline: bool
    is_me: bool
    value: float
    ci_low: float
    ci_high: float
    tied_with_above: bool
    rank_change: int | None
    secondary: dict[str, float | None]
    latency_p99_ms: float
    submission_count: int
    last_submitted_at: datetime


class LeaderboardOut(Schema):
    case_study: str
    split: str
    round_closed: bool
    primary_metric: str
    direction: str
    decimals: int
    page: int
    pages: int
    total_entries: int
    rows: list[LeaderboardRowOut]
