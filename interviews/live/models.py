"""Live interviews: the room, its single-use invites, its event log and the follow-ups.

These models belong to the ``interviews`` app (tables ``interviews_liveroom`` and so on);
``interviews.models`` imports them so that Django registers them.

A live interview starts in a room (``LiveRoom``): the candidate opens it for a case study,
an interviewer joins (claimed from the queue, assigned by an admin, or through an invite
link), and the interviewer starts the clock, which creates the ``InterviewSession`` the
answers, the clock and the scorecard belong to. Everything that happens in the room is a
``LiveEvent`` with a per-room sequence number and the database's time: both pages catch up
from the log after any disconnect, so nothing is missed or shown twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse

from interviews.models.catalogue import CaseStudy
from interviews.models.sessions import InterviewSession


class LiveRoom(models.Model):
    """One live interview, from the waiting room to its end."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting to start"
        RUNNING = "running", "In progress"
        ENDED = "ended", "Ended"

    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="live_rooms")
    case_study = models.ForeignKey(CaseStudy, on_delete=models.PROTECT, related_name="live_rooms")
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="live_rooms_interviewed",
        help_text="Who conducts the interview: claimed, assigned or joined by invite.")
    session = models.OneToOneField(
        InterviewSession, on_delete=models.CASCADE, null=True, blank=True,
        related_name="live_room", help_text="Created when the interviewer starts the clock.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(db_default=Now())
    ended_at = models.DateTimeField(null=True, blank=True)
    # The last sequence number handed out (under the row's lock): the next event is +1.
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["waiting", "running", "ended"]),
                                   name="live_room_state_valid"),
            models.CheckConstraint(
                condition=Q(state="waiting") | Q(session__isnull=False)
                | Q(state="ended"),
                name="live_room_running_has_session"),
            models.CheckConstraint(condition=~Q(interviewer=models.F("candidate")),
                                   name="live_room_interviewer_not_candidate"),
            models.UniqueConstraint(
                fields=["candidate", "case_study"], condition=Q(state__in=["waiting", "running"]),
                name="one_open_live_room_per_case_study"),
        ]
        indexes = [models.Index(fields=["state", "interviewer"], name="live_room_state_iv")]

    def __str__(self) -> str:
        return f"Live · {self.candidate} · {self.case_study}"

    def get_absolute_url(self) -> str:
        return reverse("live:room", kwargs={"room_id": self.pk})


class LiveInvite(models.Model):
    """A single-use link that lets one signed-in interviewer join a room. Only a hash of the
    token is stored; the link is shown once to the candidate who made it."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(redeemed_at__isnull=True, redeemed_by__isnull=True)
                | Q(redeemed_at__isnull=False),
                name="live_invite_redeemed_with_time"),
        ]

    def __str__(self) -> str:
        return f"Invite to {self.room_id}"


class LiveEvent(models.Model):
    """One thing that happened in a room, in order: ``seq`` is 1, 2, 3... per room, given
    out under the room's row lock, and ``created_at`` is the database's clock.

    ``audience`` says who may read it: both people, or the interviewer only (private notes).
    ``body`` is the event's text (a question, an answer, a follow-up, a requirement change,
    a note, a time check); ``data`` holds what else its kind needs (``{"question_event": 4}``
    for an answer, ``{"minutes_left": 10}`` for a time check)."""

    class Kind(models.TextChoices):
        JOINED = "joined", "Joined"
        LEFT = "left", "Left"
        STARTED = "started", "Clock started"
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"
        FOLLOW_UP = "follow_up", "Follow-up"
        FOLLOW_UP_ANSWERED = "follow_up_answered", "Follow-up answered"
        REQUIREMENT_CHANGE = "requirement_change", "Requirement change"
        NOTE = "note", "Note"
        TIME_CHECK = "time_check", "Time check"
        ENDED = "ended", "Ended"

    class Audience(models.TextChoices):
        BOTH = "both", "Candidate and interviewer"
        INTERVIEWER = "interviewer", "Interviewer only"

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.BOTH)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    step_number = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    # Milliseconds since the clock started (None before it did): the replay's timeline.
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="live_event_seq_unique"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="live_event_seq_positive"),
            models.CheckConstraint(condition=Q(step_number__isnull=True)
                                   | Q(step_number__gte=1, step_number__lte=6),
                                   name="live_event_step_1_to_6"),
            models.CheckConstraint(condition=Q(audience__in=["both", "interviewer"]),
                                   name="live_event_audience_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq} {self.kind}"


class FollowUp(models.Model):
    """A follow-up question the interviewer posted on a step, and the candidate's answer to
    it: saved like any answer (a ``version`` per save, every save kept in ``revisions``)."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="follow_ups")
    event = models.OneToOneField(LiveEvent, on_delete=models.CASCADE, related_name="follow_up",
                                 help_text="The event that posted it.")
    step_number = models.PositiveSmallIntegerField()
    question = models.TextField()
    answer = models.TextField(blank=True, default="", help_text="Markdown.")
    version = models.PositiveIntegerField(default=0, help_text="0 until the first save.")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["room", "event__seq"]
        constraints = [
            models.CheckConstraint(condition=Q(step_number__gte=1, step_number__lte=6),
                                   name="follow_up_step_1_to_6"),
        ]

    def __str__(self) -> str:
        return self.question[:60]


class FollowUpRevision(models.Model):
    """One accepted save of a follow-up's answer."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    text = models.TextField(blank=True, default="")
    saved_at = models.DateTimeField(db_default=Now())
    elapsed_ms = models.PositiveIntegerField(help_text="Milliseconds since the clock started.")

    class Meta:
        ordering = ["follow_up", "version"]
        constraints = [
            models.UniqueConstraint(fields=["follow_up", "version"],
                                    name="follow_up_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.follow_up_id} v{self.version}"
