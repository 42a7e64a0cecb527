"""Reads for datasets and the model contract: the active dataset, what a case-study page
shows about the model's inputs, and the scoring task and sandbox limits for a case study."""

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404

from grading import datasets
from grading.engine.artifacts import ArtifactLimits
from grading.engine.contract import InputContract
from grading.engine.sandbox import Isolation, SandboxLimits
from grading.engine.scoring import ScoringTask
from grading.models import (
    Dataset,
)
from grading.validator.examples import training_example
from interviews.models import CaseStudy


def dataset_active(*, case_study: CaseStudy) -> Dataset | None:
    return Dataset.objects.filter(case_study=case_study, is_active=True).first()


def dataset_active_or_404(*, case_study: CaseStudy) -> Dataset:
    dataset = dataset_active(case_study=case_study)
    if dataset is None:
        raise Http404("The data for this case study is not built yet.")
    return dataset


def validator_filename(case_study: CaseStudy) -> str:
    return f"mlsd-validate-{case_study.slug}.pyz"


# The training split's downloadable files and their content types (the page and the API);
# the held-out split has no URL at all.
TRAINING_FILES = {
    "train.csv": "text/csv",
    "train.parquet": "application/vnd.apache.parquet",
    "data_dictionary.json": "application/json",
    "data_dictionary.md": "text/markdown",
}


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
        target_rate_rps=case_study.target_rate_rps,
        case_slug=case_study.slug,
        price_per_core_hour_usd=settings.GRADING_PRICE_PER_CORE_HOUR_USD,
    )


def sandbox_limits(*, request_rows: int = SandboxLimits.request_rows) -> SandboxLimits:
    """The sandbox limits and isolation policy from settings: bubblewrap required, unless
    the development-only SANDBOX_ALLOW_WEAK_ISOLATION allows scoring without it."""
    return SandboxLimits(
        memory_bytes=settings.SANDBOX_MEMORY_MB * 1024 * 1024,
        cpu_seconds=settings.SANDBOX_CPU_SECONDS,
        wall_clock_seconds=settings.SANDBOX_WALL_SECONDS,
        request_rows=request_rows,
        artifact=ArtifactLimits(max_file_bytes=settings.MODEL_UPLOAD_MAX_BYTES),
        isolation=(Isolation.ALLOW_WEAK if settings.SANDBOX_ALLOW_WEAK_ISOLATION
                   else Isolation.REQUIRED),
        bwrap_path=settings.SANDBOX_BWRAP_PATH,
        warm=settings.SANDBOX_WARM,
    )


def sandbox_limits_for(task: ScoringTask) -> SandboxLimits:
    """The sandbox limits from settings, with the case study's request size for latency."""
    return sandbox_limits(request_rows=task.request_rows)
