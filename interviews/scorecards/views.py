"""Views for scorecards: the queue, the scorecard page and its htmx endpoints, replay
and calibration. Every session is fetched through ``session_get_for_scorecard`` (or, for an
admin's changes to its graders, ``session_get_for_admin``) and every grade through
``grade_get_for_grader``, so candidates and non-graders get a 404; the queue and the
calibration page go through ``require_interviewer`` (403 for logged-in users who are not
interviewers). No view checks a role itself: the getters and the services do, by
``interviews.scorecards.policy``."""

from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from interviews.live.selectors import live_rooms_for_queue
from interviews.models import Answer, CaseStudy, Grade, InterviewSession
from interviews.scorecards import services
from interviews.scorecards.forms import AssignForm, EvidenceForm, GradeForm, GradersRequiredForm
from interviews.scorecards.selectors.access import (
    grade_get_for_grader,
    interviewers_for_assignment,
    require_interviewer,
    session_get_for_admin,
    session_get_for_scorecard,
)
from interviews.scorecards.selectors.calibration import calibration_report
from interviews.scorecards.selectors.queue import QUEUE_STATES, scorecard_queue
from interviews.scorecards.selectors.replay import session_replay_frame, session_replay_timeline
from interviews.scorecards.selectors.workspace import evidence_for_step, scorecard_workspace
from interviews.selectors.sessions import session_review
from mlsd_site.htmx import HtmxHttpRequest, login_required_htmx

SESSION_TEMPLATE = "interviews/scorecards/session.html"


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to the page the form came from (``next``), if it is ours."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = fallback
    return redirect(target)


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


def _change(request: HttpRequest, change: Callable[[], object], *, done: str, fallback: str,
            level: int = messages.SUCCESS) -> HttpResponse:
    """Run ``change`` (a service call); say ``done``, or the service's refusal, and go back
    to the page the form came from (``fallback`` if none)."""
    try:
        change()
    except (services.ScorecardRefused, ValidationError) as refused:
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
    else:
        messages.add_message(request, level, done)
    return _back(request, fallback)


# --- the queue --------------------------------------------------------------------------------


@require_GET
@login_required_htmx
def queue(request: HttpRequest) -> HttpResponse:
    require_interviewer(user=request.user)
    queue = scorecard_queue(
        user=request.user, state=request.GET.get("state", "unclaimed"),
        case_slug=request.GET.get("case", ""), page_number=request.GET.get("page", 1))
    return render(request, "interviews/scorecards/queue.html",
                  {"queue": queue, "states": QUEUE_STATES,
                   "live": live_rooms_for_queue(user=request.user)})


