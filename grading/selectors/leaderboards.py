"""Reads for leaderboards: a page of rows in a constant number of queries, flat in the
number of entries, the board's change marker and the best-score-over-time chart. The page as
a reader gets it, drawn once per change of the board and cached, is
``grading.selectors.leaderboard_page``."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
)
from django.db.models.expressions import RawSQL
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

if TYPE_CHECKING:
    from grading.selectors.leaderboard_page import LeaderboardShown


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
# Sorts by a serving figure (``LeaderboardEntry.serving``): its key, and whether larger is
# better. Entries scored before the load test have none and come last either way.
SERVING_SORTS = {
    "load": ("p99_ms", False),  # p99 at the target rate
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
    rank: int | None  # None for a baseline: a reference line, not a competitor
    value: float
    ci_low: float
    ci_high: float
    secondary: list[float | None]
    # The same values beside their columns, for the template (a card's labels on a phone).
    secondary_cells: list[tuple[MetricColumn, float | None]] = field(default_factory=list)
    rank_change: int | None = None  # places moved since the public ranking (private only)
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
    public, logged-in users otherwise (``PermissionDenied`` for anonymous readers, whose
    message says why in words for them; the view turns it into a log-in redirect). One
    query once the leaderboard exists, which also reads its change marker
    (``leaderboard_change``)."""
    leaderboard = (Leaderboard.objects.select_related("case_study")
                   .filter(case_study__slug=slug, case_study__is_published=True)
                   .annotate(**_change_annotation()).first())
    if leaderboard is None:
        case_study = CaseStudy.objects.filter(slug=slug, is_published=True).first()
        if case_study is None:
            raise Http404("No such case study.")
        leaderboard, _ = Leaderboard.objects.select_related("case_study").get_or_create(
            case_study=case_study)
    case_study = leaderboard.case_study
    if not leaderboard.is_public and not user.is_authenticated:
        raise PermissionDenied(
            f"The {case_study.title} leaderboard is shown to logged-in users only: log in, "
            f"or sign up as a candidate, to see the ranking.")
    return leaderboard


def _change_annotation() -> dict:
    """The leaderboard's change marker as an annotation: the PostgreSQL row versions of the
    leaderboard and of its case study (``xmin``, the transaction that wrote the row, and
    ``ctid``, where that version lies, which differs between two writes in one
    transaction). Every write that changes what the board shows also writes the
    leaderboard's row in the same transaction (``grading.services.leaderboards``: a score, a
    re-score, a pin, a failed submission's count, closing or reopening the round; an
    admin's edit of the board or the case study writes the row itself), so the marker
    changes exactly when the board may have, for every process at once, and is read in the
    query that reads the board. None on other databases: their pages are not cached."""
    if connection.vendor != "postgresql":
        return {}
    versions = " || ':' || ".join(
        f'"{table}".xmin::text || "{table}".ctid::text'
        for table in (Leaderboard._meta.db_table, CaseStudy._meta.db_table))
    # Our own table names, no parameters.
    return {"change_marker": RawSQL(versions, [], output_field=CharField())}  # noqa: S611


def leaderboard_change(leaderboard: Leaderboard) -> str | None:
    """The marker read with ``leaderboard`` (``leaderboard_get_for_viewer``), or None when
    it was not read (another database, a leaderboard made by this request)."""
    return getattr(leaderboard, "change_marker", None)


def leaderboard_split(*, leaderboard: Leaderboard, split: str | None) -> str:
    """The ranking shown: "private" only once the round is closed (the default then),
    "public" otherwise."""
    if split is None and leaderboard.is_closed:
        split = "private"
    if split != "private" or not leaderboard.is_closed:
        split = "public"
    return split


def leaderboard_columns(case_study: CaseStudy) -> tuple[MetricColumn, list[MetricColumn]]:
    """The primary metric's column and the secondary ones (those the registry knows)."""
    primary = metric_column(case_study.primary_metric)
    secondary = [metric_column(k) for k in case_study.secondary_metrics if k in metrics.METRICS
                 and k != case_study.primary_metric]
    return primary, secondary


