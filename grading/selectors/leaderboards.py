"""Reads for leaderboards: a page of rows in a constant number of queries, flat in the
number of entries, and the best-score-over-time chart."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Abs, Cast
from django.http import Http404
from django.utils import timezone

from grading.engine import metrics
from grading.models import (
    FINITE_LIMIT,
    MISSING_SORT,
    SORTABLE_METRICS,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardRecord,
    secondary_sort_field,
)
from interviews.models import CaseStudy


def leaderboard_settings(*, case_study: CaseStudy) -> Leaderboard:
    """The case study's leaderboard settings, or the defaults (unsaved) when an admin has
    not created one yet: pages read them without writing."""
    return (Leaderboard.objects.filter(case_study=case_study).first()
            or Leaderboard(case_study=case_study))


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
    Ranks are by the split's primary metric; ``sort`` may reorder by another column. Public
    values are each candidate's Ladder score, stored rounded (``LeaderboardEntry``).

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
    # The Ladder's stored predictions are for scoring, never for pages (and are large).
    by_id = {e.pk: e for e in leaderboard.entries.filter(pk__in=ids).defer("ladder_predictions")}
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


def leaderboard_history_chart(*, board: LeaderboardPage) -> str | None:
    """The best public score over time as a step line, with the baselines as dashed
    reference lines; None before the first candidate score."""
    from mlsd_site import charts

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
