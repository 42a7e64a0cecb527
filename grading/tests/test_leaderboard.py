"""Leaderboards: best or pinned entry per candidate, the Ladder's public score, ties,
rounding, private reveal, baselines, sorting, access, and a constant number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grading.engine.errors import FailureReason, ScoringError
from grading.models import LeaderboardEntry, LeaderboardRecord
from grading.selectors.leaderboards import leaderboard_get_for_viewer, leaderboard_page
from grading.services.leaderboards import leaderboard_close, leaderboard_for
from grading.services.submissions import submission_fail, submission_pin, submission_unpin
from grading.tests.factories import LeaderboardEntryFactory, SubmissionFactory
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

SLUG = "food-delivery-time"  # rmse: lower is better


def page(user, **kwargs):
    board = leaderboard_get_for_viewer(user=user, slug=SLUG)
    return leaderboard_page(leaderboard=board, user=user, **kwargs)


def test_each_candidate_appears_once_with_their_best_public_score(scored):
    ada, bob = candidate(username="ada"), candidate(username="bob")
    scored(SLUG, ada, public=12.0, private=11.0)
    scored(SLUG, ada, public=10.0, private=10.5)
    scored(SLUG, bob, public=11.0, private=9.0)
    rows = page(ada).rows
    assert [(r.entry.display_name, r.value) for r in rows] == [("ada", 10.0), ("bob", 11.0)]
    assert rows[0].entry.submission_count == 2
    assert rows[0].is_me and not rows[1].is_me


def test_a_pinned_submission_counts_at_the_end_but_does_not_release_its_public_score(scored):
    ada = candidate(username="ada")
    worse = scored(SLUG, ada, public=12.0, private=8.0)
    best = scored(SLUG, ada, public=10.0, private=10.5)
    submission_pin(submission=worse)
    (row,) = page(ada).rows
    # The public board keeps the Ladder's score; the pinned submission is the entry.
    assert row.value == 10.0 and row.entry.is_pinned and row.entry.submission == worse
    assert row.entry.ladder_submission == best
    submission_unpin(candidate=ada, case_study=worse.case_study)
    (row,) = page(ada).rows
    assert row.value == 10.0 and row.entry.submission == best
    submission_pin(submission=worse)
    leaderboard_close(leaderboard=leaderboard_for(worse.case_study))
    assert page(ada, split="private").rows[0].value == 8.0


def test_the_public_score_moves_only_on_a_clearly_better_submission(scored):
    """Scores stored without predictions are compared unpaired: by more than one standard
    error of the new score's own interval (half-width 0.5 here: about 0.26)."""
    ada = candidate(username="ada")
    first = scored(SLUG, ada, public=10.0, private=10.0, half_width=0.5)
    lucky = scored(SLUG, ada, public=9.9, private=10.2, half_width=0.5)
    (row,) = page(ada).rows
    assert row.value == 10.0 and row.entry.ladder_submission == first
    assert row.entry.submission == lucky  # the private side still takes the best public one
    better = scored(SLUG, ada, public=9.5, private=9.6, half_width=0.5)
    (row,) = page(ada).rows
    assert row.value == 9.5 and row.entry.ladder_submission == better
    assert [r.public_primary for r in LeaderboardRecord.objects.order_by("achieved_at")] == [
        10.0, 9.5]


def test_the_board_stores_its_public_values_rounded(scored):
    ada = candidate(username="ada")
    scored(SLUG, ada, public=10.123456789, private=7.654321, half_width=0.0123456)
    entry = LeaderboardEntry.objects.get()
    assert (entry.public_primary, entry.public_ci_low, entry.public_ci_high) == (
        10.1235, 10.1111, 10.1358)
    assert entry.public_sort == -10.1235  # rmse: lower is better
    assert entry.metrics["public"] == {"rmse": 10.1235}
    assert entry.private_primary == 7.654321  # the private part keeps its full precision
    assert LeaderboardRecord.objects.get().public_primary == 10.1235


def test_overlapping_intervals_are_marked_tied(scored):
    scored(SLUG, candidate(), public=10.00, private=10.0, half_width=0.5)
    scored(SLUG, candidate(), public=10.30, private=10.0, half_width=0.5)
    scored(SLUG, candidate(), public=13.00, private=10.0, half_width=0.5)
    rows = page(candidate()).rows
    assert [r.tied_with_above for r in rows] == [False, True, False]


def test_public_scores_are_rounded_and_private_ones_hidden_until_the_round_closes(scored,
                                                                                  client):
    ada = candidate(username="ada")
    scored(SLUG, ada, public=10.123456789, private=7.654321)
    client.force_login(ada)
    html = client.get(f"/case-studies/{SLUG}/leaderboard/").content.decode()
    assert "10.1235" in html and "10.123456" not in html
    assert "7.654321" not in html and "7.6543" not in html
    # Asking for the private part during the round still shows the public one.
    html = client.get(f"/case-studies/{SLUG}/leaderboard/?split=private").content.decode()
    assert "7.6543" not in html


def test_closing_the_round_reveals_the_private_ranking_with_rank_changes(scored):
    ada, bob = candidate(username="ada"), candidate(username="bob")
    scored(SLUG, ada, public=10.0, private=12.0, half_width=0.1)
    scored(SLUG, bob, public=11.0, private=9.0, half_width=0.1)
    board = leaderboard_for(scored(SLUG, candidate(username="cy"), public=20.0,
                                            private=20.0).case_study)
    leaderboard_close(leaderboard=board)
    rows = page(ada, split="private").rows
    assert [r.entry.display_name for r in rows] == ["bob", "ada", "cy"]
    assert [r.rank_change for r in rows] == [1, -1, 0]
    assert rows[0].value == 9.0


