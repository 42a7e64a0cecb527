"""The catalogue: the versioned six-step rubric, case studies with their time budgets,
clarifying questions and concepts, and the role permissions.

The catalogue is data: it is loaded from ``interviews/catalogue/`` by ``load_catalogue`` and
edited in the Django admin afterwards.
"""


from django.db import models
from django.db.models import Q
from django.urls import reverse


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
    target_rate_rps = models.FloatField(
        default=20.0, help_text="The serving load test's request rate: the case's peak "
                                "traffic scaled to one core, in requests per second.")
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




class GuideStep(models.Model):
    """The interviewer guide for one step of one case study: what a strong answer covers
    (the answer key, which candidates may study after submitting), follow-up probes with the
    signal each looks for, requirement changes with what a good adjustment looks like, and
    red flags. Catalogue data (``interviews/catalogue/guides/<slug>.json``), versioned with
    the catalogue and editable in the admin; never shown to a candidate during a session.

    ``probes``: ``[{"question": ..., "signal": ...}]``; ``requirement_changes``:
    ``[{"change": ..., "good_adjustment": ...}]``; ``red_flags``: ``[str]``."""

    case_study = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, related_name="guide")
    step_number = models.PositiveSmallIntegerField()
    answer_key = models.TextField(help_text="Markdown: what a strong answer covers.")
    probes = models.JSONField(default=list, blank=True)
    requirement_changes = models.JSONField(default=list, blank=True)
    red_flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["case_study", "step_number"]
        constraints = [
            models.UniqueConstraint(fields=["case_study", "step_number"],
                                    name="one_guide_step_per_step"),
            models.CheckConstraint(condition=Q(step_number__gte=1, step_number__lte=6),
                                   name="guide_step_1_to_6"),
        ]

    def __str__(self) -> str:
        return f"{self.case_study} · guide for step {self.step_number}"
