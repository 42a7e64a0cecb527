"""Ranks and orders of the leaderboard page against a reference: random entries with many
ties, some missing secondary values and baselines among them, every sort in both
directions, on every page of the public and the private ranking. The page counts better
entries instead of running a window over all of them, so its ranks must equal ``Rank()``
over the split's sort column of the candidates' entries: baselines are reference lines,
shown in their place without a rank, and never push a candidate down."""

import math
import random

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F, Window
from django.db.models.functions import Rank
from django.utils import timezone

from grading.engine import metrics
from grading.models import (
    MISSING_SORT,
    SORTABLE_METRICS,
    LeaderboardEntry,
    Submission,
    secondary_sort_field,
)
from grading.selectors.leaderboards import leaderboard_get_for_viewer, leaderboard_page
from grading.services.leaderboards import leaderboard_close, leaderboard_for
from grading.tests.factories import DatasetFactory, LeaderboardEntryFactory, SubmissionFactory
from interviews.models import CaseStudy

pytestmark = pytest.mark.django_db

SLUG = "ad-click-prediction"  # log loss primary; ROC AUC higher, calibration ratio →1


def _entries(case_study: CaseStudy, count: int, baselines: int = 0) -> None:
    """``count`` entries whose scores repeat (ties within and across pages), whose
    ``last_submitted_at`` repeat too (ties broken by id), some without ROC AUC; the last
    ``baselines`` of them are baselines, with the same kinds of scores."""
    rng = random.Random(7)
    leaderboard = leaderboard_for(case_study)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"c{i}", password="!") for i in range(count - baselines))
    owners = [*users, *[None] * baselines]
    submissions = Submission.objects.bulk_create(
        SubmissionFactory.build(case_study=case_study, candidate=user, scored=True)
        if user is not None else
        SubmissionFactory.build(case_study=case_study, baseline=True, scored=True)
        for user in owners)
    now = timezone.now()
    entries = []
    for user, submission in zip(owners, submissions, strict=True):
        public, private = rng.choice([0.10, 0.11, 0.12, 0.13]), rng.choice([0.10, 0.2, 0.3])
        split_metrics = {
            split: {"log_loss": value,
                    "roc_auc": rng.choice([0.7, 0.75, 0.8]),
                    "calibration_ratio": rng.choice([0.9, 1.1, 1.0, 0.95, 1.05])}
            for split, value in (("public", public), ("private", private))}
        if rng.random() < 0.2:
            del split_metrics["public"]["roc_auc"]
            del split_metrics["private"]["roc_auc"]
        entries.append(LeaderboardEntryFactory.build(
            leaderboard=leaderboard, candidate=user, submission=submission,
            public_primary=public, private_primary=private, metrics=split_metrics,
            latency_p99_ms=rng.choice([1.0, 2.0]), last_submitted_at=now - timezone.timedelta(
                minutes=rng.choice([1, 2, 3])), scored_at=now))
    LeaderboardEntry.objects.bulk_create(entries)


def _reference_order(entries: list[LeaderboardEntry], split: str, sort: str,
                     worst_first: bool) -> list[int]:
    """The order the page promises, computed in Python from the metrics JSON."""
    def key(entry: LeaderboardEntry) -> tuple:
        if sort == "primary":
            value = getattr(entry, f"{split}_sort")
            return (0, value if worst_first else -value)
        if sort == "latency":
            return (0, -entry.latency_p99_ms if worst_first else entry.latency_p99_ms)
        raw = entry.metrics[split].get(sort)
        if raw is None:
            return (1, 0.0)
        direction = metrics.metric_get(sort).direction
        better = {"higher": raw, "lower": -raw}.get(str(direction), -abs(raw - 1.0))
        return (0, better if worst_first else -better)

    return [e.pk for e in sorted(entries, key=lambda e: (*key(e), e.last_submitted_at, e.pk))]


@pytest.mark.parametrize("sort", ["primary", "roc_auc", "calibration_ratio", "latency"])
@pytest.mark.parametrize("worst_first", [False, True])
@pytest.mark.parametrize("split", ["public", "private"])
def test_every_page_orders_and_ranks_as_the_window_reference(catalogue, sort, worst_first,
                                                               split):
    case_study = CaseStudy.objects.get(slug=SLUG)
    DatasetFactory(case_study=case_study)
    _entries(case_study, 173, baselines=9)  # four pages, the last one short
    leaderboard = leaderboard_for(case_study)
    if split == "private":
        leaderboard_close(leaderboard=leaderboard)
    board = leaderboard_get_for_viewer(user=get_user_model()(), slug=SLUG)
    candidates = leaderboard.entries.filter(is_baseline=False)
    reference_rank = dict(candidates.annotate(
        rank=Window(Rank(), order_by=F(f"{split}_sort").desc())).values_list("pk", "rank"))
    public_rank = dict(candidates.annotate(
        rank=Window(Rank(), order_by=F("public_sort").desc())).values_list("pk", "rank"))

    seen, number = [], 1
    while True:
        page = leaderboard_page(leaderboard=board, user=get_user_model()(),
                                          split=split, sort=sort, worst_first=worst_first,
                                          page_number=number)
        assert page.split == split and page.total_entries == 173
        for row in page.rows:
            if row.entry.is_baseline:
                assert row.rank is None and row.rank_change is None
                continue
            assert row.rank == reference_rank[row.entry.pk]
            if split == "private":
                assert row.rank_change == public_rank[row.entry.pk] - row.rank
            else:
                assert row.rank_change is None
        seen += [row.entry.pk for row in page.rows]
        if not page.page.has_next():
            break
        number += 1
    assert number == 4
    assert seen == _reference_order(list(leaderboard.entries.all()), split, sort, worst_first)


def test_the_tied_mark_on_a_page_looks_at_the_last_row_of_the_page_before(catalogue):
    case_study = CaseStudy.objects.get(slug=SLUG)
    DatasetFactory(case_study=case_study)
    _entries(case_study, 60)
    board = leaderboard_get_for_viewer(user=get_user_model()(), slug=SLUG)
    first = leaderboard_page(leaderboard=board, user=get_user_model()())
    second = leaderboard_page(leaderboard=board, user=get_user_model()(),
                                        page_number=2)
    last, top = first.rows[-1], second.rows[0]
    assert top.tied_with_above == (last.ci_low <= top.ci_high and top.ci_low <= last.ci_high)


def test_the_database_computes_the_secondary_sort_values_larger_is_better(catalogue):
    case_study = CaseStudy.objects.get(slug=SLUG)
    _entries(case_study, 30)
    for entry in LeaderboardEntry.objects.all():
        for split in ("public", "private"):
            roc = entry.metrics[split].get("roc_auc")
            stored = getattr(entry, secondary_sort_field(split, "roc_auc"))
            assert stored == (MISSING_SORT if roc is None else roc)
            ratio = entry.metrics[split]["calibration_ratio"]
            assert math.isclose(getattr(entry, secondary_sort_field(split, "calibration_ratio")),
                                -abs(ratio - 1.0))
            loss = entry.metrics[split]["log_loss"]
            assert getattr(entry, secondary_sort_field(split, "log_loss")) == -loss
            assert getattr(entry, secondary_sort_field(split, "mae")) == MISSING_SORT


def test_the_indexed_sort_columns_use_each_metrics_direction():
    for key, direction in SORTABLE_METRICS.items():
        assert str(metrics.metric_get(key).direction) == direction, key