def test_baselines_are_marked_rows(scored):
    scored(SLUG, None, public=15.0, private=15.0, baseline_name="global mean")
    scored(SLUG, candidate(username="ada"), public=10.0, private=10.0)
    rows = page(candidate()).rows
    assert [(r.entry.display_name, r.entry.is_baseline) for r in rows] == [
        ("ada", False), ("global mean", True)]


def test_baselines_sit_between_candidates_without_taking_a_rank(scored, client):
    """The board of the issue: a baseline above the top candidate, two candidates tied, a
    baseline, one more candidate. The ranks read 1, 1, –, 3 (they read 2, 2, –, 5), on the
    public ranking and on the private one with its changes."""
    scored(SLUG, None, public=9.0, private=9.0, baseline_name="gradient boosting")
    ada = candidate(username="ada")
    scored(SLUG, ada, public=10.0, private=10.0)
    scored(SLUG, candidate(username="bob"), public=10.0, private=12.0)
    scored(SLUG, None, public=10.5, private=10.5, baseline_name="global mean")
    scored(SLUG, candidate(username="cy"), public=11.0, private=8.0)
    rows = page(ada).rows
    assert [(r.entry.display_name, r.rank) for r in rows] == [
        ("gradient boosting", None), ("ada", 1), ("bob", 1), ("global mean", None), ("cy", 3)]
    client.force_login(ada)
    html = client.get(f"/case-studies/{SLUG}/leaderboard/").content.decode()
    assert re.findall(r'data-testid="rank">([^<]*)<', html) == ["–", "1", "1", "–", "3"]

    leaderboard_close(leaderboard=leaderboard_for(rows[0].entry.leaderboard.case_study))
    rows = page(ada, split="private").rows
    assert [(r.entry.display_name, r.rank, r.rank_change) for r in rows] == [
        ("cy", 1, 2), ("gradient boosting", None, None), ("ada", 2, -1),
        ("global mean", None, None), ("bob", 3, -2)]


def test_the_sent_count_includes_failed_submissions(scored, client):
    """Sent after the last score, two failures still count: the row says 5, not 3."""
    ada = candidate(username="ada")
    for value in (12.0, 11.0, 10.0):
        case_study = scored(SLUG, ada, public=value, private=value).case_study
    for _ in range(2):
        failing = SubmissionFactory(case_study=case_study, candidate=ada, running=True)
        submission_fail(submission=failing, error=ScoringError(
            FailureReason.INVALID_OUTPUT, "The model returned NaN.", code="nan"))
    (row,) = page(ada).rows
    assert row.entry.submission_count == 5
    client.force_login(ada)
    html = client.get(f"/case-studies/{SLUG}/leaderboard/").content.decode()
    assert re.findall(r'data-testid="sent">([^<]*)<', html) == ["5"]


def test_sorting_by_a_secondary_metric_and_latency(scored):
    fast = scored(SLUG, candidate(username="fast"), public=11.0, private=11.0, latency_ms=1.0)
    scored(SLUG, candidate(username="slow"), public=10.0, private=10.0, latency_ms=9.0)
    assert fast
    by_latency = page(candidate(), sort="latency").rows
    assert [r.entry.display_name for r in by_latency] == ["fast", "slow"]
    assert [r.rank for r in by_latency] == [2, 1]  # ranks stay those of the primary metric
    worst_first = page(candidate(), sort="primary", worst_first=True).rows
    assert [r.entry.display_name for r in worst_first] == ["fast", "slow"]


def test_anonymous_readers_need_a_public_round(scored, client):
    scored(SLUG, candidate(username="ada"), public=10.0, private=10.0)
    response = client.get(f"/case-studies/{SLUG}/leaderboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    board = leaderboard_for(LeaderboardEntry.objects.get().leaderboard.case_study)
    board.is_public = True
    board.save()
    response = client.get(f"/case-studies/{SLUG}/leaderboard/")
    assert response.status_code == 200 and "ada" in response.content.decode()


def _count_queries(client, url) -> int:
    from django.db.models import F

    from grading.models import Leaderboard

    # The entries below are written directly: write the board's row as the services do, so
    # that the page is drawn afresh rather than served from the cache (test_leaderboard_cache).
    Leaderboard.objects.update(public_decimals=F("public_decimals"))
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_leaderboard_page_runs_a_constant_number_of_queries(scored, client):
    from grading.models import Leaderboard

    viewer = candidate(username="viewer")
    client.force_login(viewer)
    url = f"/case-studies/{SLUG}/leaderboard/"
    for i in range(3):
        scored(SLUG, candidate(), public=10.0 + i, private=10.0)
    Leaderboard.objects.update(is_public=True)
    few = _count_queries(client, url)

    leaderboard = Leaderboard.objects.get()
    for i in range(120):
        LeaderboardEntryFactory(leaderboard=leaderboard, public_primary=20.0 + i,
                                private_primary=20.0, half_width=1.0,
                                metrics={"public": {"mae": 1.0}})
    many = _count_queries(client, url)
    many_page_3 = _count_queries(client, url + "?page=3&sort=mae")
    assert few == many == many_page_3, (few, many, many_page_3)
