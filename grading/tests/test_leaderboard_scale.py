"""The leaderboard page runs the same number of queries however many rows it has: many
candidates, each with several scored submissions and a best-score history, on every kind of
page (anonymous, logged in, another page and sort, worst first, the htmx fragment, and the
private ranking once the round is closed).

``bench/leaderboard.py`` measures the same page's time at 100k submissions."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading.models import (
    Dataset,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardRecord,
    Score,
    Submission,
)
from grading.services.leaderboards import leaderboard_close, leaderboard_for
from grading.tests.factories import (
    DatasetFactory,
    LeaderboardEntryFactory,
    LeaderboardRecordFactory,
    ScoreFactory,
    SubmissionFactory,
)
from interviews.models import CaseStudy

pytestmark = pytest.mark.django_db

SLUG = "ad-click-prediction"  # log loss: lower is better
URL = f"/case-studies/{SLUG}/leaderboard/"
OPEN_PAGES = {
    "anonymous": ("anonymous", URL, {}),
    "logged in": ("viewer", URL, {}),
    "page 2 by ROC AUC": ("viewer", URL + "?page=2&sort=roc_auc", {}),
    "worst first by latency": ("viewer", URL + "?sort=latency&order=worst", {}),
    "htmx fragment": ("viewer", URL + "?page=2", {"HX-Request": "true"}),
}
CLOSED_PAGES = {
    "private ranking": ("viewer", URL + "?split=private", {}),
    "private ranking, page 2": ("anonymous", URL + "?split=private&page=2", {}),
}


def _metrics(value: float) -> dict[str, float]:
    return {"log_loss": value, "roc_auc": 1 - value, "pr_auc": 0.1, "calibration_ratio": 1.0}


def add_candidates(case_study: CaseStudy, count: int, per_candidate: int) -> None:
    """``count`` candidates with ``per_candidate`` scored submissions each, their leaderboard
    entries (best public score) and a record for each new best, as scoring leaves them."""
    dataset = Dataset.objects.get(case_study=case_study, is_active=True)
    leaderboard = leaderboard_for(case_study)
    start = get_user_model().objects.count()
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"candidate{start + i}", password="!") for i in range(count))
    now = timezone.now()
    submissions, values = [], []
    for i, user in enumerate(users):
        for k in range(per_candidate):
            submissions.append(SubmissionFactory.build(case_study=case_study, candidate=user,
                                                       scored=True))
            values.append(0.1 + (start + i) * 1e-4 + k * 1e-5)
    Submission.objects.bulk_create(submissions)
    Score.objects.bulk_create(
        ScoreFactory.build(
            submission=s, dataset=dataset, public_primary=v, private_primary=v, half_width=1e-3,
            metrics={"public": _metrics(v), "private": _metrics(v), "all": _metrics(v)},
            latency_p99_ms=2.0)
        for s, v in zip(submissions, values, strict=True))
    best = {}
    for submission, value in zip(submissions, values, strict=True):
        if submission.candidate_id not in best or value < best[submission.candidate_id][1]:
            best[submission.candidate_id] = (submission, value)
    LeaderboardEntry.objects.bulk_create(
        LeaderboardEntryFactory.build(
            leaderboard=leaderboard, candidate=submission.candidate, submission=submission,
            public_primary=v, private_primary=v, half_width=1e-3,
            metrics={"public": _metrics(v), "private": _metrics(v)}, latency_p99_ms=2.0,
            submission_count=per_candidate, last_submitted_at=now, scored_at=now)
        for submission, v in best.values())
    LeaderboardRecord.objects.bulk_create(
        LeaderboardRecordFactory.build(leaderboard=leaderboard, submission=submission,
                                       public_primary=v,
                                       achieved_at=now - timedelta(minutes=len(users) - i))
        for i, (submission, v) in enumerate(best.values()))


def query_counts(clients: dict[str, Client], pages: dict[str, tuple]) -> dict[str, int]:
    counts = {}
    for name, (who, url, headers) in pages.items():
        with CaptureQueriesContext(connection) as captured:
            response = clients[who].get(url, headers=headers)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(captured.captured_queries)
    return counts


def all_counts(clients: dict[str, Client], case_study: CaseStudy) -> dict[str, int]:
    leaderboard = leaderboard_for(case_study)
    counts = query_counts(clients, OPEN_PAGES)
    leaderboard_close(leaderboard=leaderboard)
    counts |= query_counts(clients, CLOSED_PAGES)
    # Back to open for the next measurement; ``leaderboard_reopen`` refuses on the revealed
    # dataset, and these are page measurements, not a round.
    Leaderboard.objects.filter(pk=leaderboard.pk).update(is_closed=False, closed_at=None)
    return counts


def test_the_leaderboard_page_runs_the_same_queries_for_few_rows_and_many(catalogue):
    case_study = CaseStudy.objects.get(slug=SLUG)
    DatasetFactory(case_study=case_study)
    board = leaderboard_for(case_study)
    board.is_public = True
    board.save()
    viewer = Client()
    viewer.force_login(get_user_model().objects.create_user("viewer", password=None))
    clients = {"anonymous": Client(), "viewer": viewer}

    # Two pages (page 2 has a row above it, whose interval decides the first "tied" mark).
    add_candidates(case_study, 55, per_candidate=1)
    few = all_counts(clients, case_study)
    add_candidates(case_study, 200, per_candidate=4)
    many = all_counts(clients, case_study)

    assert board.entries.count() == 255 and board.records.count() == 255
    assert Submission.objects.filter(case_study=case_study).count() == 855
    assert few == many, {name: (few[name], many[name]) for name in few}
