"""factory_boy factories for model grading's rows: datasets, submissions (a candidate's or a
baseline), scores, leaderboards with their entries and best-score records.

Rows only, which is what tests of pages, selectors and constraints need; tests of scoring
go through the services. A ``DatasetFactory`` row has no files behind it, so nothing can be
scored on it (the ``tiny_dataset`` fixture builds real data), and a submission's
``artifact`` is a name with no file unless ``artifact_file=True``.

Every default satisfies the models' constraints on PostgreSQL and SQLite: a failed
submission says why, a candidate's submission has its candidate and a baseline its name,
intervals contain their values, a score is its submission's only current one. For many
rows at once, ``build`` them and ``bulk_create``.
"""

import hashlib
import uuid

import factory
from django.utils import timezone

from grading.engine.scoring import SCORER_VERSION
from grading.models import Dataset, Submission
from grading.services.leaderboards import sort_value
from interviews.tests.factories import CaseStudyFactory, UserFactory

ARTIFACT_CONTENT = b"onnx"

Status = Submission.Status


class DatasetFactory(factory.django.DjangoModelFactory):
    """A built version of a case study's data (the row only), active by default. A case study
    has one active dataset: pass ``is_active=False`` for an older version."""

    class Meta:
        model = "grading.Dataset"

    case_study = factory.SubFactory(CaseStudyFactory)
    generator_version = 1
    data_version = factory.Sequence(lambda n: n + 1)
    size = "tiny"
    dataset_id = factory.Sequence(lambda n: f"factory-{n}")
    key_id = "factory"  # no secret has it: a factory row can never be rebuilt
    fingerprint = factory.LazyAttribute(lambda d: hashlib.sha256(
        f"{d.case_study.slug}/v{d.generator_version}-d{d.data_version}-{d.size}".encode()
    ).hexdigest())
    train_rows = 100
    heldout_rows = 100
    public_rows = 50
    build_seconds = 0.1
    is_active = True


def active_dataset(case_study) -> Dataset:
    """The case study's active dataset, or a new ``DatasetFactory`` row if it has none."""
    dataset = Dataset.objects.filter(case_study=case_study, is_active=True).first()
    return dataset or DatasetFactory(case_study=case_study)


class SubmissionFactory(factory.django.DjangoModelFactory):
    """A candidate's ONNX submission, queued as an upload leaves it.

    Status traits: ``running=True``, ``scored=True`` or ``failed=True`` (an
    ``internal_error`` unless ``failure_reason`` says otherwise); ``status=`` alone works too,
    the attempt count, timestamps and failure fields follow it. ``baseline=True`` makes a
    baseline (no candidate). ``artifact_file=True`` stores a small file through the storage
    API (use the ``data_dirs`` fixture, so that it lands in the test's own folder).
    ``created_at=`` backdates the row, which ``auto_now_add`` would not allow.
    """

    class Meta:
        model = "grading.Submission"
        skip_postgeneration_save = True

    class Params:
        running = factory.Trait(status=Status.RUNNING)
        scored = factory.Trait(status=Status.SCORED)
        failed = factory.Trait(status=Status.FAILED)
        baseline = factory.Trait(
            candidate=None, baseline_name=factory.Sequence(lambda n: f"baseline {n}"))
        artifact_file = factory.Trait(artifact=factory.django.FileField(
            data=ARTIFACT_CONTENT, filename="model.onnx"))

    uuid = factory.LazyFunction(uuid.uuid4)
    case_study = factory.SubFactory(CaseStudyFactory)
    candidate = factory.SubFactory(UserFactory)
    baseline_name = ""
    # The name ``artifact_upload_to`` would give, without writing a file.
    artifact = factory.LazyAttribute(lambda s: f"artifacts/{s.case_study.slug}/{s.uuid}.bin")
    original_filename = "model.onnx"
    artifact_format = "onnx"
    artifact_bytes = len(ARTIFACT_CONTENT)
    artifact_sha256 = hashlib.sha256(ARTIFACT_CONTENT).hexdigest()
    status = Status.QUEUED
    failure_reason = factory.LazyAttribute(
        lambda s: Submission.FailureReason.INTERNAL_ERROR if s.status == Status.FAILED else "")
    failure_message = factory.LazyAttribute(
        lambda s: "The scorer stopped unexpectedly." if s.status == Status.FAILED else "")
    attempts = factory.LazyAttribute(lambda s: 0 if s.status == Status.QUEUED else 1)
    enqueued_at = factory.LazyFunction(timezone.now)
    started_at = factory.LazyAttribute(
        lambda s: None if s.status == Status.QUEUED else s.enqueued_at)
    finished_at = factory.LazyAttribute(
        lambda s: s.started_at if s.status in (Status.SCORED, Status.FAILED) else None)

    @factory.post_generation
    def created_at(self, create: bool, extracted: object, **kwargs: object) -> None:
        if extracted is None:
            return
        if create:
            Submission.objects.filter(pk=self.pk).update(created_at=extracted)
        self.created_at = extracted


