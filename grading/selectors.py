"""Reads for the grading app."""

from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Window,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Abs, Cast, Now, Rank
from django.http import Http404
from django.utils import timezone

from grading import datasets, metrics
from grading.artifacts import ArtifactLimits
from grading.contract import InputContract
from grading.examples import training_example
from grading.models import (
    FINITE_LIMIT,
    MISSING_SORT,
    SORTABLE_METRICS,
    Dataset,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardRecord,
    QuotaUsage,
    Score,
    Submission,
    WorkerHeartbeat,
    secondary_sort_field,
)
from grading.sandbox import SandboxLimits
from grading.scoring import ScoringTask
from interviews.models import CaseStudy
from mlsd_site import roles

WORKER_ALIVE_WINDOW = timedelta(minutes=3)


def workers_alive() -> list[WorkerHeartbeat]:
    """Workers seen within the last few minutes (beat refreshes them every minute)."""
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=Now() - WORKER_ALIVE_WINDOW))


def worker_last_seen_seconds() -> float | None:
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return None
    return (timezone.now() - latest.seen_at).total_seconds()


def dataset_active(*, case_study: CaseStudy) -> Dataset | None:
    return Dataset.objects.filter(case_study=case_study, is_active=True).first()


def dataset_active_or_404(*, case_study: CaseStudy) -> Dataset:
    dataset = dataset_active(case_study=case_study)
    if dataset is None:
        raise Http404("The data for this case study is not built yet.")
    return dataset


def validator_filename(case_study: CaseStudy) -> str:
    return f"mlsd-validate-{case_study.slug}.pyz"


@dataclass(frozen=True)
class ModelContract:
    """What a candidate needs to build a model the scorer accepts."""

    dataset: Dataset | None
    spec: datasets.DatasetSpec
    dictionary: list[dict]
    example: str
    validator_filename: str


def model_contract(*, case_study: CaseStudy) -> ModelContract | None:
    """The case study's data contract, or None when it has no generator."""
    if case_study.slug not in datasets.CASE_SLUGS:
        return None
    spec = datasets.dataset_spec(case_study.slug)
    filename = validator_filename(case_study)
    return ModelContract(
        dataset=dataset_active(case_study=case_study),
        spec=spec,
        dictionary=datasets.data_dictionary(case_study.slug),
        example=training_example(spec, validator_name=filename),
        validator_filename=filename,
    )


def scoring_task_for(case_study: CaseStudy) -> ScoringTask:
    spec = datasets.dataset_spec(case_study.slug)
    return ScoringTask(
        contract=InputContract(
            columns=tuple((column.name, column.dtype) for column in spec.feature_columns),
            task_type=spec.task_type,
        ),
        primary_metric=case_study.primary_metric,
        secondary_metrics=tuple(case_study.secondary_metrics),
        latency_budget_ms=case_study.latency_budget_ms,
        request_rows=spec.request_rows,
    )


# --- submissions -------------------------------------------------------------------------


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
    workers = max(len(workers_alive()), 1)
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


def leaderboard_settings(*, case_study: CaseStudy) -> Leaderboard:
    """The case study's leaderboard settings, or the defaults (unsaved) when an admin has
    not created one yet: pages read them without writing."""
    return (Leaderboard.objects.filter(case_study=case_study).first()
            or Leaderboard(case_study=case_study))


def quota_remaining(*, user, case_study: CaseStudy,
                    leaderboard: Leaderboard | None = None) -> tuple[int, int]:
    """(remaining today, daily quota) for ``user`` on ``case_study``."""
    quota = (leaderboard or leaderboard_settings(case_study=case_study)).daily_quota
    used = (QuotaUsage.objects.filter(candidate=user, case_study=case_study, day=utc_today())
            .values_list("used", flat=True).first()) or 0
    return max(quota - used, 0), quota


# --- leaderboards --------------------------------------------------------------------------

PAGE_SIZE = 50
EXTRA_SORTS = {
    "latency": ("latency_p99_ms", False),
    "size": ("artifact_bytes", False),
    "submissions": ("submission_count", True),
    "last": ("last_submitted_at", True),
}


# Column headings where the full metric name is too long for a table.
SHORT_LABELS = {
    "pr_auc": "PR AUC",
    "expected_calibration_error": "ECE",
    "calibration_ratio": "Calib. ratio",
    "normalized_entropy": "NE",
    "share_under_estimated": "Under-est.",
    "p90_abs_error": "P90 |err|",
}


@dataclass(frozen=True)
class MetricColumn:
    key: str
    label: str
    direction: str  # higher | lower | target_one

    @property
    def short_label(self) -> str:
        return SHORT_LABELS.get(self.key, self.label)

    @property
    def arrow(self) -> str:
        return {"higher": "↑", "lower": "↓"}.get(self.direction, "→1")

    @property
    def better(self) -> str:
        return {"higher": "higher is better", "lower": "lower is better"}.get(
            self.direction, "closer to 1 is better")


