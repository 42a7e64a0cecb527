from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from grading.engine.artifacts import mib_text
from grading.forms import SubmissionForm
from grading.selectors.datasets import (
    TRAINING_FILES,
    dataset_active,
    dataset_active_or_404,
    scoring_task_for,
    validator_filename,
)
from grading.selectors.leaderboard_page import leaderboard_shown
from grading.selectors.leaderboards import (
    leaderboard_get_for_viewer,
    leaderboard_settings,
    metric_column,
)
from grading.selectors.scenarios import submission_scenarios
from grading.selectors.serving import serving_view
from grading.selectors.standings import combined_standings
from grading.selectors.submissions import (
    quota_remaining,
    submission_current_score,
    submission_failure_help,
    submission_get_for_viewer,
    submission_queue_status,
    submission_view,
    submissions_for_candidate,
)
from grading.services import submissions as submission_services
from grading.services.datasets import training_file_path
from grading.services.submissions import (
    SubmissionRefused,
    submission_create,
    submission_unpin,
)
from grading.validator.build import validator_zipapp
from interviews.selectors.catalogue import case_study_get_published
from mlsd_site import roles
from mlsd_site.ratelimit import rate_limited


@login_required
@require_GET
def training_file(request: HttpRequest, slug: str, name: str) -> FileResponse:
    """A file of the training split. The held-out split has no URL at all."""
    if name not in TRAINING_FILES:
        raise Http404("No such file.")
    case_study = case_study_get_published(slug=slug)
    dataset = dataset_active_or_404(case_study=case_study)
    path = training_file_path(dataset=dataset, name=name)
    return FileResponse(path.open("rb"), as_attachment=True,
                        filename=f"{case_study.slug}-{name}",
                        content_type=TRAINING_FILES[name])


@login_required
@require_GET
def validator_download(request: HttpRequest, slug: str) -> HttpResponse:
    case_study = case_study_get_published(slug=slug)
    task = scoring_task_for(case_study)
    body = validator_zipapp(title=case_study.title, contract=task.contract,
                            request_rows=task.request_rows,
                            latency_budget_ms=task.latency_budget_ms)
    filename = validator_filename(case_study)
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
@rate_limited("upload")
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    """The upload page: the form, today's quota, and the candidate's submissions."""
    case_study = case_study_get_published(slug=slug)
    if not roles.is_candidate(request.user):
        raise Http404("Only candidates submit models.")
    form = (SubmissionForm(request.POST, request.FILES) if request.method == "POST"
            else SubmissionForm())
    error = None
    if request.method == "POST":
        if form.is_valid():
            try:
                submission = submission_create(
                    candidate=request.user, case_study=case_study,
                    upload=form.cleaned_data["artifact"], note=form.cleaned_data["note"])
            except SubmissionRefused as refused:
                error = refused.message
            else:
                if request.htmx:
                    return HttpResponseClientRedirect(submission.get_absolute_url())
                return redirect(submission.get_absolute_url())
        else:
            error = " ".join(e for errors in form.errors.values() for e in errors)
    status = 422 if error else 200
    if request.htmx and request.method == "POST":
        # Only the message: the form stays, with the file the candidate chose still in it
        # (a browser cannot put a file back into a re-rendered input).
        return render(request, "grading/submit.html#upload-error", {"error": error},
                      status=status)
    leaderboard = leaderboard_settings(case_study=case_study)
    remaining, quota = quota_remaining(user=request.user, case_study=case_study,
                                                 leaderboard=leaderboard)
    context = {
        "case_study": case_study,
        "form": form,
        "error": error or "",
        "choose_again": error is not None,  # a full page: the browser has cleared the file
        "remaining": remaining,
        "quota": quota,
        "max_bytes": settings.MODEL_UPLOAD_MAX_BYTES,
        "max_size": mib_text(settings.MODEL_UPLOAD_MAX_BYTES),
        "leaderboard": leaderboard,
        "dataset": dataset_active(case_study=case_study),
        "submissions": submissions_for_candidate(user=request.user,
                                                           case_study=case_study),
    }
    return render(request, "grading/submit.html", context, status=status)