class ScoreFactory(factory.django.DjangoModelFactory):
    """The current score of a scored submission on its case study's active dataset (created
    if there is none): the case study's primary metric, public and private values with
    intervals of ``half_width`` around them (``public_half_width`` and
    ``private_half_width`` apart), ``metrics`` holding the primary metric per split (``all``
    their mean), latency well within the budget. A submission has one current score: pass
    ``is_current=False`` for an older one."""

    class Meta:
        model = "grading.Score"

    class Params:
        half_width = 0.01
        public_half_width = factory.SelfAttribute("half_width")
        private_half_width = factory.SelfAttribute("half_width")

    submission = factory.SubFactory(SubmissionFactory, scored=True)
    dataset = factory.LazyAttribute(lambda s: active_dataset(s.submission.case_study))
    scorer_version = SCORER_VERSION
    is_current = True
    primary_metric = factory.LazyAttribute(lambda s: s.submission.case_study.primary_metric)
    public_primary = 0.7
    private_primary = 0.68
    public_ci_low = factory.LazyAttribute(lambda s: s.public_primary - s.public_half_width)
    public_ci_high = factory.LazyAttribute(lambda s: s.public_primary + s.public_half_width)
    private_ci_low = factory.LazyAttribute(lambda s: s.private_primary - s.private_half_width)
    private_ci_high = factory.LazyAttribute(
        lambda s: s.private_primary + s.private_half_width)
    metrics = factory.LazyAttribute(lambda s: {
        "public": {s.primary_metric: s.public_primary},
        "private": {s.primary_metric: s.private_primary},
        "all": {s.primary_metric: (s.public_primary + s.private_primary) / 2},
    })
    per_slice = factory.LazyAttribute(lambda s: {"public": {"week 1": s.public_primary},
                                                 "all": {"week 1": s.private_primary}})
    plots = factory.LazyFunction(lambda: {"public": {}, "all": {}})
    latency_p50_ms = 2.5
    latency_p99_ms = 5.0
    latency_budget_ms = factory.LazyAttribute(lambda s: s.submission.case_study.latency_budget_ms)
    artifact_bytes = factory.SelfAttribute("submission.artifact_bytes")
    scoring_seconds = 0.5
    network_isolated = True


class LeaderboardFactory(factory.django.DjangoModelFactory):
    """A case study's leaderboard, open; ``closed=True`` for a closed round. A case study has
    one: ``grading.services.leaderboards.leaderboard_for`` gets or creates it."""

    class Meta:
        model = "grading.Leaderboard"

    class Params:
        closed = factory.Trait(is_closed=True, closed_at=factory.LazyFunction(timezone.now))

    case_study = factory.SubFactory(CaseStudyFactory)


class LeaderboardEntryFactory(factory.django.DjangoModelFactory):
    """A leaderboard row as ``leaderboard_entry_refresh`` leaves it, for tests that need many
    rows without scoring each: a new candidate's scored submission (``baseline=True`` for a
    baseline's), intervals of ``half_width``, sort values in the direction of the case
    study's primary metric. The generated secondary sort columns come from ``metrics``."""

    class Meta:
        model = "grading.LeaderboardEntry"

    class Params:
        half_width = 0.01
        case_study = factory.SelfAttribute("leaderboard.case_study")
        baseline = factory.Trait(
            candidate=None,
            submission=factory.SubFactory(SubmissionFactory, baseline=True, scored=True,
                                          case_study=factory.SelfAttribute("..case_study")))

    leaderboard = factory.SubFactory(LeaderboardFactory)
    candidate = factory.SubFactory(UserFactory)
    submission = factory.SubFactory(SubmissionFactory, scored=True,
                                    case_study=factory.SelfAttribute("..case_study"),
                                    candidate=factory.SelfAttribute("..candidate"))
    display_name = factory.LazyAttribute(
        lambda e: e.candidate.get_username() if e.candidate else e.submission.baseline_name)
    is_baseline = factory.LazyAttribute(lambda e: e.candidate is None)
    is_pinned = factory.SelfAttribute("submission.is_pinned")
    public_primary = 0.7
    public_ci_low = factory.LazyAttribute(lambda e: e.public_primary - e.half_width)
    public_ci_high = factory.LazyAttribute(lambda e: e.public_primary + e.half_width)
    private_primary = 0.68
    private_ci_low = factory.LazyAttribute(lambda e: e.private_primary - e.half_width)
    private_ci_high = factory.LazyAttribute(lambda e: e.private_primary + e.half_width)
    public_sort = factory.LazyAttribute(
        lambda e: sort_value(e.case_study.primary_metric, e.public_primary))
    private_sort = factory.LazyAttribute(
        lambda e: sort_value(e.case_study.primary_metric, e.private_primary))
    metrics = factory.LazyAttribute(lambda e: {
        "public": {e.case_study.primary_metric: e.public_primary},
        "private": {e.case_study.primary_metric: e.private_primary},
    })
    latency_p99_ms = 5.0
    latency_budget_ms = factory.LazyAttribute(lambda e: e.case_study.latency_budget_ms)
    artifact_bytes = factory.SelfAttribute("submission.artifact_bytes")
    submission_count = 1
    last_submitted_at = factory.LazyAttribute(
        lambda e: e.submission.created_at or timezone.now())
    scored_at = factory.LazyFunction(timezone.now)


class LeaderboardRecordFactory(factory.django.DjangoModelFactory):
    """A point of the best-score-over-time chart: a candidate's scored submission's public
    value when it was a new best."""

    class Meta:
        model = "grading.LeaderboardRecord"

    leaderboard = factory.SubFactory(LeaderboardFactory)
    submission = factory.SubFactory(
        SubmissionFactory, scored=True,
        case_study=factory.SelfAttribute("..leaderboard.case_study"))
    public_primary = 0.7
    achieved_at = factory.LazyFunction(timezone.now)
