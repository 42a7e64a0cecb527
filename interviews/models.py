"""Case studies, the versioned six-step rubric, and timed interview sessions.

The catalogue is data: it is loaded from ``interviews/catalogue/`` by ``load_catalogue`` and
edited in the Django admin afterwards.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from interviews import verdict as rules


class Rubric(models.Model):
    """One version of the rubric. Grades point at the version they used, so editing the
    rubric means creating a new version (``rubric_new_version``), never rewriting this one."""

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(unique=True)
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_rubric"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def scored_steps(self) -> list["RubricStep"]:
        return [step for step in self.steps.all() if not step.is_communication]


class RubricStep(models.Model):
    """A scored dimension: steps 1 to 6, and communication (number 7, no time budget)."""

    COMMUNICATION_NUMBER = 7

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    slug = models.SlugField(max_length=40)
    title = models.CharField(max_length=80)
    weight = models.DecimalField(
        max_digits=4, decimal_places=3, help_text="Share of the weighted mean (steps sum to 1)."
    )
    default_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    guidance = models.TextField(help_text="What the candidate should cover in this step.")
    descriptor_1 = models.TextField("level 1 (weak)")
    descriptor_2 = models.TextField("level 2 (mixed)")
    descriptor_3 = models.TextField("level 3 (solid, the hire bar)")
    descriptor_4 = models.TextField("level 4 (strong)")
    may_be_not_reached = models.BooleanField(default=True)

    class Meta:
        ordering = ["rubric", "number"]
        constraints = [
            models.UniqueConstraint(fields=["rubric", "number"], name="unique_step_number"),
            models.UniqueConstraint(fields=["rubric", "slug"], name="unique_step_slug"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=7), name="step_number_1_to_7"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0, weight__lte=1), name="step_weight_0_to_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def is_communication(self) -> bool:
        return self.number == self.COMMUNICATION_NUMBER

    @property
    def descriptors(self) -> list[tuple[int, str]]:
        return [
            (1, self.descriptor_1),
            (2, self.descriptor_2),
            (3, self.descriptor_3),
            (4, self.descriptor_4),
        ]


class CaseStudy(models.Model):
    class TaskType(models.TextChoices):
        BINARY = "binary", "Binary classification"
        RANKING = "ranking", "Ranking"
        REGRESSION = "regression", "Regression"

    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=0)
    summary = models.CharField(max_length=300)
    prompt = models.TextField(help_text="What the interviewer reads out.")
    task_type = models.CharField(max_length=16, choices=TaskType.choices)
    primary_metric = models.CharField(max_length=40)
    secondary_metrics = models.JSONField(default=list, blank=True)
    online_metrics = models.JSONField(default=list, blank=True)
    latency_budget_ms = models.PositiveIntegerField()
    duration_seconds = models.PositiveIntegerField(
        default=45 * 60, help_text="Interview length in seconds (45 minutes by default)."
    )
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "title"]
        verbose_name_plural = "case studies"
        constraints = [
            models.CheckConstraint(condition=Q(duration_seconds__gt=0), name="duration_positive"),
            models.CheckConstraint(
                condition=Q(task_type__in=["binary", "ranking", "regression"]),
                name="task_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("interviews:case_study", kwargs={"slug": self.slug})

    @property
    def duration_minutes(self) -> float:
        return self.duration_seconds / 60


class StepBudget(models.Model):
    """How long the candidate should spend on one rubric step of this case study."""

    case_study = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, related_name="budgets")
    step_number = models.PositiveSmallIntegerField()
    seconds = models.PositiveIntegerField()

    class Meta:
        ordering = ["case_study", "step_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_study", "step_number"], name="unique_budget_per_step"
            ),
            models.CheckConstraint(
                condition=Q(step_number__gte=1, step_number__lte=6), name="budget_step_1_to_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_study} step {self.step_number}: {self.seconds // 60} min"

    @property
    def minutes(self) -> float:
        return self.seconds / 60


class ClarifyingQuestion(models.Model):
    case_study = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(max_length=300)
    answer = models.TextField(help_text="What the interviewer answers.")

    class Meta:
        ordering = ["case_study", "order", "id"]

    def __str__(self) -> str:
        return self.question


class Concept(models.Model):
    """Something a strong answer to a step covers; matched against answers with its synonyms
    to give the candidate a coverage hint (never a grade)."""

    case_study = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, related_name="concepts")
    step_number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    synonyms = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["case_study", "step_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_study", "step_number", "name"], name="unique_concept_per_step"
            ),
            models.CheckConstraint(
                condition=Q(step_number__gte=1, step_number__lte=6), name="concept_step_1_to_6"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RolePermissions(models.Model):
    """Holds the role permissions that belong to no single model."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("grade_sessions", "Can grade interview sessions"),
            ("manage_rounds", "Can run interview rounds, assign graders and release feedback"),
        ]

    def __str__(self) -> str:
        return "role permissions"


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

    def get_grading_url(self) -> str:
        return reverse("interviews:grading_session", kwargs={"session_id": self.pk})

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
    """One accepted save, kept forever so that a session can be replayed on a timeline."""

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


# --- Grading --------------------------------------------------------------------------------


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
        # Worst to best, as in ``interviews.verdict`` (the rules' single source).
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
