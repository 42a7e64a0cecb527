"""Reads for the grading app."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models.functions import Now
from django.http import Http404
from django.utils import timezone

from grading import datasets
from grading.contract import InputContract
from grading.examples import training_example
from grading.models import Dataset, WorkerHeartbeat
from grading.scoring import ScoringTask
from interviews.models import CaseStudy

WORKER_ALIVE_WINDOW = timedelta(minutes=3)


def workers_alive() -> list[WorkerHeartbeat]:
    """Workers seen within the last few minutes (beat refreshes them every minute)."""
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=Now() - WORKER_ALIVE_WINDOW))


def worker_last_seen_seconds() -> float | None:
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return None
    return (timezone.now() - latest.seen_at).total_seconds()


def dataset_active(*, case_study: CaseStudy) -> Dataset | None:
    return Dataset.objects.filter(case_study=case_study, is_active=True).first()


def dataset_active_or_404(*, case_study: CaseStudy) -> Dataset:
    dataset = dataset_active(case_study=case_study)
    if dataset is None:
        raise Http404("The data for this case study is not built yet.")
    return dataset


def validator_filename(case_study: CaseStudy) -> str:
    return f"mlsd-validate-{case_study.slug}.pyz"


@dataclass(frozen=True)
class ModelContract:
    """What a candidate needs to build a model the scorer accepts."""

    dataset: Dataset | None
    spec: datasets.DatasetSpec
    dictionary: list[dict]
    example: str
    validator_filename: str


def model_contract(*, case_study: CaseStudy) -> ModelContract | None:
    """The case study's data contract, or None when it has no generator."""
    if case_study.slug not in datasets.CASE_SLUGS:
        return None
    spec = datasets.dataset_spec(case_study.slug)
    filename = validator_filename(case_study)
    return ModelContract(
        dataset=dataset_active(case_study=case_study),
        spec=spec,
        dictionary=datasets.data_dictionary(case_study.slug),
        example=training_example(spec, validator_name=filename),
        validator_filename=filename,
    )


def scoring_task_for(case_study: CaseStudy) -> ScoringTask:
    spec = datasets.dataset_spec(case_study.slug)
    return ScoringTask(
        contract=InputContract(
            columns=tuple((column.name, column.dtype) for column in spec.feature_columns),
            task_type=spec.task_type,
        ),
        primary_metric=case_study.primary_metric,
        secondary_metrics=tuple(case_study.secondary_metrics),
        latency_budget_ms=case_study.latency_budget_ms,
        request_rows=spec.request_rows,
    )
