"""Scheduling: interviewers' availability, bookable slots, bookings, time-zone preferences and
each person's attendance record.

These models belong to the ``interviews`` app (``interviews.models`` imports them so that
Django registers them). Every time is stored in UTC; a window is published in its owner's
time zone (``Availability.time_zone``) and each of its occurrences becomes a ``Slot`` with a
UTC start, so a window that crosses a daylight-saving change keeps its local wall-clock time.

Exactly one booking holds a slot: a partial unique constraint on ``Booking.slot`` among the
active bookings, so two candidates booking the same slot at the same instant cannot both win
(the database refuses the second insert, whatever the application checked before it).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now

from interviews.models.catalogue import CaseStudy


class Profile(models.Model):
    """A person's preferences for scheduling: the time zone their times are shown in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="scheduling_profile")
    time_zone = models.CharField(max_length=64, default="UTC",
                                 help_text="An IANA time zone name, e.g. Europe/Berlin.")

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone})"


class Availability(models.Model):
    """A window an interviewer (or, for peer practice, a candidate) offers: every week on a
    weekday, or once on a date, from a local start time to a local end time, cut into slots of
    ``slot_minutes``."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", "Interview with an interviewer"
        PEER = "peer", "Peer mock (both interview each other)"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="availabilities")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INTERVIEW)
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(i, name) for i, name in enumerate(
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])],
        help_text="A window that repeats every week on this day.")
    date = models.DateField(null=True, blank=True, help_text="A one-off window on this date.")
    start_time = models.TimeField()
    end_time = models.TimeField()
    time_zone = models.CharField(max_length=64)
    slot_minutes = models.PositiveSmallIntegerField(default=60)
    case_study = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", help_text="Empty: any case study.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name_plural = "availabilities"
        constraints = [
            models.CheckConstraint(
                condition=(Q(weekday__isnull=False) & Q(date__isnull=True))
                | (Q(weekday__isnull=True) & Q(date__isnull=False)),
                name="availability_weekly_or_one_off"),
            models.CheckConstraint(condition=Q(weekday__isnull=True) | Q(weekday__lte=6),
                                   name="availability_weekday_0_to_6"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")),
                                   name="availability_ends_after_start"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=15, slot_minutes__lte=180),
                                   name="availability_slot_15_to_180_minutes"),
        ]

    def __str__(self) -> str:
        when = self.date.isoformat() if self.date else f"weekday {self.weekday}"
        return f"{self.owner} {when} {self.start_time:%H:%M}-{self.end_time:%H:%M} {self.time_zone}"


class Slot(models.Model):
    """One bookable occurrence of an availability window, in UTC."""

    availability = models.ForeignKey(Availability, on_delete=models.CASCADE,
                                     related_name="slots")
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="hosted_slots")
    kind = models.CharField(max_length=16, choices=Availability.Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    case_study = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+")
    is_withdrawn = models.BooleanField(default=False,
                                       help_text="The host took the slot back (no booking).")

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["host", "starts_at"], name="one_slot_per_host_start"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="slot_ends_after_start"),
        ]
        indexes = [models.Index(fields=["kind", "starts_at"], name="slot_kind_start")]

    def __str__(self) -> str:
        return f"{self.host} {self.starts_at:%Y-%m-%d %H:%M} UTC ({self.kind})"


class Booking(models.Model):
    """A candidate's booking of a slot. Cancelled and rescheduled bookings stay as history."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        RESCHEDULED = "rescheduled", "Moved to another slot"
        COMPLETED = "completed", "Took place"
        NO_SHOW = "no_show", "No-show"

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="bookings")
    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="bookings")
    case_study = models.ForeignKey(CaseStudy, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    created_at = models.DateTimeField(db_default=Now())
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    is_late_cancellation = models.BooleanField(default=False)
    rescheduled_to = models.OneToOneField("self", on_delete=models.SET_NULL, null=True,
                                          blank=True, related_name="rescheduled_from")
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    candidate_joined_at = models.DateTimeField(null=True, blank=True)
    host_joined_at = models.DateTimeField(null=True, blank=True)
    live_room = models.ForeignKey("interviews.LiveRoom", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+",
                                  help_text="The live room opened when the candidate joined.")
    no_show_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", help_text="Who did not come (a no-show booking; empty when neither "
                                    "came: it then counts on nobody's record).")

    class Meta:
        ordering = ["slot__starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slot"], condition=Q(status="booked"),
                                    name="one_active_booking_per_slot"),
            models.CheckConstraint(condition=Q(status__in=["booked", "cancelled", "rescheduled",
                                                            "completed", "no_show"]),
                                   name="booking_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "reminder_sent_at"], name="booking_reminders")]

    def __str__(self) -> str:
        return f"{self.candidate} → {self.slot} ({self.status})"


class PeerMock(models.Model):
    """Two candidates interviewing each other: two live interviews back to back, on two case
    studies, swapping roles at the midpoint. In turn 1 ``first`` is the candidate and
    ``second`` interviews; in turn 2 the other way round. Made by booking a peer slot (the
    slot's host is ``first``) or from an invite link (its maker is ``first``)."""

    class Stage(models.TextChoices):
        WAITING = "waiting", "Waiting for the partner"
        TURN_1 = "turn_1", "First turn"
        TURN_2 = "turn_2", "Second turn"
        DONE = "done", "Both turns done"

    first = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="peer_mocks_first")
    second = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                               blank=True, related_name="peer_mocks_second")
    first_case_study = models.ForeignKey(CaseStudy, on_delete=models.PROTECT, related_name="+",
                                         help_text="Turn 1: ``first`` is interviewed on it.")
    second_case_study = models.ForeignKey(CaseStudy, on_delete=models.PROTECT,
                                          related_name="+",
                                          help_text="Turn 2: ``second`` is interviewed on it.")
    booking = models.OneToOneField(Booking, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="peer_mock")
    invite_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.WAITING)
    first_room = models.OneToOneField("interviews.LiveRoom", on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+")
    second_room = models.OneToOneField("interviews.LiveRoom", on_delete=models.SET_NULL,
                                       null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(first=F("second")),
                                   name="peer_mock_two_people"),
            models.CheckConstraint(condition=~Q(first_case_study=F("second_case_study")),
                                   name="peer_mock_two_case_studies"),
        ]

    def __str__(self) -> str:
        return f"Peer mock {self.first} / {self.second} ({self.stage})"


class PeerScorecard(models.Model):
    """A peer interviewer's structured feedback on one turn: a level per rubric step with a
    comment, what went well, what to work on. Peer feedback only: never an interviewer's
    verdict, never in calibration (it is not a ``Grade``). The candidate rates how useful it
    was."""

    peer_mock = models.ForeignKey(PeerMock, on_delete=models.CASCADE, related_name="scorecards")
    room = models.OneToOneField("interviews.LiveRoom", on_delete=models.CASCADE,
                                related_name="peer_scorecard")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="peer_scorecards_written")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="peer_scorecards_received")
    levels = models.JSONField(default=dict, help_text="{step number: level 1-4}")
    comments = models.JSONField(default=dict, help_text="{step number: comment}")
    went_well = models.TextField(blank=True)
    work_on = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    usefulness = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The candidate's rating of the feedback, 1 to 5.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(usefulness__isnull=True)
                                   | Q(usefulness__gte=1, usefulness__lte=5),
                                   name="peer_usefulness_1_to_5"),
            models.CheckConstraint(condition=~Q(author=F("subject")),
                                   name="peer_scorecard_not_self"),
        ]

    def __str__(self) -> str:
        return f"Peer feedback by {self.author} on {self.subject}"
