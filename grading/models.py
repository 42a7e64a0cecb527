"""Datasets, model submissions, scores and worker heartbeats.

Held-out labels are never stored in the database or under MEDIA_ROOT: a ``Dataset`` row
records the generator version, data version and fingerprint, and any machine holding the
deployment's dataset secret rebuilds the files from those
(``grading.services.datasets.dataset_materialize``) into PRIVATE_DATA_ROOT. The seed is
never stored: it is derived from the secret.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, FloatField, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Abs, Cast, Coalesce
from django.urls import reverse

from interviews.models import CaseStudy

# Finite, on every database: PostgreSQL orders NaN above every number and Infinity above
# every finite one, so a range check refuses both. SQLite stores NaN as NULL.
FINITE_LIMIT = 1e300


def finite(field: str) -> Q:
    return Q(**{f"{field}__gt": -FINITE_LIMIT, f"{field}__lt": FINITE_LIMIT})


def finite_or_null(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | finite(field)


class Dataset(models.Model):
    """One built version of a case study's data. The active one is what new submissions
    are scored on. Its rows come from the deployment's dataset secret; the row keeps only
    names that do not let anyone rebuild them."""

    case_study = models.ForeignKey(CaseStudy, on_delete=models.PROTECT, related_name="datasets")
    generator_version = models.PositiveIntegerField()
    data_version = models.PositiveIntegerField(
        default=1, help_text="Counts the builds of this case study: a new version draws new "
                             "data (build_datasets --new-version).")
    size = models.CharField(max_length=16, default="default")
    dataset_id = models.CharField(
        max_length=32, help_text="A public name of this build, derived from the dataset "
                                 "secret; it does not reveal the data.")
    key_id = models.CharField(
        max_length=32, help_text="Names the dataset secret the data was built with: only a "
                                 "machine whose secret has this key id can rebuild it.")
    fingerprint = models.CharField(max_length=64, help_text="sha256 of every row, both splits.")
    train_rows = models.PositiveIntegerField()
    heldout_rows = models.PositiveIntegerField()
    public_rows = models.PositiveIntegerField()
    build_seconds = models.FloatField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_study", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_study", "generator_version", "size", "data_version"],
                name="unique_dataset_version",
            ),
            models.CheckConstraint(condition=Q(data_version__gte=1),
                                   name="data_version_from_1"),
            models.UniqueConstraint(
                fields=["case_study"], condition=Q(is_active=True),
                name="one_active_dataset_per_case",
            ),
            models.CheckConstraint(
                condition=Q(public_rows__lte=F("heldout_rows")), name="public_within_heldout"
            ),
        ]

    def __str__(self) -> str:
        return (f"{self.case_study.slug} data v{self.data_version} ({self.size}, generator "
                f"v{self.generator_version}, id {self.dataset_id})")

    @property
    def storage_key(self) -> str:
        """The folder of this build's files: named by the dataset id, never by a seed."""
        return (f"{self.case_study.slug}/v{self.generator_version}-d{self.data_version}-"
                f"{self.size}-{self.dataset_id}")


def artifact_upload_to(instance: "Submission", filename: str) -> str:
    # The candidate's file name is never used on disk: it is only shown back to them.
    return f"artifacts/{instance.case_study.slug}/{instance.uuid}.bin"


class Leaderboard(models.Model):
    """The competition settings of one case study: the daily quota, whether the round is
    open to anonymous readers, and whether it is closed (which reveals the private part)."""

    case_study = models.OneToOneField(CaseStudy, on_delete=models.CASCADE,
                                      related_name="leaderboard")
    daily_quota = models.PositiveSmallIntegerField(
        default=5, help_text="Submissions per candidate per UTC day.")
    is_public = models.BooleanField(
        default=False, help_text="Anyone, logged in or not, may read the leaderboard.")
    is_closed = models.BooleanField(
        default=False, help_text="The round is over: no uploads, and the private ranking shows.")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The dataset active when the round last closed: its private split is "
                  "revealed, so the round reopens only on a dataset built after the close.")
    public_decimals = models.PositiveSmallIntegerField(
        default=4, help_text="Public scores are rounded so they cannot be mined for labels.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(public_decimals__gte=2, public_decimals__lte=6),
                                   name="public_decimals_2_to_6"),
        ]

    def __str__(self) -> str:
        return f"Leaderboard of {self.case_study}"