@require_POST
@login_required_htmx
def claim(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_scorecard(user=request.user, session_id=session_id)
    try:
        _, created = services.grade_claim(session=session, grader=request.user)
    except services.ScorecardRefused as refused:
        messages.error(request, str(refused))
        return _back(request, reverse("scorecards:queue"))
    if created:
        messages.success(request, "You grade this session now. Your draft saves as you go.")
    return redirect(session.get_scorecard_url())


@require_POST
@login_required_htmx
def unclaim(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_scorecard(user=request.user, session_id=session_id)
    grade = grade_get_for_grader(user=request.user, session_id=session.pk)
    try:
        services.grade_unclaim(session=session, grader=grade.grader)
    except services.ScorecardRefused as refused:
        messages.error(request, str(refused))
        return redirect(session.get_scorecard_url())
    messages.info(request, "You gave the session back; your draft was discarded.")
    return _back(request, reverse("scorecards:queue"))


@require_POST
@login_required_htmx
def assign(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_admin(user=request.user, session_id=session_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _text("Pick an interviewer.", 400)
    grader = next((user for user in interviewers_for_assignment()
                   if user.pk == form.cleaned_data["grader"]), None)
    if grader is None:
        return _text("No such interviewer.", 400)
    return _change(request, partial(services.grade_assign, session=session, grader=grader,
                                    assigned_by=request.user),
                   done=f"{grader.get_username()} grades session {session.pk}.",
                   fallback=reverse("scorecards:queue"))


@require_POST
@login_required_htmx
def unassign(request: HttpRequest, session_id: int, grader_id: int) -> HttpResponse:
    session = session_get_for_admin(user=request.user, session_id=session_id)
    grade = get_object_or_404(Grade.objects.select_related("grader"), session=session,
                              grader_id=grader_id)
    return _change(request, partial(services.grade_unassign, session=session,
                                    grader=grade.grader, by=request.user),
                   done=f"{grade.grader.get_username()} no longer grades session "
                        f"{session.pk}; their draft was discarded.",
                   fallback=reverse("scorecards:queue"), level=messages.INFO)


@require_POST
@login_required_htmx
def graders_required(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_admin(user=request.user, session_id=session_id)
    form = GradersRequiredForm(request.POST)
    if not form.is_valid():
        return _text("A session needs 1 to 3 graders.", 400)
    count = form.cleaned_data["count"]
    return _change(request, partial(services.session_set_graders_required, session=session,
                                    count=count, by=request.user),
                   done=f"Session {session.pk} needs {count} grader{'s' if count > 1 else ''}.",
                   fallback=reverse("scorecards:queue"))


@require_POST
@login_required_htmx
def release(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_scorecard(user=request.user, session_id=session_id)
    return _change(request, partial(services.session_release_feedback, session=session,
                                    by=request.user),
                   done="Feedback released: the candidate sees it now.",
                   fallback=session.get_scorecard_url())


# --- the scorecard page -------------------------------------------------------------------------


def _workspace_context(request: HttpRequest, session: InterviewSession) -> dict:
    workspace = scorecard_workspace(session=session, user=request.user)
    return {
        "session": session,
        "ws": workspace,
        "grade": workspace.my_grade,
        "suggestion": workspace.suggestion,
        "red_flag_choices": Grade.RedFlag.choices,
        "verdict_choices": Grade.Verdict.choices,
        "editable": workspace.editable,
    }


@require_GET
@login_required_htmx
def scorecard_page(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_scorecard(user=request.user, session_id=session_id)
    return render(request, SESSION_TEMPLATE, _workspace_context(request, session))


def _saved_response(request: HttpRequest, grade: Grade) -> HttpResponse:
    response = render(request, f"{SESSION_TEMPLATE}#grade-saved", {
        "grade": grade, "suggestion": services.grade_suggestion(grade=grade),
        "editable": True,
    })
    response["X-Grade-Revision"] = str(grade.revision)
    return response


def _conflict_response(request: HttpRequest, conflict: services.GradeConflict
                       ) -> HttpResponse:
    response = render(request, f"{SESSION_TEMPLATE}#grade-conflict",
                      {"grade": conflict.grade}, status=409)
    response["X-Grade-Revision"] = str(conflict.grade.revision)
    return reswap(retarget(response, "#grade-banner"), "innerHTML")


def _locked_response(request: HttpRequest, grade: Grade) -> HttpResponse:
    response = render(request, f"{SESSION_TEMPLATE}#grade-locked", {"grade": grade},
                      status=423)
    return reswap(retarget(response, "#grade-banner"), "innerHTML")


@require_POST
@login_required_htmx
def grade_save(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """Autosave of the grader's draft. 200: the "saved" state and, out of band, the live
    suggestion; 409: another tab saved first; 423: already submitted; 400: bad input."""
    grade = grade_get_for_grader(user=request.user, session_id=session_id)
    form = GradeForm(request.POST)
    if not form.is_valid():
        return _text("Not saved: the request was incomplete.", 400)
    try:
        grade = services.grade_save_draft(grade=grade,
                                          base_revision=form.cleaned_data["revision"],
                                          data=form.grade_input())
    except services.GradeConflict as conflict:
        return _conflict_response(request, conflict)
    except services.GradeLocked:
        return _locked_response(request, grade)
    except ValidationError as error:
        return _text("Not saved: " + " ".join(error.messages), 400)
    if not request.htmx:
        messages.success(request, "Draft saved.")
        return redirect(grade.session.get_scorecard_url())
    return _saved_response(request, grade)


@require_POST
@login_required_htmx
def grade_submit(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """Save and submit the grade. htmx: a client redirect to the (now read-only) page, or
    422 with what is missing; without htmx: a redirect with a message."""
    grade = grade_get_for_grader(user=request.user, session_id=session_id)
    form = GradeForm(request.POST)
    if not form.is_valid():
        return _text("Not submitted: the request was incomplete.", 400)
    try:
        grade = services.grade_submit(grade=grade, base_revision=form.cleaned_data["revision"],
                                      data=form.grade_input())
    except services.GradeConflict as conflict:
        return _conflict_response(request, conflict)
    except services.GradeLocked:
        return _locked_response(request, grade)
    except ValidationError as error:
        if request.htmx:
            response = render(request, f"{SESSION_TEMPLATE}#submit-errors",
                              {"errors": error.messages}, status=422)
            return reswap(retarget(response, "#submit-errors"), "outerHTML")
        for message in error.messages:
            messages.error(request, message)
        return redirect(grade.session.get_scorecard_url())
    messages.success(request, f"Grade submitted: {grade.verdict_label}.")
    if request.htmx:
        return HttpResponseClientRedirect(grade.session.get_scorecard_url())
    return redirect(grade.session.get_scorecard_url())


def _evidence_response(request: HttpRequest, grade: Grade, step_number: int,
                       status: int = 200, error: str = "") -> HttpResponse:
    """The step's evidence list and, out of band, its answer with the quotes marked."""
    return render(request, f"{SESSION_TEMPLATE}#evidence-response", {
        "grade": grade, "number": step_number, "editable": True, "evidence_error": error,
        "quotes": evidence_for_step(grade=grade, step_number=step_number),
        "answer": Answer.objects.filter(session_id=grade.session_id,
                                        step_number=step_number).first(),
    }, status=status)


@require_POST
@login_required_htmx
def grade_evidence_add(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """Attach a quote selected in an answer to that step's score; answers with the step's
    evidence list (422 with the reason when the quote is refused)."""
    grade = grade_get_for_grader(user=request.user, session_id=session_id)
    form = EvidenceForm(request.POST)
    if not form.is_valid():
        return _text("Select some text in the answer to quote it.", 400)
    step = form.cleaned_data["step"]
    try:
        services.evidence_add(grade=grade, step_number=step, text=form.cleaned_data["quote"])
    except services.GradeLocked:
        return _locked_response(request, grade)
    except ValidationError as error:
        return _evidence_response(request, grade, step, status=422,
                                  error=" ".join(error.messages))
    if not request.htmx:
        return redirect(grade.session.get_scorecard_url() + f"#step-{step}")
    return _evidence_response(request, grade, step)


@require_POST
@login_required_htmx
def grade_evidence_remove(request: HtmxHttpRequest, session_id: int,
                          quote_id: int) -> HttpResponse:
    grade = grade_get_for_grader(user=request.user, session_id=session_id)
    quote = get_object_or_404(grade.evidence, pk=quote_id)
    try:
        services.evidence_remove(grade=grade, quote_id=quote.pk)
    except services.GradeLocked:
        return _locked_response(request, grade)
    if not request.htmx:
        return redirect(grade.session.get_scorecard_url() + f"#step-{quote.step_number}")
    return _evidence_response(request, grade, quote.step_number)


# --- replay and calibration -------------------------------------------------------------------


@require_GET
@login_required_htmx
def replay(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """The session on a timeline. ``?at=<ms since start>``; htmx gets just the frame."""
    session = session_get_for_scorecard(user=request.user, session_id=session_id)
    timeline = session_replay_timeline(session=session)
    try:
        at_ms = int(request.GET.get("at", timeline.end_ms))
    except ValueError:
        at_ms = timeline.end_ms
    at_ms = min(max(at_ms, 0), timeline.end_ms)
    frame = session_replay_frame(session=session, at_ms=at_ms,
                                 live_events=timeline.live_events)
    context = {"session": session, "timeline": timeline, "frame": frame}
    if request.htmx:
        return render(request, "interviews/scorecards/replay.html#replay-frame", context)
    context["review"] = session_review(session=session)
    return render(request, "interviews/scorecards/replay.html", context)


@require_GET
@login_required_htmx
def calibration(request: HttpRequest) -> HttpResponse:
    require_interviewer(user=request.user)
    slug = request.GET.get("case", "")
    case_study = CaseStudy.objects.filter(slug=slug).first() if slug else None
    report = calibration_report(case_study=case_study)
    return render(request, "interviews/scorecards/calibration.html", {"report": report})


# --- the old addresses ------------------------------------------------------------------------


class HttpResponsePermanentRedirectKeepMethod(HttpResponsePermanentRedirect):
    """308: a permanent redirect that browsers follow with the same method and body."""

    status_code = 308


def legacy_redirect(request: HttpRequest, rest: str) -> HttpResponse:
    """``/grading/<rest>`` (the scorecard pages' old home) moved to ``/scorecards/<rest>``
    for good: 301 for reads, 308 for writes so a form posted from a page open since before
    the move still reaches its view (which checks who may use it)."""
    target = f"/scorecards/{rest}"
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    if request.method in ("GET", "HEAD"):
        return HttpResponsePermanentRedirect(target)
    return HttpResponsePermanentRedirectKeepMethod(target)
