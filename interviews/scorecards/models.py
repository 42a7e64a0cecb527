"""Scorecards: one interviewer's assessment of one submitted session (``Grade``), its level
per rubric step (``StepScore``) and the answer quotes it cites (``EvidenceQuote``).

These models belong to the ``interviews`` app (their tables are ``interviews_grade`` and so
on); ``interviews.models`` imports them so that Django registers them.
"""


from django.conf import settings
from django.db import models
from django.db.models import F, Q

from interviews.models.sessions import InterviewSession
from interviews.scorecards import verdict as rules


class Grade(models.Model):
    """One interviewer's scorecard for one submitted session.

    It exists from the moment the interviewer claims the session (or an admin assigns it),
    as a draft that autosaves; submitting computes the weighted mean and the rules'
    suggestion, and freezes it. Besides the services, database triggers (migration 0003)
    refuse any change to a submitted grade, its step scores and its evidence.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    class Verdict(models.TextChoices):
        # Worst to best, as in ``interviews.scorecards.verdict`` (the rules' single source).
        STRONG_NO_HIRE = rules.STRONG_NO_HIRE, rules.VERDICT_LABELS[rules.STRONG_NO_HIRE]
        NO_HIRE = rules.NO_HIRE, rules.VERDICT_LABELS[rules.NO_HIRE]
        HIRE = rules.HIRE, rules.VERDICT_LABELS[rules.HIRE]
        STRONG_HIRE = rules.STRONG_HIRE, rules.VERDICT_LABELS[rules.STRONG_HIRE]

    class RedFlag(models.TextChoices):
        LEAKAGE = "leakage", "Leakage not acknowledged"
        TASK_FRAMING = "task_framing", "Wrong task framing"
        SERVING_FEATURES = "serving_features", "Features unavailable at serving time"
        METRIC_MISMATCH = "metric_mismatch", "Metric at odds with the business goal"
        NO_EVALUATION = "no_evaluation", "No way to evaluate the model offline"

    session = models.ForeignKey(InterviewSession, on_delete=models.CASCADE,
                                related_name="grades")
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="grades_given")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", help_text="The admin who assigned it; empty when claimed.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(
        default=0, help_text="Counts the saves; a save names the revision it edited.")
    red_flags = models.JSONField(default=list, blank=True)
    verdict = models.CharField(
        max_length=16, blank=True, default="", choices=rules.VERDICTS,
        help_text="The grader's recommendation (blank in a draft: follow the suggestion).",
    )
    override_reason = models.TextField(blank=True, default="")
    summary = models.TextField(blank=True, default="", help_text="Overall feedback.")
    suggested_verdict = models.CharField(max_length=16, blank=True, default="",
                                         choices=rules.VERDICTS)
    weighted_mean = models.DecimalField(max_digits=4, decimal_places=3, null=True,
                                        blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "submitted_at", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "grader"], name="one_grade_per_grader"),
            models.CheckConstraint(condition=Q(status__in=["draft", "submitted"]),
                                   name="grade_status_valid"),
            models.CheckConstraint(
                condition=(
                    Q(status="draft", submitted_at__isnull=True, suggested_verdict="",
                      weighted_mean__isnull=True)
                    | Q(status="submitted", submitted_at__isnull=False,
                        verdict__in=[code for code, _ in rules.VERDICTS],
                        suggested_verdict__in=[code for code, _ in rules.VERDICTS],
                        weighted_mean__gte=1, weighted_mean__lte=4)
                ),
                name="grade_submitted_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(verdict="") | Q(verdict__in=[code for code, _ in rules.VERDICTS]),
                name="grade_verdict_valid",
            ),
            # An override of the rules' suggestion always carries its reason.
            models.CheckConstraint(
                condition=Q(status="draft") | Q(verdict=F("suggested_verdict"))
                | ~Q(override_reason=""),
                name="grade_override_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["grader", "status"], name="grade_grader_status")]

    def __str__(self) -> str:
        return f"{self.grader} on session {self.session_id} ({self.status})"

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def is_override(self) -> bool:
        return bool(self.verdict) and self.verdict != self.suggested_verdict

    @property
    def verdict_label(self) -> str:
        return rules.VERDICT_LABELS.get(self.verdict, "")

    @property
    def suggested_verdict_label(self) -> str:
        return rules.VERDICT_LABELS.get(self.suggested_verdict, "")

    @property
    def red_flag_labels(self) -> list[str]:
        labels = dict(self.RedFlag.choices)
        return [labels.get(code, code) for code in self.red_flags]


class StepScore(models.Model):
    """A grade's level for one rubric step (1-6, and 7 for communication): 1 to 4, or
    "not reached" for steps 1-6, with the grader's comment. ``level`` and ``not_reached``
    both unset means "not scored yet" (drafts only)."""

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="step_scores")
    step_number = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    not_reached = models.BooleanField(default=False)
    comment = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["grade", "step_number"]
        constraints = [
            models.UniqueConstraint(fields=["grade", "step_number"],
                                    name="one_score_per_step"),
            models.CheckConstraint(condition=Q(step_number__gte=1, step_number__lte=7),
                                   name="score_step_1_to_7"),
            models.CheckConstraint(condition=Q(level__isnull=True)
                                   | Q(level__gte=1, level__lte=4),
                                   name="score_level_1_to_4"),
            models.CheckConstraint(condition=Q(not_reached=False) | Q(level__isnull=True),
                                   name="score_not_reached_has_no_level"),
            models.CheckConstraint(condition=Q(not_reached=False) | Q(step_number__lte=6),
                                   name="communication_is_always_reached"),
        ]

    def __str__(self) -> str:
        return f"{self.grade_id} step {self.step_number}: {self.display}"

    @property
    def rule_level(self) -> int | str | None:
        """The level as the verdict rules take it: 1-4, NOT_REACHED or None."""
        return rules.NOT_REACHED if self.not_reached else self.level

    @property
    def is_scored(self) -> bool:
        return self.not_reached or self.level is not None

    @property
    def display(self) -> str:
        if self.not_reached:
            return "not reached"
        return str(self.level) if self.level else "—"


class EvidenceQuote(models.Model):
    """Text the grader selected in the candidate's answer to a step and attached to that
    step's score. Always verbatim: the service checks that the answer contains it."""

    MAX_CHARS = 600

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="evidence")
    step_number = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["grade", "step_number", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(step_number__gte=1, step_number__lte=6),
                                   name="evidence_step_1_to_6"),
            models.CheckConstraint(condition=~Q(text=""), name="evidence_not_empty"),
            models.UniqueConstraint(fields=["grade", "step_number", "text"],
                                    name="evidence_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.grade_id} step {self.step_number}: {self.text[:40]}"
