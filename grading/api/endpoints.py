"""The operations of the JSON API. Each is thin: it reads through the same permission-scoped
selectors as the pages, or calls the same service (``submission_create``: the same checks,
quota and sandbox), and shapes the answer; what a page refuses, the API refuses, with the
code of ``errors.py``."""

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, Form, NinjaAPI, Status, UploadedFile
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from grading.api.auth import TokenAuth, require_scope
from grading.api.errors import ApiError, refusal_reason, refusal_status
from grading.api.schemas import (
    CaseStudyOut,
    ContractOut,
    ErrorOut,
    LeaderboardOut,
    MeOut,
    SubmissionOut,
    SubmissionSummaryOut,
)
from grading.selectors.datasets import (
    TRAINING_FILES,
    dataset_active,
    dataset_active_or_404,
    model_contract,
    scoring_task_for,
)
from grading.selectors.leaderboards import (
    leaderboard_get_for_viewer,
    leaderboard_page,
    leaderboard_settings,
)
from grading.selectors.submissions import (
    quota_remaining,
    submission_current_score,
    submission_failure_help,
    submission_get_for_viewer,
    submission_queue_status,
    submission_view,
    submissions_for_candidate,
)
from grading.services.datasets import training_file_path
from grading.services.submissions import SubmissionRefused, submission_create
from grading.validator.build import validator_meta
from interviews.models import CaseStudy
from interviews.selectors.catalogue import case_study_get_published, case_study_list_published
from mlsd_site import roles
from mlsd_site.ratelimit import limit_hit, signed_in_user

api = NinjaAPI(
    title="mlsd-mock API",
    version="1",
    description=(
        "Case studies and their model contracts, training data, model submissions, scores "
        "and leaderboards, for notebooks, scripts and the `mlsd` command line. Every call "
        "carries a personal access token (`Authorization: Bearer mlsd_...`, made on the "
        "API tokens page) and acts as its user. Errors are `{\"code\", \"message\", "
        "\"reason\"}`."),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url=None,  # the documentation page is the site's own (grading.api.views)
)

ERRORS = {401: ErrorOut, 404: ErrorOut, 429: ErrorOut}


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    response = api.create_response(request, error.body(), status=error.status)
    for header, value in error.headers.items():
        response[header] = value
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    # Other people's objects and unknown ones answer alike: nothing says which it was.
    message = str(error) if error.args else "Not found."
    return api.create_response(request, {"code": "not_found", "message": message,
                                         "reason": None}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {
        "code": "token_missing",
        "message": "Send a personal access token: `Authorization: Bearer mlsd_...` "
                   "(make one on the API tokens page of your account).",
        "reason": None}, status=401)


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    fields = ", ".join(".".join(str(part) for part in item.get("loc", [])[1:]) or "request"
                       for item in error.errors)
    return api.create_response(request, {"code": "invalid_request",
                                         "message": f"Invalid or missing: {fields}.",
                                         "reason": None}, status=422)


def _absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def _case_study_out(request: HttpRequest, case_study: CaseStudy) -> dict:
    leaderboard = leaderboard_settings(case_study=case_study)
    remaining, quota = quota_remaining(user=request.user, case_study=case_study,
                                       leaderboard=leaderboard)
    return {
        "slug": case_study.slug,
        "title": case_study.title,
        "task_type": case_study.task_type,
        "primary_metric": case_study.primary_metric,
        "secondary_metrics": list(case_study.secondary_metrics),
        "latency_budget_ms": case_study.latency_budget_ms,
        "scoring_open": dataset_active(case_study=case_study) is not None,
        "round_closed": leaderboard.is_closed,
        "daily_quota": quota,
        "remaining_today": remaining if roles.is_candidate(request.user) else 0,
        "url": _absolute(request, case_study.get_absolute_url()),
    }


@api.get("/me", response={200: MeOut, **ERRORS}, url_name="me", tags=["account"])
def me(request: HttpRequest):
    """Who the token acts as, and what it may do."""
    token = request.auth
    return {"username": request.user.get_username(), "role": roles.role_name(request.user),
            "token_name": token.name, "scopes": token.scopes,
            "token_expires_at": token.expires_at}


@api.get("/case-studies", response={200: list[CaseStudyOut], **ERRORS},
         url_name="case_studies", tags=["case studies"])
def case_studies(request: HttpRequest):
    """The published case studies: metrics, latency budget, whether scoring is open, the
    round's state and the quota left today."""
    require_scope(request, "read")
    return [_case_study_out(request, case_study) for case_study in case_study_list_published()]


@api.get("/case-studies/{slug}", response={200: ContractOut, **ERRORS},
         url_name="case_study", tags=["case studies"])