def leaderboard_sort(*, secondary: list[MetricColumn], sort: str) -> str:
    """``sort`` if the board can sort by it, else "primary"."""
    if sort in EXTRA_SORTS or sort in SERVING_SORTS or any(c.key == sort for c in secondary):
        return sort
    return "primary"


def leaderboard_page(*, leaderboard: Leaderboard, user, split: str | None = None,
                     sort: str = "primary", worst_first: bool = False,
                     page_number: int | str = 1) -> LeaderboardPage:
    """One page of the leaderboard in a constant number of queries, whatever its size.

    ``split`` is "private" only once the round is closed (otherwise "public" is used); None
    (no choice made) is the final ranking, "private", once the round is closed. Ranks are by
    the split's primary metric; ``sort`` may reorder by another column. Public values are
    each candidate's Ladder score, stored rounded (``LeaderboardEntry``). Both splits show
    ``decimals`` = the board's ``public_decimals``, so the two rankings compare digit for
    digit; the private one is ranked by the full values (``LeaderboardRow.value``).

    The page's ids come from an index (no window over every entry, no sort of whole rows),
    then its 50 rows, then their ranks from counts of better entries (``candidate_ranks``:
    baselines are shown in their place without a rank)."""
    case_study = leaderboard.case_study
    split = leaderboard_split(leaderboard=leaderboard, split=split)
    primary, secondary = leaderboard_columns(case_study)
    sort_field = f"{split}_sort"
    keys = {c.key: c for c in secondary}
    sort = leaderboard_sort(secondary=secondary, sort=sort)
    if sort in keys:
        order = _secondary_order(split, keys[sort], worst_first)
    elif sort in EXTRA_SORTS:
        name, desc = EXTRA_SORTS[sort]
        order = [F(name).desc() if desc != worst_first else F(name).asc()]
    elif sort in SERVING_SORTS:
        key, desc = SERVING_SORTS[sort]
        value = Cast(KT(f"serving__{key}"), FloatField())
        order = [value.desc(nulls_last=True) if desc != worst_first
                 else value.asc(nulls_last=True)]
    else:
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
    ranks = candidate_ranks(leaderboard=leaderboard, entries=page_entries,
                            columns=[sort_field] + (["public_sort"] if split == "private"
                                                    else []))
    rows = []
    for entry in page_entries:
        ci = ((entry.public_ci_low, entry.public_ci_high) if split == "public"
              else (entry.private_ci_low, entry.private_ci_high))
        rank = ranks[sort_field].get(entry.pk)  # None for a baseline
        values = [entry.metrics.get(split, {}).get(c.key) for c in secondary]
        row = LeaderboardRow(
            entry=entry, rank=rank,
            value=entry.public_primary if split == "public" else entry.private_primary,
            ci_low=ci[0], ci_high=ci[1],
            secondary=values, secondary_cells=list(zip(secondary, values, strict=True)),
            rank_change=(ranks["public_sort"][entry.pk] - rank
                         if split == "private" and rank is not None else None),
            is_me=(user.is_authenticated and entry.candidate_id is not None
                   and entry.candidate_id == user.pk),
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
        decimals=leaderboard.public_decimals,
        records=list(leaderboard.records.all()) if split == "public" else [],
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


# Rows of one ranking query: three parameters each, well under SQLite's 32,766 (a page has
# 50; the combined standings rank every candidate at once).
RANK_CHUNK = 5000


def candidate_ranks(*, leaderboard: Leaderboard, entries: list[LeaderboardEntry],
                    columns: list[str]) -> dict[str, dict[int, int]]:
    """{column: {entry id: rank}} of the candidates among ``entries`` by each sort column
    (larger is better), among the leaderboard's candidates: ``Rank`` semantics, 1 + the
    number of candidates strictly better, so equal values share a rank. Baselines are
    reference lines: they have no rank and never push a candidate down (their ids are
    left out). The one ranking of the site: the leaderboard's pages and the combined
    standings both read it.

    One query per column for up to ``RANK_CHUNK`` entries, and no window over every entry:
    the entries' values, best first, cut the range above the lowest into segments; each
    entry counts the entries in the segment just above its own value from the covering
    index, less the baselines there (from their partial index: a few rows), and a rank is
    the running sum, so every better entry is read once."""
    ranked = [e for e in entries if not e.is_baseline]
    ranks: dict[str, dict[int, int]] = {column: {} for column in columns}
    for column in columns:
        ordered = sorted(ranked, key=lambda e, c=column: (-getattr(e, c), e.pk))
        above, bound = 0, FINITE_LIMIT
        for start in range(0, len(ordered), RANK_CHUNK):
            chunk = ordered[start:start + RANK_CHUNK]
            counts = _segment_counts(leaderboard, column, chunk, bound)
            for entry in chunk:
                above += counts[entry.pk]
                ranks[column][entry.pk] = 1 + above
            bound = getattr(chunk[-1], column)
    return ranks


def _segment_counts(leaderboard: Leaderboard, column: str, ordered: list[LeaderboardEntry],
                    bound: float) -> dict[int, int]:
    """{entry id: candidates with a value in (the entry's, the one before's]}, the first
    entry's segment reaching up to ``bound``."""
    # Plain SQL, not the ORM: a CASE of 50 WHENs and two subqueries cost the ORM more to
    # build than the database to run. VALUES columns are column1.. on PostgreSQL and SQLite.
    table = LeaderboardEntry._meta.db_table
    name = LeaderboardEntry._meta.get_field(column).column  # our own field: safe to quote
    baseline = LeaderboardEntry._meta.get_field("is_baseline").column
    bounds = [bound, *(getattr(e, column) for e in ordered[:-1])]
    rows = ", ".join(["(%s, %s, %s)"] * len(ordered))
    segment = f'e.leaderboard_id = %s AND e."{name}" > page.column2 AND e."{name}" <= page.column3'
    sql = (  # names from our own model, every value a parameter
        f"SELECT page.column1, (SELECT COUNT(*) FROM {table} AS e WHERE {segment}) "  # noqa: S608
        f'- (SELECT COUNT(*) FROM {table} AS e WHERE e."{baseline}" AND {segment}) '
        f"FROM (VALUES {rows}) AS page")
    params: list = [leaderboard.pk, leaderboard.pk]
    for entry, upper in zip(ordered, bounds, strict=True):
        params += [entry.pk, float(getattr(entry, column)), float(upper)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _interval(entry: LeaderboardEntry, split: str) -> tuple[float, float]:
    if split == "public":
        return entry.public_ci_low, entry.public_ci_high
    return entry.private_ci_low, entry.private_ci_high


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


@dataclass(frozen=True)
class HistoryChart:
    """One chart drawn twice: the page shows ``wide`` on a laptop and ``narrow`` on a
    phone, so its text is drawn at a readable size on both (``charts.CHART_WIDTH``)."""

    wide: str
    narrow: str


HISTORY_WIDE = (640, 300)  # viewBox units: about its card's width on a laptop
HISTORY_UNITS = (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1))


def _history_unit(span: float) -> tuple[str, int]:
    """The x axis's unit for a history ``span`` seconds long: at least two of them."""
    return next((u, s) for u, s in HISTORY_UNITS if span >= 2 * s or s == 1)


def leaderboard_history_chart(*, board: "LeaderboardPage | LeaderboardShown"
                              ) -> HistoryChart | None:
    """The best public score over time as a step line, with the baselines as dashed
    reference lines, drawn up to now; None before the first candidate score, and on the
    private ranking, which the public history says nothing about."""
    from mlsd_site import charts

    if board.split != "public" or not board.records:
        return None
    start = board.records[0].achieved_at
    span = max((timezone.now() - start).total_seconds(), 1.0)
    unit, seconds = _history_unit(span)
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
    drawn = {"series": series, "title": "Best public score over time",
             "x_label": f"{unit} since the first score", "y_label": board.primary.label}
    width, height = HISTORY_WIDE
    return HistoryChart(wide=charts.line_chart(**drawn, width=width, height=height),
                        narrow=charts.line_chart(**drawn))
