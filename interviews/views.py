
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseStopPolling,
    reswap,
    retarget,
    trigger_client_event,
)

from interviews.answer_diff import compare_lines
from interviews.forms import AnswerSaveForm, FocusForm, QuestionForm
from interviews.models import InterviewSession
from interviews.scheduling import selectors as scheduling_selectors
from interviews.scorecards.selectors.feedback import (
    feedback_for_candidate,
    skill_profile_for_candidate,
)
from interviews.selectors import sessions as session_selectors
from interviews.selectors.catalogue import (
    case_study_get_published,
    case_study_list_published,
    case_study_public_questions,
    case_study_steps,
    rubric_current,
)
from interviews.selectors.sessions import (
    clarifying_question_for_session,
    session_active_for,
    session_get_for_candidate,
    session_list_for_candidate,
    session_question_panel,
    session_steps,
    session_workspace,
    sessions_running_for,
)
from interviews.services import sessions as session_services
from interviews.services.autosave import AnswerConflict, answer_save_for_candidate
from interviews.services.sessions import (
    ANSWER_TEXT_MAX_CHARS,
    SessionClosed,
    session_submit_if_due,
    session_submit_overdue,
)
from mlsd_site import roles
from mlsd_site.htmx import HtmxHttpRequest, login_required_htmx
from mlsd_site.ratelimit import rate_limited


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "interviews/home.html",
        {
            "case_studies": case_study_list_published(),
            "rubric": rubric_current(),
            "running": sessions_running_for(user=request.user),
            # Booked interviews (as candidate or interviewer) with their join buttons.
            "upcoming": (scheduling_selectors.upcoming_bookings(user=request.user)
                         if request.user.is_authenticated else []),
            "upcoming_time_zone": scheduling_selectors.time_zone_of(request.user),
        },
    )


@require_GET
def case_study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    case_study = case_study_get_published(slug=slug)
    rubric = rubric_current()
    return render(
        request,
        "interviews/case_study.html",
        {
            "case_study": case_study,
            "questions": case_study_public_questions(case_study=case_study),
            "rubric": rubric,
            "steps": case_study_steps(case_study=case_study, rubric=rubric),
            "active_session": session_active_for(user=request.user,
                                                           case_study=case_study),
            "may_start": roles.is_candidate(request.user),
        },
    )


# --- Interview sessions ---------------------------------------------------------------------


@require_POST
@login_required_htmx
def session_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    case_study = case_study_get_published(slug=slug)
    try:
        session, _ = session_services.session_start(candidate=request.user, case_study=case_study)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(case_study)
    if request.htmx:
        return HttpResponseClientRedirect(session.get_absolute_url())
    return redirect(session)


@require_GET
@login_required_htmx
def session_list(request: HttpRequest) -> HttpResponse:
    session_submit_overdue(candidate=request.user)
    return render(request, "interviews/session_list.html", {
        "sessions": session_list_for_candidate(user=request.user),
        "profile": skill_profile_for_candidate(user=request.user),
    })


@require_GET
@login_required_htmx
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_candidate(user=request.user, session_id=session_id)
    if hasattr(session, "live_room"):  # a live interview's page has the live parts
        return redirect(session.live_room.get_absolute_url())
    was_active = session.is_active
    session = session_submit_if_due(session=session)
    if session.is_submitted:
        if was_active:
            messages.info(request, "Time ran out: your answers were submitted at the deadline.")
        return redirect(session.get_review_url())
    workspace = session_workspace(session=session)
    return render(request, "interviews/session.html", {
        "session": session,
        "steps": workspace.steps,
        "panel": workspace.panel,
        "remaining_ms": workspace.remaining_ms,
        "grace_ms": settings.INTERVIEW_SAVE_GRACE_SECONDS * 1000,
    })


def _closed_response(request: HttpRequest, session: InterviewSession,
                     message: str) -> HttpResponse:
    """423 with the "interview ended" banner, swapped into the page's banner slot."""
    response = render(request, "interviews/session.html#session-closed",
                      {"session": session, "closed_message": message}, status=423)
    response = trigger_client_event(response, "session:closed", {"status": session.status})
    return reswap(retarget(response, "#session-banner"), "innerHTML")


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain")


