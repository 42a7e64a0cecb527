"""Timed interview sessions: the session (the server owns its clock), answers with their
full revision history, time per step and the clarifying questions asked."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from interviews.models.catalogue import CaseStudy, ClarifyingQuestion, Rubric
from interviews.scorecards import verdict as rules


class InterviewSession(models.Model):
    """One candidate taking one case study against the clock.

    The server owns the clock: ``started_at`` and ``deadline`` come from the database's clock
    and every write checks them. At most one session per candidate and case study is active
    (a partial unique constraint), so a refresh or a double click never starts a second one.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "In progress"
        SUBMITTED = "submitted", "Submitted"

    class SubmitReason(models.TextChoices):
        EARLY = "early", "Submitted early"
        DEADLINE = "deadline", "Time ran out"

    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interview_sessions"
    )
    case_study = models.ForeignKey(CaseStudy, on_delete=models.PROTECT, related_name="sessions")
    rubric = models.ForeignKey(
        Rubric, on_delete=models.PROTECT, related_name="sessions",
        help_text="The rubric version the session was taken under.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    duration_seconds = models.PositiveIntegerField(
        help_text="The case study's length when the session started."
    )
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submit_reason = models.CharField(
        max_length=16, choices=SubmitReason.choices, blank=True, default=""
    )
    # Time per step: the step the candidate works on now and since when (database clock);
    # the elapsed time is credited to its StepTime when the candidate moves on.
    active_step = models.PositiveSmallIntegerField(null=True, blank=True)
    active_step_since = models.DateTimeField(null=True, blank=True)
    # Grading: how many interviewers grade it (an admin may ask for two to double-grade),
    # and the feedback once released. The consensus verdict and mean are computed from the
    # submitted grades at release and frozen here (grades cannot change after submission).
    graders_required = models.PositiveSmallIntegerField(
        default=1, help_text="Interviewers who grade this session (2 or 3 to double-grade)."
    )
    feedback_released_at = models.DateTimeField(null=True, blank=True)
    feedback_released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    feedback_verdict = models.CharField(max_length=16, blank=True, default="",
                                        choices=rules.VERDICTS)
    feedback_weighted_mean = models.DecimalField(max_digits=4, decimal_places=3, null=True,
                                                 blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "case_study"],
                condition=Q(status="active"),
                name="one_active_session_per_case_study",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "submitted"]), name="session_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("started_at")), name="deadline_after_start"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="active", submitted_at__isnull=True, submit_reason="")
                    | Q(status="submitted", submitted_at__isnull=False,
                        submit_reason__in=["early", "deadline"])
                ),
                name="submitted_iff_submitted_at",
            ),
            models.CheckConstraint(
                condition=Q(active_step__isnull=True)
                | Q(active_step__gte=1, active_step__lte=6),
                name="active_step_1_to_6",
            ),
            models.CheckConstraint(
                condition=Q(graders_required__gte=1, graders_required__lte=3),
                name="graders_required_1_to_3",
            ),
            models.CheckConstraint(
                condition=(
                    Q(feedback_released_at__isnull=True, feedback_verdict="",
                      feedback_weighted_mean__isnull=True)
                    | Q(status="submitted", feedback_released_at__isnull=False,
                        feedback_verdict__in=[code for code, _ in rules.VERDICTS],
                        feedback_weighted_mean__gte=1, feedback_weighted_mean__lte=4)
                ),
                name="feedback_released_with_verdict",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="session_status_deadline"),
            models.Index(fields=["status", "submitted_at"], name="session_status_submitted"),
            models.Index(fields=["case_study", "feedback_released_at"],
                         name="session_case_released"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} · {self.case_study} · {self.started_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("interviews:session", kwargs={"session_id": self.pk})

    def get_review_url(self) -> str:
        return reverse("interviews:session_review", kwargs={"session_id": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def closes_at(self) -> datetime:
        """When saves stop being accepted: the deadline plus the grace for in-flight saves."""
        return self.deadline + timedelta(seconds=settings.INTERVIEW_SAVE_GRACE_SECONDS)

    def is_due(self, *, now: datetime) -> bool:
        """Active, but past the deadline and its grace: due to be submitted."""
        return self.is_active and now >= self.closes_at

    def remaining_ms(self, *, now: datetime) -> int:
        return max(0, int((self.deadline - now).total_seconds() * 1000))

    def elapsed_ms(self, *, now: datetime) -> int:
        return max(0, int((now - self.started_at).total_seconds() * 1000))

    @property
    def is_released(self) -> bool:
        """The graders' feedback is visible to the candidate."""
        return self.feedback_released_at is not None

    @property
    def feedback_verdict_label(self) -> str:
        return rules.VERDICT_LABELS.get(self.feedback_verdict, "")

    def get_scorecard_url(self) -> str:
        return reverse("scorecards:session", kwargs={"session_id": self.pk})

    @property
    def used_seconds(self) -> int:
        """Wall-clock time from start to submission (or to the deadline)."""
        end = min(self.submitted_at or self.deadline, self.deadline)
        return max(0, int((end - self.started_at).total_seconds()))


class Answer(models.Model):
    """The candidate's current answer to one step; its history is in ``revisions``.

    ``version`` counts the saves; a save names the version it edited, and a stale one is
    refused rather than overwriting what another tab saved.
    """

    DIAGRAM_STEP = 5

    session = models.ForeignKey(InterviewSession, on_delete=models.CASCADE,
                                related_name="answers")
    step_number = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True, default="", help_text="Markdown.")
    diagram = models.TextField(blank=True, default="", help_text="Mermaid source (step 5).")
    version = models.PositiveIntegerField(default=0, help_text="0 until the first save.")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "step_number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "step_number"],
                                    name="one_answer_per_step"),
            models.CheckConstraint(
                condition=Q(step_number__gte=1, step_number__lte=6), name="answer_step_1_to_6"
            ),
            models.CheckConstraint(
                condition=Q(diagram="") | Q(step_number=5), name="diagram_only_in_step_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} step {self.step_number} v{self.version}"

    @property
    def is_blank(self) -> bool:
        return not self.text.strip() and not self.diagram.strip()

    @property
    def takes_diagram(self) -> bool:
        return self.step_number == self.DIAGRAM_STEP


class AnswerRevision(models.Model):
    """One accepted save, kept so that a session can be replayed on a timeline. Past a cap
    per answer a save writes over the last one instead (interviews/services/autosave.py)."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    text = models.TextField(blank=True, default="")
    diagram = models.TextField(blank=True, default="")
    saved_at = models.DateTimeField(help_text="Database clock.")
    elapsed_ms = models.PositiveIntegerField(help_text="Milliseconds since the session started.")

    class Meta:
        ordering = ["answer", "version"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "version"],
                                    name="one_revision_per_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="revision_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.answer} r{self.version}"


class StepTime(models.Model):
    """Seconds the candidate spent on one step, accumulated from the step they report."""

    session = models.ForeignKey(InterviewSession, on_delete=models.CASCADE,
                                related_name="step_times")
    step_number = models.PositiveSmallIntegerField()
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["session", "step_number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "step_number"],
                                    name="one_step_time_per_step"),
            models.CheckConstraint(
                condition=Q(step_number__gte=1, step_number__lte=6), name="step_time_1_to_6"
            ),
            models.CheckConstraint(condition=Q(seconds__gte=0), name="step_time_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} step {self.step_number}: {self.seconds:.0f} s"


class QuestionAsked(models.Model):
    """A clarifying question the candidate asked: one of the case study's (its answer was
    revealed) or their own words (recorded for the interviewer)."""

    class Kind(models.TextChoices):
        CATALOGUE = "catalogue", "From the case study"
        FREE_TEXT = "free_text", "Own question"

    session = models.ForeignKey(InterviewSession, on_delete=models.CASCADE,
                                related_name="questions_asked")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    question = models.ForeignKey(ClarifyingQuestion, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="asked")
    # Copies, so the record still reads right after the catalogue is edited.
    text = models.CharField(max_length=500)
    answer = models.TextField(blank=True, default="")
    asked_at = models.DateTimeField(help_text="Database clock.")
    elapsed_ms = models.PositiveIntegerField(help_text="Milliseconds since the session started.")

    class Meta:
        ordering = ["session", "asked_at", "id"]
        verbose_name_plural = "questions asked"
        constraints = [
            models.UniqueConstraint(
                fields=["session", "question"], condition=Q(question__isnull=False),
                name="each_catalogue_question_once",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["catalogue", "free_text"]), name="question_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.text