class QuotaUsage(models.Model):
    """How many submissions a candidate made for a case study on one UTC day. Incremented
    with a conditional UPDATE, so concurrent uploads can never exceed the quota."""

    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="+")
    case_study = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    used = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "quota usage"
        constraints = [
            models.UniqueConstraint(fields=["candidate", "case_study", "day"],
                                    name="one_quota_row_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} {self.case_study.slug} {self.day}: {self.used}"


class Submission(models.Model):
    """A model artifact to score: a candidate's upload or a baseline."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SCORED = "scored", "Scored"
        FAILED = "failed", "Failed"

    class FailureReason(models.TextChoices):
        INVALID_ARTIFACT = "invalid_artifact", "Invalid model file"
        INVALID_OUTPUT = "invalid_output", "Invalid predictions"
        RESOURCE_LIMIT = "resource_limit", "Resource limit exceeded"
        TIMEOUT = "timeout", "Timed out"
        INTERNAL_ERROR = "internal_error", "Internal error"

    uuid = models.UUIDField(unique=True)
    case_study = models.ForeignKey(CaseStudy, on_delete=models.PROTECT,
                                   related_name="submissions")
    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  null=True, blank=True, related_name="submissions")
    baseline_name = models.CharField(max_length=80, blank=True)
    artifact = models.FileField(upload_to=artifact_upload_to, max_length=255)
    original_filename = models.CharField(max_length=255, blank=True)
    artifact_format = models.CharField(max_length=16, blank=True)
    artifact_bytes = models.PositiveBigIntegerField(default=0)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.CharField(max_length=32, choices=FailureReason.choices, blank=True)
    failure_message = models.TextField(blank=True)
    failure_code = models.CharField(
        max_length=40, blank=True,
        help_text="The engine's finer reason (a rejection code, memory, cpu_limit...): the "
                  "submission page's hint on how to fix it follows it.")
    attempts = models.PositiveSmallIntegerField(default=0)
    is_pinned = models.BooleanField(
        default=False, help_text="The candidate's choice for the leaderboard (else their best).")
    quota_day = models.DateField(null=True, blank=True)
    quota_refunded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(candidate__isnull=False) | ~Q(baseline_name=""),
                name="submission_has_owner_or_is_baseline",
            ),
            models.CheckConstraint(
                condition=Q(status="failed", failure_reason__gt="")
                | (~Q(status="failed") & Q(failure_reason="")),
                name="failure_reason_iff_failed",
            ),
            models.UniqueConstraint(fields=["candidate", "case_study"],
                                    condition=Q(is_pinned=True),
                                    name="one_pinned_submission_per_case"),
        ]
        indexes = [
            models.Index(fields=["case_study", "status"]),
            models.Index(fields=["status", "enqueued_at"]),
        ]

    def __str__(self) -> str:
        owner = self.baseline_name or str(self.candidate)
        return f"{self.case_study.slug} · {owner} · {self.status}"

    def get_absolute_url(self) -> str:
        return reverse("grading:submission", kwargs={"submission_uuid": self.uuid})

    @property
    def is_baseline(self) -> bool:
        return bool(self.baseline_name)

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SCORED, self.Status.FAILED)


class Score(models.Model):
    """The result of scoring one submission on one dataset version with one scorer version.
    Re-scoring adds a row and marks it current; old rows stay as history."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="scores")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="scores")
    scorer_version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    primary_metric = models.CharField(max_length=40)
    public_primary = models.FloatField()
    private_primary = models.FloatField()
    private_ci_low = models.FloatField()
    private_ci_high = models.FloatField()
    public_ci_low = models.FloatField()
    public_ci_high = models.FloatField()
    metrics = models.JSONField(help_text="{split: {metric: value}} for public, private, all.")
    per_slice = models.JSONField(
        default=dict, help_text="{public|all: {slice: primary metric}} for staleness.")
    plots = models.JSONField(default=dict, help_text="{public|all: plot data}.")
    latency_p50_ms = models.FloatField()
    latency_p99_ms = models.FloatField()
    latency_budget_ms = models.PositiveIntegerField()
    serving = models.JSONField(
        default=dict, blank=True,
        help_text="The serving evaluation: load time, peak memory, the Poisson load test at "
                  "the target rate and twice it, the latency-vs-load curve, the highest rate "
                  "within budget, cost per million predictions.")
    scenarios = models.JSONField(
        default=dict, blank=True,
        help_text="{public|all: {scenario: {value, low, high, rows}}}: the primary metric "
                  "on each scenario slice (cold start, latest week, missing features).")
    artifact_bytes = models.PositiveBigIntegerField()
    scoring_seconds = models.FloatField()
    network_isolated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["submission"], condition=Q(is_current=True),
                                    name="one_current_score_per_submission"),
            *[
                models.CheckConstraint(condition=finite(field), name=f"score_{field}_finite")
                for field in ("public_primary", "private_primary", "private_ci_low",
                              "private_ci_high", "public_ci_low", "public_ci_high",
                              "latency_p50_ms", "latency_p99_ms", "scoring_seconds")
            ],
            models.CheckConstraint(
                condition=Q(private_ci_low__lte=F("private_ci_high")), name="score_ci_ordered"
            ),
        ]
        indexes = [models.Index(fields=["dataset", "is_current"])]

    def __str__(self) -> str:
        return f"{self.submission} {self.primary_metric}={self.private_primary:.4f}"


