"""The cap on stored revisions per answer (interviews/services/autosave.py): a script saving
without pause cannot fill the database, nothing typed is lost, and replay still moves every
stretch of the interview. Both save paths (PostgreSQL's SQL, the ORM's for other databases)
leave the same rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interviews.models import Answer
from interviews.scorecards.selectors.replay import session_replay_frame
from interviews.services.autosave import answer_save_for_candidate
from interviews.tests.factories import start_session
from interviews.tests.test_services_sessions import shift_back

pytestmark = pytest.mark.django_db

STRETCH = 60  # seconds; the tests jump from stretch to stretch by moving the start back


@pytest.fixture
def cap(settings):
    settings.ANSWER_REVISIONS_ALL = 3
    settings.ANSWER_REVISION_STRETCH_SECONDS = STRETCH
    settings.ANSWER_REVISIONS_MAX = 5


@pytest.fixture(params=[False, True], ids=["this database", "ORM path"])
def save_path(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(connection, "vendor", "other")
    return request.param


class Typist:
    def __init__(self, session) -> None:
        self.session = session
        self.version = 0
        self.count = 0

    def save(self, step: int = 1):
        self.count += 1
        result = answer_save_for_candidate(
            candidate=self.session.candidate, session_id=self.session.pk, step_number=step,
            text=f"draft {self.count}", base_version=self.version, active_step=step)
        self.version = result.answer.version
        return result

    def next_stretch(self) -> None:
        shift_back(self.session, STRETCH)


def history(session, step: int = 1) -> list[tuple[int, str, int]]:
    """(version, text, stretch) of each kept revision."""
    return [(r.version, r.text, r.elapsed_ms // (STRETCH * 1000)) for r in
            Answer.objects.get(session=session, step_number=step)
            .revisions.order_by("version")]


def test_past_the_first_saves_one_revision_per_stretch_then_none_past_the_max(cap, save_path):
    typist = Typist(start_session())
    for _ in range(5):  # three kept as they are, then two in the same stretch: one kept
        typist.save()
    assert history(typist.session) == [
        (1, "draft 1", 0), (2, "draft 2", 0), (3, "draft 3", 0), (5, "draft 5", 0)]
    typist.next_stretch()
    typist.save()
    typist.save()  # the same stretch: written over the one before
    assert history(typist.session)[-1] == (7, "draft 7", 1)
    assert len(history(typist.session)) == 5  # the maximum
    typist.next_stretch()
    result = typist.save()  # past the maximum: even a new stretch replaces the last one
    assert history(typist.session) == [
        (1, "draft 1", 0), (2, "draft 2", 0), (3, "draft 3", 0), (5, "draft 5", 0),
        (8, "draft 8", 2)]
    # Nothing typed is lost: the answer has every save, and the save reports its revision.
    answer = Answer.objects.get(session=typist.session, step_number=1)
    assert (answer.text, answer.version) == ("draft 8", 8)
    assert (result.revision.version, result.revision.text) == (8, "draft 8")
    assert result.revision.pk == answer.revisions.get(version=8).pk


def test_each_answer_has_its_own_cap(cap, save_path):
    typist = Typist(start_session())
    for _ in range(5):
        typist.save()
    typist.version = 0
    typist.save(step=2)  # appended: this answer has no revision yet
    assert [version for version, _, _ in history(typist.session)] == [1, 2, 3, 5]
    assert history(typist.session, step=2) == [(1, "draft 6", 0)]


def test_replay_shows_the_last_save_of_every_stretch(cap, save_path):
    typist = Typist(start_session())
    for _ in range(6):
        typist.save()
    typist.next_stretch()
    typist.save()
    session = typist.session
    assert [version for version, _, _ in history(session)] == [1, 2, 3, 6, 7]

    def frame(at_ms: int) -> str:
        return session_replay_frame(session=session, at_ms=at_ms).steps[0].text

    # Where the first stretch ends (the candidate paused), and now.
    assert frame(STRETCH * 1000 - 1) == "draft 6"
    assert frame(3 * STRETCH * 1000) == "draft 7"


def test_a_capped_save_is_still_two_statements_on_postgresql(cap, require_postgres):
    typist = Typist(start_session())
    for _ in range(4):
        typist.save()
    with CaptureQueriesContext(connection) as captured:
        typist.save()  # written over the last revision
    statements = [q["sql"] for q in captured.captured_queries
                  if "SAVEPOINT" not in q["sql"].upper()]
    assert len(statements) == 2, statements
    assert len(history(typist.session)) == 4
