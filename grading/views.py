from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from grading import selectors, services
from grading.validator import validator_zipapp
from interviews.selectors import case_study_get_published

TRAINING_FILES = {
    "train.csv": "text/csv",
    "train.parquet": "application/vnd.apache.parquet",
    "data_dictionary.json": "application/json",
    "data_dictionary.md": "text/markdown",
}


@login_required
@require_GET
def training_file(request: HttpRequest, slug: str, name: str) -> FileResponse:
    """A file of the training split. The held-out split has no URL at all."""
    if name not in TRAINING_FILES:
        raise Http404("No such file.")
    case_study = case_study_get_published(slug=slug)
    dataset = selectors.dataset_active_or_404(case_study=case_study)
    path = services.training_file_path(dataset=dataset, name=name)
    return FileResponse(path.open("rb"), as_attachment=True,
                        filename=f"{case_study.slug}-{name}",
                        content_type=TRAINING_FILES[name])


@login_required
@require_GET
def validator_download(request: HttpRequest, slug: str) -> HttpResponse:
    case_study = case_study_get_published(slug=slug)
    task = selectors.scoring_task_for(case_study)
    body = validator_zipapp(title=case_study.title, contract=task.contract,
                            request_rows=task.request_rows,
                            latency_budget_ms=task.latency_budget_ms)
    filename = selectors.validator_filename(case_study)
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