# Metrics a leaderboard can be sorted by through an index, with their direction (as in
# ``grading.engine.metrics``; a test checks they agree). Kept here, not read from the registry, so
# that adding a metric there does not change the schema.
SORTABLE_METRICS = {
    "log_loss": "lower", "normalized_entropy": "lower", "roc_auc": "higher", "pr_auc": "higher",
    "expected_calibration_error": "lower", "calibration_ratio": "target_one",
    "ndcg_at_10": "higher", "mrr": "higher", "map_at_10": "higher", "recall_at_10": "higher",
    "rmse": "lower", "mae": "lower", "mape": "lower", "p90_abs_error": "lower",
    "share_under_estimated": "lower",
}
# A missing secondary value sorts below every finite one (larger is better, as for
# ``public_sort``), so best-first puts it last without NULLS LAST, which an index on SQLite
# cannot declare.
MISSING_SORT = -10 * FINITE_LIMIT


def secondary_sort_field(split: str, key: str) -> str:
    return f"{split}_sort_{key}"


class LeaderboardEntry(models.Model):
    """One row of a leaderboard: a candidate's pinned or best-public submission, or a
    baseline. Denormalised when a score lands, so reading a page is one query however many
    submissions there are.

    The public columns (``public_*`` and ``metrics["public"]``) are what the public board
    shows, already rounded to the leaderboard's ``public_decimals``: for a candidate, the
    scores of their Ladder leader (``ladder_submission``, which changes only on a clearly
    better submission: ``grading.services.leaderboards``), whatever they pinned. The
    private columns are the entry's ``submission``'s, at full precision. Read pages with
    ``defer("ladder_predictions")``."""

    leaderboard = models.ForeignKey(Leaderboard, on_delete=models.CASCADE,
                                    related_name="entries")
    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  null=True, blank=True, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    display_name = models.CharField(max_length=150)
    is_baseline = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    public_primary = models.FloatField()
    public_ci_low = models.FloatField()
    public_ci_high = models.FloatField()
    private_primary = models.FloatField()
    private_ci_low = models.FloatField()
    private_ci_high = models.FloatField()
    # Negated where lower is better, so that one descending order ranks every metric.
    public_sort = models.FloatField()
    private_sort = models.FloatField()
    metrics = models.JSONField(help_text="{public|private: {metric: value}}")
    latency_p99_ms = models.FloatField()
    latency_budget_ms = models.PositiveIntegerField()
    serving = models.JSONField(
        default=dict, blank=True,
        help_text="The entry's submission's serving figures for the board's columns "
                  "(p99 at the target rate, highest rate within budget, cost).")
    artifact_bytes = models.PositiveBigIntegerField()
    submission_count = models.PositiveIntegerField(default=1)
    last_submitted_at = models.DateTimeField()
    scored_at = models.DateTimeField()
    ladder_submission = models.ForeignKey(
        Submission, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The submission whose public score the board shows (the Ladder's leader).")
    ladder_predictions = models.BinaryField(
        default=b"", help_text="The leader's predictions on the public rows (compressed .npy), "
                               "for the paired comparison with the next submission. "
                               "Never served.")

    class Meta:
        verbose_name_plural = "leaderboard entries"
        constraints = [
            models.UniqueConstraint(fields=["leaderboard", "candidate"],
                                    condition=Q(candidate__isnull=False),
                                    name="one_entry_per_candidate"),
            models.UniqueConstraint(fields=["leaderboard", "submission"],
                                    name="one_entry_per_submission"),
            *[
                models.CheckConstraint(condition=finite(field), name=f"entry_{field}_finite")
                for field in ("public_primary", "private_primary", "public_sort",
                              "private_sort")
            ],
        ]
        indexes = [
            # The page's order with its tie-breaks, covering: a page's ids and a rank's
            # count of better entries are read from the index alone.
            *[models.Index(fields=["leaderboard", f"-{split}_sort", "last_submitted_at", "id"],
                           name=f"lbe_{split[:3]}_primary")
              for split in ("public", "private")],
            # The chart's baseline lines, without reading every candidate's row.
            models.Index(fields=["leaderboard"], condition=Q(is_baseline=True),
                         name="lbe_baselines"),
            *[models.Index(fields=["leaderboard", f"-{name}", "last_submitted_at", "id"],
                           name=f"lbe_{name[:26]}")
              for name in (secondary_sort_field(split, key)
                           for split in ("public", "private") for key in SORTABLE_METRICS)],
        ]

    def __str__(self) -> str:
        return f"{self.display_name} on {self.leaderboard}"


def _secondary_sort_expression(split: str, key: str, direction: str) -> Coalesce:
    value = Cast(KT(f"metrics__{split}__{key}"), FloatField())
    if direction == "lower":
        value = value * Value(-1.0)
    elif direction == "target_one":
        value = Abs(value - Value(1.0)) * Value(-1.0)
    return Coalesce(value, Value(MISSING_SORT))


# Secondary metrics' sort values, computed by the database from ``metrics`` (so every writer,
# bulk inserts and admin edits included, keeps them right) and indexed, so sorting a large
# leaderboard by one reads an index rather than every row's JSON. The names are
# ``<split>_sort_<metric>``; a metric missing here is still sortable, by its JSON value.
for _split in ("public", "private"):
    for _key, _direction in SORTABLE_METRICS.items():
        LeaderboardEntry.add_to_class(secondary_sort_field(_split, _key), models.GeneratedField(
            expression=_secondary_sort_expression(_split, _key, _direction),
            output_field=models.FloatField(), db_persist=True))


class LeaderboardRecord(models.Model):
    """A new best public score: the points of the best-score-over-time chart."""

    leaderboard = models.ForeignKey(Leaderboard, on_delete=models.CASCADE,
                                    related_name="records")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    public_primary = models.FloatField()
    achieved_at = models.DateTimeField()

    class Meta:
        ordering = ["achieved_at"]
        constraints = [models.CheckConstraint(condition=finite("public_primary"),
                                              name="record_public_primary_finite")]

    def __str__(self) -> str:
        return f"{self.public_primary:.4f} at {self.achieved_at:%Y-%m-%d %H:%M}"


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker process said it was alive, and the queues it
    consumes. Each worker writes its own row on start and then on a timer in its main
    process (a scoring job in its pool does not hold it up), so the health page and the
    admins can tell a stuck queue from a dead worker, and a queue nobody consumes."""

    hostname = models.CharField(max_length=255, unique=True)
    queues = models.JSONField(default=list, blank=True)
    seen_at = models.DateTimeField()
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%H:%M:%S}"


class DesignClaim(models.Model):
    """A claim a candidate makes in steps 2-4 of an interview session that the model they
    link to the session can be measured against (``grading.selectors.claims`` gives the
    verdict: supported, not supported or inconclusive)."""

    class Kind(models.TextChoices):
        HELDOUT_METRIC = "heldout_metric", "Metric on held-out data"
        SCENARIO_METRIC = "scenario_metric", "Metric on a scenario slice"
        LATENCY_P99 = "latency_p99", "p99 latency at the target rate"
        MODEL_SIZE = "model_size", "Model size"
        BEATS_BASELINE = "beats_baseline", "Beats the reasonable baseline"

    class Comparator(models.TextChoices):
        AT_MOST = "le", "at most"
        AT_LEAST = "ge", "at least"

    session = models.ForeignKey("interviews.InterviewSession", on_delete=models.CASCADE,
                                related_name="design_claims")
    step_number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    metric = models.CharField(max_length=40, blank=True)
    scenario = models.CharField(max_length=40, blank=True)
    comparator = models.CharField(max_length=2, choices=Comparator.choices, blank=True)
    value = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "step_number", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(step_number__gte=2, step_number__lte=4),
                                   name="claim_in_steps_2_to_4"),
            models.CheckConstraint(condition=finite_or_null("value"),
                                   name="claim_value_finite"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (step {self.step_number}) of {self.session_id}"


class SessionModelLink(models.Model):
    """The scored submission a candidate linked to one of their interview sessions: the
    model their design claims are checked against."""

    session = models.OneToOneField("interviews.InterviewSession", on_delete=models.CASCADE,
                                   related_name="model_link")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.session_id} -> {self.submission_id}"