def case_study(request: HttpRequest, slug: str):
    """A case study's model contract: the input columns, the training files, and what the
    validator checks a model against."""
    require_scope(request, "read")
    case = case_study_get_published(slug=slug)
    contract = model_contract(case_study=case)
    if contract is None:
        raise Http404("This case study has no model to train.")
    task = scoring_task_for(case)
    files = [{"name": name, "content_type": content_type,
              "url": _absolute(request, reverse("api:training_file",
                                                kwargs={"slug": slug, "name": name}))}
             for name, content_type in TRAINING_FILES.items()]
    return {
        **_case_study_out(request, case),
        "request_rows": task.request_rows,
        "max_upload_bytes": settings.MODEL_UPLOAD_MAX_BYTES,
        "columns": [{"name": column["name"], "dtype": str(column["dtype"]),
                     "description": column.get("description", ""),
                     "model_input": bool(column.get("model_input"))}
                    for column in contract.dictionary],
        "files": files,
        "validator": validator_meta(title=case.title, contract=task.contract,
                                    request_rows=task.request_rows,
                                    latency_budget_ms=task.latency_budget_ms),
    }


@api.get("/case-studies/{slug}/files/{name}", response={200: None, **ERRORS},
         url_name="training_file", tags=["case studies"])
def training_file(request: HttpRequest, slug: str, name: str):
    """A file of the training split (``train.parquet``, ``train.csv``,
    ``data_dictionary.json``, ``data_dictionary.md``). The held-out split has no URL."""
    require_scope(request, "read")
    if name not in TRAINING_FILES:
        raise Http404("No such file.")
    case = case_study_get_published(slug=slug)
    dataset = dataset_active_or_404(case_study=case)
    path = training_file_path(dataset=dataset, name=name)
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{case.slug}-{name}",
                        content_type=TRAINING_FILES[name])


@api.post("/case-studies/{slug}/submissions",
          response={201: SubmissionOut, 403: ErrorOut, 409: ErrorOut, 413: ErrorOut,
                    422: ErrorOut, **ERRORS},
          url_name="submission_create", tags=["submissions"])
def submission_upload(request: HttpRequest, slug: str, artifact: File[UploadedFile],
                      note: Form[str] = ""):
    """Upload a model and queue it for scoring, in one call (multipart: ``artifact``, and
    an optional ``note``). The same checks, quota and sandbox as the upload page; a file
    refused by the checks uses no quota. Refusals: 409 ``closed`` / ``quota`` / ``no_data``,
    413 ``too_large``, 422 with the check's code (``pickle``, ``input_mismatch``, ...) and
    ``reason`` ``invalid_artifact``; 403 ``insufficient_scope`` or ``not_a_candidate``.
    Needs the ``submit`` scope."""
    require_scope(request, "submit")
    case = case_study_get_published(slug=slug)
    if not roles.is_candidate(request.user):
        raise ApiError(403, "not_a_candidate", "Only candidates submit models.")
    # The upload page's own limit, counted for the same user: a script cannot go around it.
    wait = limit_hit(request, "upload", who=signed_in_user(request))
    if wait is not None:
        raise ApiError(429, "rate_limited",
                       f"Too many uploads: wait {wait} s and try again.",
                       headers={"Retry-After": str(wait)})
    if len(note) > 500:
        raise ApiError(422, "invalid_request", "The note is longer than 500 characters.")
    try:
        submission = submission_create(candidate=request.user, case_study=case,
                                       upload=artifact, note=note)
    except SubmissionRefused as refused:
        raise ApiError(refusal_status(refused.code), refused.code, refused.message,
                       reason=refusal_reason(refused.code)) from refused
    return Status(201, _submission_out(request, submission))