@dataclass
class LeaderboardRow:
    entry: LeaderboardEntry
    rank: int
    value: float
    ci_low: float
    ci_high: float
    secondary: list[float | None]
    rank_change: int | None = None
    tied_with_above: bool = False
    is_me: bool = False


@dataclass
class LeaderboardPage:
    leaderboard: Leaderboard
    case_study: CaseStudy
    split: str
    sort: str
    worst_first: bool
    primary: MetricColumn
    secondary: list[MetricColumn]
    rows: list[LeaderboardRow]
    page: object
    decimals: int
    records: list[LeaderboardRecord]
    baselines: list[LeaderboardEntry] = field(default_factory=list)
    total_entries: int = 0


def metric_column(key: str) -> MetricColumn:
    metric = metrics.metric_get(key)
    return MetricColumn(key=key, label=metric.label, direction=str(metric.direction))


def leaderboard_get_for_viewer(*, user, slug: str) -> Leaderboard:
    """The case study's leaderboard if ``user`` may read it: anyone when the admin made it
    public, logged-in users otherwise (``PermissionDenied`` for anonymous readers, which
    the view turns into a log-in redirect)."""
    case_study = CaseStudy.objects.filter(slug=slug, is_published=True).first()
    if case_study is None:
        raise Http404("No such case study.")
    leaderboard, _ = Leaderboard.objects.select_related("case_study").get_or_create(
        case_study=case_study)
    if not leaderboard.is_public and not user.is_authenticated:
        raise PermissionDenied("Log in to see this leaderboard.")
    return leaderboard


def leaderboard_page(*, leaderboard: Leaderboard, user, split: str = "public",
                     sort: str = "primary", worst_first: bool = False,
                     page_number: int | str = 1) -> LeaderboardPage:
    """One page of the leaderboard in a constant number of queries, whatever its size.

    ``split`` is "private" only once the round is closed (otherwise "public" is used).
    Ranks are by the split's primary metric; ``sort`` may reorder by another column.

    The page's ids come from an index (no window over every entry, no sort of whole rows),
    then its 50 rows, then their ranks from counts of better entries (``_ranks``)."""
    case_study = leaderboard.case_study
    if split != "private" or not leaderboard.is_closed:
        split = "public"
    primary = metric_column(case_study.primary_metric)
    secondary = [metric_column(k) for k in case_study.secondary_metrics if k in metrics.METRICS
                 and k != case_study.primary_metric]
    sort_field = f"{split}_sort"
    keys = {c.key: c for c in secondary}
    if sort in keys:
        order = _secondary_order(split, keys[sort], worst_first)
    elif sort in EXTRA_SORTS:
        name, desc = EXTRA_SORTS[sort]
        order = [F(name).desc() if desc != worst_first else F(name).asc()]
    else:
        sort = "primary"
        order = [F(sort_field).asc() if worst_first else F(sort_field).desc()]
    ordered_ids = leaderboard.entries.order_by(*order, "last_submitted_at", "pk").values_list(
        "pk", flat=True)
    paginator = Paginator(ordered_ids, PAGE_SIZE)
    page = paginator.get_page(page_number)
    offset = max(page.start_index() - 1, 0)
    # The row just above this page too, for the "tied" mark on the first row.
    with_above = sort == "primary" and offset > 0
    ids = list(ordered_ids[offset - with_above:offset + PAGE_SIZE])
    page.object_list = ids[with_above:]
    by_id = {e.pk: e for e in leaderboard.entries.filter(pk__in=ids)}
    above = by_id[ids[0]] if with_above else None
    page_entries = [by_id[pk] for pk in page.object_list]
    ranks = _ranks(leaderboard, page_entries,
                   [sort_field] + (["public_sort"] if split == "private" else []))
    rows = []
    for entry in page_entries:
        ci = ((entry.public_ci_low, entry.public_ci_high) if split == "public"
              else (entry.private_ci_low, entry.private_ci_high))
        rank = ranks[sort_field][entry.pk]
        row = LeaderboardRow(
            entry=entry, rank=rank,
            value=entry.public_primary if split == "public" else entry.private_primary,
            ci_low=ci[0], ci_high=ci[1],
            secondary=[entry.metrics.get(split, {}).get(c.key) for c in secondary],
            rank_change=(ranks["public_sort"][entry.pk] - rank
                         if split == "private" else None),
            is_me=user.is_authenticated and entry.candidate_id == user.pk,
        )
        rows.append(row)
    if sort == "primary" and not worst_first:
        previous = _interval(above, split) if above is not None else None
        for row in rows:
            current = (row.ci_low, row.ci_high)
            row.tied_with_above = previous is not None and _overlap(previous, current)
            previous = current
    return LeaderboardPage(
        leaderboard=leaderboard, case_study=case_study, split=split, sort=sort,
        worst_first=worst_first, primary=primary, secondary=secondary, rows=rows, page=page,
        decimals=leaderboard.public_decimals if split == "public" else 6,
        records=list(leaderboard.records.all()),
        total_entries=paginator.count,
    )


