"""Model grading's panels on the interviews app's pages, rendered through
``grading_panels``: the model evidence on step 4 of the scorecard page."""

import pytest

from grading.tests.factories import LeaderboardFactory, ScoreFactory, SubmissionFactory
from interviews.scorecards import services as scorecard_services
from interviews.tests.factories import interviewer, submitted_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(client):
    """A submitted session claimed by a logged-in interviewer."""
    session = submitted_session()
    grader = interviewer()
    scorecard_services.grade_claim(session=session, grader=grader)
    client.force_login(grader)
    return session


def _evidence_panel(html: str) -> str:
    start = html.index('data-testid="model-evidence"')
    return html[start:html.index("</aside>", start)]


def test_the_scorecard_page_shows_the_model_evidence_on_step_4(client, claimed):
    session = claimed
    submission = SubmissionFactory(candidate=session.candidate, case_study=session.case_study,
                                   scored=True)
    ScoreFactory(submission=submission, public_primary=0.7123456, private_primary=0.6543219,
                 latency_p99_ms=140.0)
    ScoreFactory(submission__case_study=session.case_study, public_primary=0.9876)  # another
    html = client.get(session.get_scorecard_url()).content.decode()
    assert html.count('data-testid="model-evidence"') == 1
    panel_at = html.index('data-testid="model-evidence"')
    assert html.index('id="step-4"') < panel_at < html.index('id="step-5"')
    panel = _evidence_panel(html)
    assert "1 scored submission for this case study" in panel
    assert submission.get_absolute_url() in panel
    assert "0.7123" in panel and "0.7123456" not in panel  # rounded as on the leaderboard
    assert "0.6543" not in panel and "Private" not in panel  # the round is open
    assert "0.9876" not in panel  # another candidate's
    assert '<td class="over">140.0 ms' in panel  # over the 100 ms budget


def test_the_model_evidence_says_when_there_is_nothing_scored(client, claimed):
    session = claimed
    SubmissionFactory(candidate=session.candidate, case_study=session.case_study, failed=True)
    panel = _evidence_panel(client.get(session.get_scorecard_url()).content.decode())
    assert "No scored model submission for this case study" in panel
    assert "<table" not in panel


def test_the_model_evidence_shows_the_private_score_once_the_round_is_closed(client, claimed):
    session = claimed
    ScoreFactory(submission__candidate=session.candidate,
                 submission__case_study=session.case_study, public_primary=0.7,
                 private_primary=0.6543219)
    LeaderboardFactory(case_study=session.case_study, closed=True)
    panel = _evidence_panel(client.get(session.get_scorecard_url()).content.decode())
    assert "Private" in panel and "0.6543" in panel
    assert "the private split since the round closed" in panel