def _submission_out(request: HttpRequest, submission) -> dict:
    """A submission as its page shows it to this user (``submission_view``'s rules: the
    public part, rounded, while the round is open)."""
    score = submission_current_score(submission=submission)
    leaderboard = leaderboard_settings(case_study=submission.case_study)
    view = submission_view(submission=submission, score=score, leaderboard=leaderboard)
    queue = submission_queue_status(submission=submission)
    failure = submission_failure_help(submission=submission, viewer=request.user,
                                      leaderboard=leaderboard)
    scores = None
    if view is not None:
        scores = {
            "split": view.split,
            "decimals": view.decimals,
            "round_closed": leaderboard.is_closed,
            "metrics": [{"key": line.column.key, "label": line.column.label,
                         "direction": line.column.direction, "value": line.value,
                         "ci_low": line.ci[0] if line.ci else None,
                         "ci_high": line.ci[1] if line.ci else None,
                         "is_primary": line.is_primary} for line in view.lines],
            "per_slice": view.per_slice,
            "latency_p50_ms": score.latency_p50_ms,
            "latency_p99_ms": score.latency_p99_ms,
            "latency_budget_ms": score.latency_budget_ms,
            "latency_within_budget": view.latency_within_budget,
            "board_value": view.board.value if view.board else None,
            "board_from_this_submission": (view.board.from_this_submission if view.board
                                           else None),
        }
    return {
        "uuid": submission.uuid,
        "case_study": submission.case_study.slug,
        "status": submission.status,
        "original_filename": submission.original_filename,
        "note": submission.note,
        "artifact_format": submission.artifact_format,
        "created_at": submission.created_at,
        "finished_at": submission.finished_at,
        "queue": None if queue is None else {
            "position": queue.position, "running": queue.running, "workers": queue.workers,
            "estimated_wait_seconds": queue.estimated_wait_seconds},
        "failure": None if failure is None else {
            "reason": submission.failure_reason, "code": submission.failure_code,
            "message": submission.failure_message, "hint": failure.hint,
            "quota_charged": failure.quota_charged},
        "scores": scores,
        "url": _absolute(request, submission.get_absolute_url()),
    }


@api.get("/submissions", response={200: list[SubmissionSummaryOut], **ERRORS},
         url_name="submissions", tags=["submissions"])
def submissions(request: HttpRequest, case: str | None = None):
    """Your submissions, newest first (``?case=<slug>`` for one case study), each with its
    public primary metric rounded as on the upload page."""
    require_scope(request, "read")
    cases = ([case_study_get_published(slug=case)] if case
             else list(case_study_list_published()))
    rows = []
    for case_study in cases:
        decimals = leaderboard_settings(case_study=case_study).public_decimals
        for submission in submissions_for_candidate(user=request.user, case_study=case_study):
            rows.append({
                "uuid": submission.uuid, "case_study": case_study.slug,
                "status": submission.status,
                "original_filename": submission.original_filename, "note": submission.note,
                "created_at": submission.created_at,
                "public_primary": (None if submission.public_primary is None
                                   else round(submission.public_primary, decimals)),
                "is_pinned": submission.is_pinned,
                "url": _absolute(request, submission.get_absolute_url()),
            })
    rows.sort(key=lambda row: row["created_at"], reverse=True)
    return rows


@api.get("/submissions/{uuid:submission_uuid}", response={200: SubmissionOut, **ERRORS},
         url_name="submission", tags=["submissions"])
def submission(request: HttpRequest, submission_uuid: str):
    """A submission's status, queue position, failure (with its typed reason and code, and
    how to fix it) and scores: the public part, rounded, while the round is open, exactly
    as its page. Another candidate's submission is 404."""
    require_scope(request, "read")
    found = submission_get_for_viewer(user=request.user, submission_uuid=submission_uuid)
    return _submission_out(request, found)


@api.get("/case-studies/{slug}/leaderboard", response={200: LeaderboardOut, **ERRORS},
         url_name="leaderboard", tags=["leaderboards"])
def leaderboard(request: HttpRequest, slug: str, split: str | None = None, page: int = 1):
    """A page (50 rows) of the leaderboard: the public ranking (rounded, as the page) while
    the round is open; ``split=private`` (the default) once it is closed."""
    require_scope(request, "read")
    board = leaderboard_get_for_viewer(user=request.user, slug=slug)
    shown = leaderboard_page(leaderboard=board, user=request.user, split=split,
                             page_number=page)
    decimals = shown.decimals
    public = shown.split == "public"

    def rounded(value: float | None) -> float | None:
        return value if value is None or not public else round(value, decimals)

    rows = [{
        "rank": row.rank,
        "name": row.entry.display_name,
        "is_baseline": row.entry.is_baseline,
        "is_me": row.is_me,
        "value": rounded(row.value),
        "ci_low": rounded(row.ci_low),
        "ci_high": rounded(row.ci_high),
        "tied_with_above": row.tied_with_above,
        "rank_change": row.rank_change,
        "secondary": {column.key: rounded(value) for column, value in row.secondary_cells},
        "latency_p99_ms": row.entry.latency_p99_ms,
        "submission_count": row.entry.submission_count,
        "last_submitted_at": row.entry.last_submitted_at,
    } for row in shown.rows]
    return {
        "case_study": slug, "split": shown.split, "round_closed": board.is_closed,
        "primary_metric": shown.primary.key, "direction": shown.primary.direction,
        "decimals": decimals, "page": shown.page.number,
        "pages": shown.page.paginator.num_pages, "total_entries": shown.total_entries,
        "rows": rows,
    }