def _submission_context(request: HttpRequest, submission) -> dict:
    score = submission_current_score(submission=submission)
    leaderboard = leaderboard_settings(case_study=submission.case_study)
    return {
        "submission": submission,
        "case_study": submission.case_study,
        "score": score,
        "view": submission_view(submission=submission, score=score,
                                          leaderboard=leaderboard),
        "scenarios": submission_scenarios(score=score, leaderboard=leaderboard),
        "serving": serving_view(score=score),
        "queue": submission_queue_status(submission=submission),
        "failure": submission_failure_help(submission=submission, viewer=request.user,
                                           leaderboard=leaderboard),
        "is_owner": submission.candidate_id == request.user.pk,
    }


@login_required
@require_GET
def submission_detail(request: HttpRequest, submission_uuid: str) -> HttpResponse:
    submission = submission_get_for_viewer(user=request.user,
                                                     submission_uuid=submission_uuid)
    return render(request, "grading/submission.html", _submission_context(request, submission))


@login_required
@require_GET
def submission_status(request: HttpRequest, submission_uuid: str) -> HttpResponse:
    """The live status fragment, polled by htmx; 286 stops the polling at a final state."""
    submission = submission_get_for_viewer(user=request.user,
                                                     submission_uuid=submission_uuid)
    context = _submission_context(request, submission)
    response = render(request, "grading/submission.html#submission-body", context)
    if submission.is_final:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@login_required
@require_POST
def submission_pin(request: HttpRequest, submission_uuid: str) -> HttpResponse:
    submission = submission_get_for_viewer(user=request.user,
                                                     submission_uuid=submission_uuid)
    if submission.candidate_id != request.user.pk:
        raise Http404("No such submission.")
    if request.POST.get("action") == "unpin":
        submission_unpin(candidate=request.user, case_study=submission.case_study)
    else:
        try:
            submission_services.submission_pin(submission=submission)
        except SubmissionRefused as refused:
            return HttpResponse(refused.message, status=409)
    return redirect(submission.get_absolute_url())


@require_GET
def leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The ranking: the private one first once the round is closed (``?split=`` picks).
    Drawn once per change of the board and kept (``leaderboard_shown``)."""
    try:
        board = leaderboard_get_for_viewer(user=request.user, slug=slug)
    except PermissionDenied as refused:
        # A bare log-in form would not say why: the message does, on the log-in page.
        messages.info(request, str(refused))
        return redirect_to_login(request.get_full_path())
    fragment = bool(request.htmx and not request.htmx.boosted)
    shown = leaderboard_shown(
        leaderboard=board, user=request.user, split=request.GET.get("split"),
        sort=request.GET.get("sort", "primary"), worst_first=request.GET.get("order") == "worst",
        page_number=request.GET.get("page", 1), charts=not fragment)
    if fragment:
        return render(request, "grading/leaderboard.html#leaderboard-table", {"board": shown})
    return render(request, "grading/leaderboard.html", {
        "board": shown, "case_study": board.case_study,
        "history_chart": shown.history_chart, "pareto_chart": shown.pareto_chart})


@login_required
@require_GET
def standings(request: HttpRequest, slug: str) -> HttpResponse:
    """Model rank beside interview verdict, for interviewers and admins only: verdicts are
    other candidates' feedback."""
    if not roles.is_interviewer(request.user):
        raise Http404("No such page.")
    case_study = case_study_get_published(slug=slug)
    split, rows = combined_standings(case_study=case_study)
    return render(request, "grading/standings.html",
                  {"case_study": case_study, "split": split, "rows": rows,
                   "primary": metric_column(case_study.primary_metric),
                   "decimals": leaderboard_settings(case_study=case_study).public_decimals})
