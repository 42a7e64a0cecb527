"""The calibration page reveals nobody's levels early: a session counts in none of its
figures (agreement, means, distributions, grade counts, disagreements) until every scorecard
on it is in. Otherwise comparing the page before and after a co-grader submits would read
their levels while ``policy.others_visible`` still hides them."""

import re

import pytest
from django.urls import reverse

from interviews.scorecards import services
from interviews.tests.factories import (
    grade_input,
    graded,
    interviewer,
    released,
    submitted_session,
)

pytestmark = pytest.mark.django_db

FOURS = dict.fromkeys(range(1, 8), 4)
ONES = dict.fromkeys(range(1, 8), 1)


def calibration_main(client, user) -> str:
    """The page's ``<main>`` as ``user`` sees it (the rest carries per-request tokens)."""
    client.force_login(user)
    response = client.get(reverse("scorecards:calibration"))
    assert response.status_code == 200
    return re.search(r"<main\b.*</main>", response.content.decode(), re.S).group(0)


def test_a_co_graders_submission_on_an_incomplete_session_does_not_change_the_page(client):
    ann, ben = interviewer(username="ann"), interviewer(username="ben")
    # A released double-graded session, so the page has figures to change.
    done = submitted_session(graders_required=2)
    graded(done, ann, {**ONES, 1: 3, 2: 3})
    graded(done, ben, {**ONES, 1: 2, 2: 4})
    released(done)
    # Three graders: ann is in, cole (who graded nothing else) and dee are still drafting.
    pending = submitted_session(graders_required=3)
    graded(pending, ann, FOURS)
    cole_draft = graded(pending, interviewer(username="cole"), {1: 2}, submit=False)
    dee = interviewer(username="dee")
    dee_draft = graded(pending, dee, {1: 2}, submit=False)
    outsider = interviewer(username="outsider")

    before = {user.username: calibration_main(client, user) for user in (outsider, ann)}
    assert 'data-rater="ann"' in before["outsider"]
    assert "cole" not in before["outsider"]

    services.grade_submit(grade=cole_draft, base_revision=cole_draft.revision,
                          data=grade_input({**ONES, 1: 1}))
    after = {user.username: calibration_main(client, user) for user in (outsider, ann)}
    assert after == before

    # Once the last scorecard is in, the session counts: the page moves (and the test could
    # see a change had there been one).
    services.grade_submit(grade=dee_draft, base_revision=dee_draft.revision,
                          data=grade_input(dict.fromkeys(range(1, 8), 2)))
    complete = calibration_main(client, outsider)
    assert complete != before["outsider"]
    assert 'data-rater="cole"' in complete and 'data-testid="cal-sessions">2<' in complete