def _secondary_order(split: str, column: MetricColumn, worst_first: bool) -> list:
    """Best first (or worst first), entries without the metric last either way."""
    if column.key in SORTABLE_METRICS:
        # The indexed sort value: larger is better, a missing value lowest.
        value = F(secondary_sort_field(split, column.key))
        if not worst_first:
            return [value.desc()]
        missing = ExpressionWrapper(Q(**{value.name: MISSING_SORT}), output_field=BooleanField())
        return [missing.asc(), value.asc()]
    # A metric without an indexed column: sorted by its JSON value (reads every row).
    value = Cast(KT(f"metrics__{split}__{column.key}"), FloatField())
    if column.direction == "target_one":
        value = Abs(value - 1.0)
    descending = (column.direction == "higher") != worst_first
    return [value.desc(nulls_last=True) if descending else value.asc(nulls_last=True)]


def _ranks(leaderboard: Leaderboard, entries: list[LeaderboardEntry],
           columns: list[str]) -> dict[str, dict[int, int]]:
    """{column: {entry id: rank}} for ``entries`` by each sort column (larger is better), with
    ``Rank`` semantics: 1 + the number of entries strictly better, so equal values share a
    rank. One query, and no window over every entry: the page's values, best first, cut the
    range above the lowest into segments; each entry counts the segment just above its
    own value from the covering index, and a rank is the running sum, so every better entry
    is read once."""
    if not entries:
        return {column: {} for column in columns}
    by_value = {column: sorted(entries, key=lambda e, c=column: (-getattr(e, c), e.pk))
                for column in columns}
    # Plain SQL, not the ORM: a CASE of 50 WHENs and two subqueries cost the ORM more to
    # build than the database to run. VALUES columns are column1.. on PostgreSQL and SQLite.
    table = LeaderboardEntry._meta.db_table
    parts, params = [], []
    for index, (column, ordered) in enumerate(by_value.items()):
        name = LeaderboardEntry._meta.get_field(column).column  # our own field: safe to quote
        bounds = [FINITE_LIMIT, *(getattr(e, column) for e in ordered[:-1])]
        rows = ", ".join(["(%s, %s, %s)"] * len(ordered))
        parts.append(  # names from our own model, every value a parameter
            f'SELECT {index}, page.column1, (SELECT COUNT(*) FROM {table} AS e '  # noqa: S608
            f'WHERE e.leaderboard_id = %s AND e."{name}" > page.column2 '
            f'AND e."{name}" <= page.column3) FROM (VALUES {rows}) AS page')
        params.append(leaderboard.pk)
        for entry, bound in zip(ordered, bounds, strict=True):
            params += [entry.pk, float(getattr(entry, column)), float(bound)]
    counts: dict[tuple[int, int], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for index, pk, between in cursor.fetchall():
            counts[(index, pk)] = between
    ranks: dict[str, dict[int, int]] = {}
    for index, (column, ordered) in enumerate(by_value.items()):
        above, ranks[column] = 0, {}
        for entry in ordered:
            above += counts[(index, entry.pk)]
            ranks[column][entry.pk] = 1 + above
    return ranks


def _interval(entry: LeaderboardEntry, split: str) -> tuple[float, float]:
    if split == "public":
        return entry.public_ci_low, entry.public_ci_high
    return entry.private_ci_low, entry.private_ci_high


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


# --- one submission's results --------------------------------------------------------------


@dataclass(frozen=True)
class MetricLine:
    column: MetricColumn
    value: float
    ci: tuple[float, float] | None
    is_primary: bool


@dataclass
class SubmissionView:
    """What the submission page shows. During a round only the public part is shown,
    rounded, so the private part cannot be probed; after it closes, everything."""

    split: str
    decimals: int
    lines: list[MetricLine]
    per_slice: dict[str, float]
    charts: list[tuple[str, str]]
    latency_within_budget: bool


def submission_view(*, submission: Submission, score: Score | None,
                    leaderboard: Leaderboard) -> SubmissionView | None:
    from grading.score_charts import score_charts

    if score is None:
        return None
    reveal = leaderboard.is_closed
    split = "private" if reveal else "public"
    values = score.metrics.get(split, {})
    primary_key = score.primary_metric
    lines = []
    for key in [primary_key, *[k for k in values if k != primary_key]]:
        if key not in values or key not in metrics.METRICS:
            continue
        ci = None
        if key == primary_key:
            ci = ((score.private_ci_low, score.private_ci_high) if reveal
                  else (score.public_ci_low, score.public_ci_high))
        lines.append(MetricLine(column=metric_column(key), value=values[key], ci=ci,
                                is_primary=key == primary_key))
    plot_split = "all" if reveal else "public"
    per_slice = score.per_slice.get(plot_split, {})
    return SubmissionView(
        split=split,
        decimals=6 if reveal else leaderboard.public_decimals,
        lines=lines,
        per_slice=per_slice,
        charts=score_charts(task_type=submission.case_study.task_type,
                            plots=score.plots.get(plot_split, {}), per_slice=per_slice,
                            primary_label=metrics.metric_get(primary_key).label),
        latency_within_budget=score.latency_p99_ms <= score.latency_budget_ms,
    )


def leaderboard_history_chart(*, board: LeaderboardPage) -> str | None:
    """The best public score over time as a step line, with the baselines as dashed
    reference lines; None before the first candidate score."""
    from grading import charts

    if not board.records:
        return None
    start = board.records[0].achieved_at
    span = max((timezone.now() - start).total_seconds(), 1.0)
    unit, seconds = next((u, s) for u, s in (("days", 86400), ("hours", 3600),
                                               ("minutes", 60), ("seconds", 1))
                         if span >= 2 * s or s == 1)
    points = [((r.achieved_at - start).total_seconds() / seconds, r.public_primary)
              for r in board.records]
    end = max(points[-1][0], span / seconds)
    points.append((end, points[-1][1]))
    series = [charts.Series("best candidate", points, kind="step")]
    baselines = board.leaderboard.entries.filter(is_baseline=True).values_list(
        "display_name", "public_primary")
    for name, value in baselines:
        series.append(charts.Series(f"baseline: {name}", [(0, value), (end, value)],
                                    dashed=True))
    return charts.line_chart(series=series, title="Best public score over time",
                             x_label=f"{unit} since the first score",
                             y_label=board.primary.label)


def sandbox_limits_for(task: ScoringTask) -> SandboxLimits:
    """The sandbox limits from settings, with the case study's request size for latency."""
    return SandboxLimits(
        memory_bytes=settings.SANDBOX_MEMORY_MB * 1024 * 1024,
        cpu_seconds=settings.SANDBOX_CPU_SECONDS,
        wall_clock_seconds=settings.SANDBOX_WALL_SECONDS,
        request_rows=task.request_rows,
        artifact=ArtifactLimits(max_file_bytes=settings.MODEL_UPLOAD_MAX_BYTES),
    )


# --- combined standings ------------------------------------------------------------------


@dataclass(frozen=True)
class StandingRow:
    candidate_id: int
    name: str
    model_rank: int | None
    model_score: float | None
    verdict: str | None  # a Grade.Verdict value
    verdict_label: str | None
    rubric_mean: float | None
    session_id: int | None


def combined_standings(*, case_study: CaseStudy) -> tuple[str, list[StandingRow]]:
    """Each candidate's model rank (private once the round closed, else public) beside the
    verdict and weighted rubric mean of their latest released interview on the same case
    study. Returns (the split ranked on, rows); a constant number of queries."""
    from django.contrib.auth import get_user_model

    from interviews.grading_selectors import released_verdicts_for_case
    from interviews.models import Grade

    leaderboard = Leaderboard.objects.filter(case_study=case_study).first()
    split = "private" if leaderboard and leaderboard.is_closed else "public"
    ranked: dict[int, tuple[int, float, str]] = {}
    if leaderboard is not None:
        entries = (leaderboard.entries.filter(is_baseline=False)
                   .annotate(rank=Window(Rank(), order_by=F(f"{split}_sort").desc()))
                   .values_list("candidate_id", "rank", f"{split}_primary", "display_name"))
        ranked = {cid: (rank, value, name) for cid, rank, value, name in entries}
    verdicts = released_verdicts_for_case(case_study=case_study)
    missing = set(verdicts) - set(ranked)
    names = dict(get_user_model().objects.filter(pk__in=missing).values_list(
        "pk", "username")) if missing else {}
    labels = dict(Grade.Verdict.choices)
    rows = []
    for candidate_id in set(ranked) | set(verdicts):
        rank, value, name = ranked.get(candidate_id, (None, None, names.get(candidate_id)))
        released = verdicts.get(candidate_id)
        rows.append(StandingRow(
            candidate_id=candidate_id, name=name or "?", model_rank=rank, model_score=value,
            verdict=released.verdict if released else None,
            verdict_label=labels.get(released.verdict) if released else None,
            rubric_mean=float(released.weighted_mean) if released and
            released.weighted_mean is not None else None,
            session_id=released.session_id if released else None))
    rows.sort(key=lambda r: (r.model_rank is None, r.model_rank or 0,
                             -(r.rubric_mean or 0), r.name))
    return split, rows