@require_POST
@login_required_htmx
@rate_limited("autosave")
def answer_save(request: HtmxHttpRequest, session_id: int, step: int) -> HttpResponse:
    """Autosave of one step. 200: the step's "saved" state, nothing more (the preview has its
    own endpoint, so a keystroke save never renders Markdown); 409: the conflict panel with
    both texts; 423: the session has ended; 400: bad input; 404: not the user's session;
    429: too many saves (the page retries after ``Retry-After``)."""
    form = AnswerSaveForm(request.POST)
    if not form.is_valid():
        return _bad_request("Not saved: the request was incomplete.")
    data = form.cleaned_data
    try:
        result = answer_save_for_candidate(
            candidate=request.user, session_id=session_id, step_number=step,
            text=data["text"], diagram=data["diagram"], base_version=data["base_version"],
            active_step=data["active_step"],
        )
    except SessionClosed as closed:
        return _closed_response(request, closed.session, str(closed))
    except AnswerConflict as conflict:
        response = render(request, "interviews/session.html#answer-conflict", {
            "answer": conflict.answer,
            "yours_text": conflict.yours_text,
            "yours_diagram": conflict.yours_diagram,
            "text_diff": compare_lines(conflict.yours_text, conflict.answer.text),
            "diagram_diff": compare_lines(conflict.yours_diagram, conflict.answer.diagram),
        }, status=409)
        response["X-Answer-Version"] = str(conflict.answer.version)
        response = trigger_client_event(response, "session:clock",
                                        {"remaining_ms": conflict.remaining_ms})
        return reswap(retarget(response, f"#conflict-{step}"), "innerHTML")
    except ValidationError as error:
        return _bad_request("Not saved: " + " ".join(error.messages))
    # No request: the fragment uses no context processor.
    response = HttpResponse(render_to_string("interviews/session.html#save-state",
                                             {"answer": result.answer}))
    response["X-Answer-Version"] = str(result.answer.version)
    return trigger_client_event(response, "session:clock",
                                {"remaining_ms": result.remaining_ms})


@require_POST
@login_required_htmx
@rate_limited("preview")
def answer_preview(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """The Markdown preview of the text posted (what is in the editor, saved or not). The
    page asks for it when the candidate opens a step's Preview tab. Reads and writes
    nothing but the ownership check."""
    session_get_for_candidate(user=request.user, session_id=session_id)
    text = request.POST.get("text", "")
    if len(text) > ANSWER_TEXT_MAX_CHARS:
        return _bad_request("Too long to preview.")
    return render(request, "interviews/session.html#answer-preview", {"text": text})


@require_POST
@login_required_htmx
def session_focus(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """The page's heartbeat and "now working on step N" report; answers with the time per
    step so far and each answer's version (the ``session:versions`` event), and stops the
    polling once the session is over."""
    session = session_get_for_candidate(user=request.user, session_id=session_id)
    form = FocusForm(request.POST)
    if not form.is_valid():
        return _bad_request("No such step.")
    clock = session_services.session_focus(session=session, step=form.cleaned_data["step"])
    if clock.session.is_submitted:
        html = render_to_string("interviews/session.html#session-closed", {
            "session": clock.session,
            "closed_message": "This interview has ended; your answers are submitted.",
        }, request=request)
        response = HttpResponseStopPolling(html)
        response = trigger_client_event(response, "session:closed",
                                        {"status": clock.session.status})
        return reswap(retarget(response, "#session-banner"), "innerHTML")
    steps = session_steps(session=clock.session)
    response = render(request, "interviews/session.html#step-times",
                      {"session": clock.session, "steps": steps})
    response = trigger_client_event(response, "session:clock",
                                    {"remaining_ms": clock.remaining_ms})
    # Each answer's version, so that a tab learns another tab saved a step before it types.
    return trigger_client_event(response, "session:versions",
                                {str(step.number): step.answer.version for step in steps})


@require_POST
@login_required_htmx
@rate_limited("question")
def question_ask(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_candidate(user=request.user, session_id=session_id)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        return _bad_request(" ".join(form.errors.get("__all__", ["Type a question."])))
    question = None
    if form.cleaned_data["question"]:
        question = clarifying_question_for_session(
            session=session, question_id=form.cleaned_data["question"])
    try:
        session_services.question_ask(session=session, question=question,
                              text=form.cleaned_data["text"] or "")
    except SessionClosed as closed:
        return _closed_response(request, closed.session, str(closed))
    except ValidationError as error:
        return _bad_request(" ".join(error.messages))
    if not request.htmx:
        return redirect(session)
    return render(request, "interviews/session.html#questions",
                  {"session": session, "panel": session_question_panel(session=session)})


@require_POST
@login_required_htmx
def session_submit(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_candidate(user=request.user, session_id=session_id)
    session = session_services.session_submit(session=session)
    if request.htmx:
        return HttpResponseClientRedirect(session.get_review_url())
    return redirect(session.get_review_url())


@require_GET
@login_required_htmx
def session_review(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_get_for_candidate(user=request.user, session_id=session_id)
    session = session_submit_if_due(session=session)
    if session.is_active:
        return redirect(session)
    review = session_selectors.session_review(session=session)
    # Released feedback only: before release the selector returns None and nothing of the
    # grades reaches the template.
    feedback = feedback_for_candidate(session=session)
    return render(request, "interviews/session_review.html", {
        "session": session,
        "review": review,
        "feedback": feedback,
        "steps": [(step, feedback.step(step.number) if feedback else None)
                  for step in review.steps],
    })
