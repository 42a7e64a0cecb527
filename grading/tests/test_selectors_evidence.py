"""Model evidence beside an interview: the candidate's scored submissions for the session's
case study, as the scorecard page's step 4 shows them (public values rounded as on the
leaderboard; the private ones once the round is closed)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading.selectors.evidence import model_evidence_for_session
from grading.tests.factories import LeaderboardFactory, ScoreFactory, SubmissionFactory
from interviews.tests.factories import CaseStudyFactory, candidate, submitted_session

pytestmark = pytest.mark.django_db


def _scored(user, case_study, *, public, private=0.5, created_at=None):
    """A scored submission of ``user``'s whose p99 latency (140 ms) is over the budget."""
    submission = SubmissionFactory(candidate=user, case_study=case_study, scored=True,
                                   created_at=created_at)
    ScoreFactory(submission=submission, public_primary=public, private_primary=private,
                 public_half_width=0.012345, latency_p99_ms=140.0)
    return submission


def test_model_evidence_lists_the_candidates_scored_submissions_for_the_case():
    session = submitted_session()
    case = session.case_study
    assert case.latency_budget_ms == 100
    newest = _scored(session.candidate, case, public=0.7123456)
    older = _scored(session.candidate, case, public=0.61,
                    created_at=timezone.now() - timedelta(days=2))
    SubmissionFactory(candidate=session.candidate, case_study=case, failed=True)
    _scored(candidate(), case, public=0.99)  # someone else
    _scored(session.candidate, CaseStudyFactory(), public=0.98)  # another case study
    with CaptureQueriesContext(connection) as queries:
        evidence = model_evidence_for_session(session=session)
    assert len(queries) == 2
    assert [item.submission.pk for item in evidence] == [newest.pk, older.pk]
    first = evidence[0]
    assert first.metric_label == "NDCG@10"
    assert first.better == "higher is better"
    # Public value and interval rounded as on the leaderboard (4 decimals by default).
    assert first.public_value == 0.7123
    assert first.public_ci == (round(0.7123456 - 0.012345, 4), round(0.7123456 + 0.012345, 4))
    assert first.private_value is None and first.private_ci is None
    assert not first.within_latency_budget  # 140 ms p99 against 100
    assert not first.before_interview and evidence[1].before_interview


def test_model_evidence_shows_the_private_score_once_the_round_is_closed():
    session = submitted_session()
    _scored(session.candidate, session.case_study, public=0.7, private=0.655)
    LeaderboardFactory(case_study=session.case_study, closed=True)
    (item,) = model_evidence_for_session(session=session)
    assert item.private_value == 0.655
    assert item.private_ci == pytest.approx((0.645, 0.665))
