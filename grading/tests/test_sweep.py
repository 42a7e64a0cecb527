"""The stuck-submission sweep against the real Redis queue, with no scoring worker: a backlog
that never moves. However often it runs, the sweep leaves exactly one message per waiting
submission (``LLEN`` of the scoring queue), and it sends again exactly the ones whose
message is gone. The same with a worker scoring a backlog: ``test_faults.py``."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from redis import Redis

from grading.models import Submission
from grading.services.submissions import submission_enqueue, submissions_requeue_stuck
from grading.tests.factories import SubmissionFactory

pytestmark = pytest.mark.services

BACKLOG = 5


@pytest.fixture
def backlog(celery_workers, settings, require_redis):
    """``BACKLOG`` submissions queued an hour ago (well past ``SCORING_QUEUED_TIMEOUT``), each
    with its message in the test's own scoring queue, oldest first; nothing consumes it."""
    redis = Redis.from_url(require_redis)
    queue = settings.SCORING_QUEUE
    an_hour_ago = timezone.now() - timedelta(hours=1)
    submissions = []
    for i in range(BACKLOG):
        submission = SubmissionFactory(enqueued_at=an_hour_ago + timedelta(seconds=i))
        submission_enqueue(submission_id=submission.pk)
        submissions.append(submission)
    assert redis.llen(queue) == BACKLOG
    return submissions, redis, queue


def test_a_waiting_backlog_gets_no_duplicate_messages(backlog):
    submissions, redis, queue = backlog
    for _ in range(3):
        assert submissions_requeue_stuck() == []
        assert redis.llen(queue) == BACKLOG
    assert all(s.status == "queued" for s in Submission.objects.all())


def test_only_the_submissions_whose_messages_are_lost_are_sent_again(backlog):
    submissions, redis, queue = backlog
    # The queue is consumed from its right end: the two oldest messages go missing.
    redis.rpop(queue, 2)
    assert sorted(submissions_requeue_stuck()) == [s.pk for s in submissions[:2]]
    assert redis.llen(queue) == BACKLOG
    assert submissions_requeue_stuck() == []
    assert redis.llen(queue) == BACKLOG
    # A flushed broker: every message is gone. The overdue ones are sent at once; the two
    # just sent wait out their timeout first (at most one message per submission per
    # timeout window).
    redis.delete(queue)
    assert sorted(submissions_requeue_stuck()) == [s.pk for s in submissions[2:]]
    assert redis.llen(queue) == BACKLOG - 2
    Submission.objects.update(enqueued_at=F("enqueued_at") - timedelta(hours=1))
    assert sorted(submissions_requeue_stuck()) == [s.pk for s in submissions[:2]]
    assert redis.llen(queue) == BACKLOG
    Submission.objects.update(enqueued_at=F("enqueued_at") - timedelta(hours=1))
    assert submissions_requeue_stuck() == []
    assert redis.llen(queue) == BACKLOG


def test_a_submission_whose_worker_died_is_sent_once_then_waits(backlog):
    _, redis, queue = backlog
    long_ago = timezone.now() - timedelta(hours=2)
    dead = SubmissionFactory(running=True, enqueued_at=long_ago,
                             started_at=long_ago + timedelta(seconds=1))
    assert submissions_requeue_stuck() == [dead.pk]
    assert redis.llen(queue) == BACKLOG + 1
    for _ in range(2):
        assert submissions_requeue_stuck() == []
        assert redis.llen(queue) == BACKLOG + 1
    # Its new message lost too: it is overdue again and sent again.
    Submission.objects.filter(pk=dead.pk).update(enqueued_at=long_ago + timedelta(hours=1))
    redis.delete(queue)
    assert dead.pk in submissions_requeue_stuck()
    assert redis.llen(queue) == BACKLOG + 1
