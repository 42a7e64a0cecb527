"""Views for live interviews, under ``/live/``. Every room is fetched through
``room_get_for_member`` (its candidate and its interviewer; a ``role`` where only one of them
may: anyone else gets a 404), a room in the queue through
``room_get_waiting_for_interviewers``. The services check the rules again under the room's
lock (``interviews.live.policy``).

Actions answer an htmx request with 204 (what they did reaches both pages through the event
log and its push), a plain form post with a redirect back; a refusal is 409 with its reason
as text, bad input 400, a session whose time is up 423."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from interviews.live import policy, selectors, services
from interviews.live.forms import (
    AnswerForm,
    AssignForm,
    FollowUpAnswerForm,
    FollowUpForm,
    PresenceForm,
    RequirementChangeForm,
    TextForm,
)
from interviews.live.models import FollowUp, LiveRoom
from interviews.live.services import FollowUpConflict, LiveRefused
from interviews.selectors.catalogue import case_study_get_published
from interviews.selectors.sessions import session_get_for_candidate, session_workspace
from interviews.services.sessions import SessionClosed, session_submit_if_due
from mlsd_site import roles
from mlsd_site.htmx import HtmxHttpRequest, login_required_htmx
from mlsd_site.ratelimit import rate_limited

CANDIDATE, INTERVIEWER = policy.CANDIDATE, policy.INTERVIEWER


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


def _form_error(form) -> HttpResponse:
    errors = [str(error) for errors in form.errors.values() for error in errors]
    return _text(" ".join(errors) or "Check what you typed.", 400)


def _act(request: HtmxHttpRequest, room: LiveRoom, action: Callable[[], object]
         ) -> HttpResponse:
    """Run ``action`` (a service call) and answer as the module's docstring says."""
    try:
        action()
    except LiveRefused as refused:
        return _text(str(refused), 409)
    except SessionClosed as closed:
        return _text(str(closed), 423)
    except ValidationError as error:
        return _text(" ".join(error.messages), 400)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(_page_of(room))


def _page_of(room: LiveRoom) -> str:
    if getattr(room, "viewer_role", None) == INTERVIEWER:
        return reverse("live:console", kwargs={"room_id": room.pk})
    return room.get_absolute_url()


def _feed_urls(room: LiveRoom) -> dict[str, str]:
    return {"socket_url": f"/ws/live/{room.pk}/",
            "events_url": reverse("live:events", kwargs={"room_id": room.pk})}


# --- opening, inviting, joining ---------------------------------------------------------------


@require_POST
@login_required_htmx
def room_open(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    case_study = case_study_get_published(slug=slug)
    try:
        room, _ = services.room_open(candidate=request.user, case_study=case_study)
    except LiveRefused as refused:
        messages.error(request, str(refused))
        return redirect(case_study)
    if request.htmx:
        return HttpResponseClientRedirect(room.get_absolute_url())
    return redirect(room)


@require_GET
@login_required_htmx
def room_page(request: HttpRequest, room_id: int) -> HttpResponse:
    """The candidate's page: the waiting room, then the interview itself (the session page
    with the live parts), then the review. The interviewer is sent to the console."""
    room = selectors.room_get_for_member(user=request.user, room_id=room_id)
    if room.viewer_role == INTERVIEWER:
        return redirect("live:console", room_id=room.pk)
    if room.state == LiveRoom.State.RUNNING:
        session = session_submit_if_due(
            session=session_get_for_candidate(user=request.user, session_id=room.session_id))
        if session.is_active:
            services.room_presence(room=room, user=request.user, present=True)
            return _interview_page(request, room, session)
        room.refresh_from_db()
    if room.state == LiveRoom.State.ENDED and room.session_id is not None:
        return redirect(room.session.get_review_url())
    if room.state == LiveRoom.State.WAITING:
        services.room_presence(room=room, user=request.user, present=True)
    return _waiting_page(request, room)


def _waiting_page(request: HttpRequest, room: LiveRoom, *, invite_link: str = "",
                  status: int = 200) -> HttpResponse:
    return render(request, "interviews/live/room.html", {
        "room": room, "presence": selectors.room_presence(room), "invite_link": invite_link,
        "last_seq": room.last_seq, **_feed_urls(room),
    }, status=status)


def _interview_page(request: HttpRequest, room: LiveRoom, session) -> HttpResponse:
    """The session page (``templates/interviews/session.html`` and ``session.js``, saves
    exactly as a solo session's) with the live parts switched on by ``live``."""
    workspace = session_workspace(session=session)
    return render(request, "interviews/session.html", {
        "session": session,
        "steps": workspace.steps,
        "panel": workspace.panel,
        "remaining_ms": workspace.remaining_ms,
        "grace_ms": settings.INTERVIEW_SAVE_GRACE_SECONDS * 1000,
        "live": {"room": room, "follow_ups": selectors.room_follow_ups(room),
                 **_feed_urls(room)},
    })


@require_POST
@login_required_htmx
def invite_create(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    """A fresh single-use link, shown in the answer and never again."""
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=CANDIDATE)
    try:
        new = services.invite_create(room=room, candidate=request.user)
    except LiveRefused as refused:
        return _text(str(refused), 409)
    link = request.build_absolute_uri(reverse("live:join", kwargs={"token": new.token}))
    if request.htmx:
        return render(request, "interviews/live/room.html#invite",
                      {"room": room, "invite_link": link})
    return _waiting_page(request, room, invite_link=link)


@login_required_htmx
def join(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what the link is for and a Join button (a link preview or a mail scanner that
    fetches the link must not use it up); POST: join, once."""
    invite = selectors.invite_for_token(token=token)
    if request.method == "POST":
        try:
            room = services.invite_redeem(token=token, user=request.user)
        except PermissionDenied as denied:
            return render(request, "interviews/live/join.html",
                          {"invite": invite, "refusal": str(denied)}, status=403)
        except LiveRefused as refused:
            return render(request, "interviews/live/join.html",
                          {"invite": invite, "refusal": str(refused)}, status=409)
        return redirect("live:console", room_id=room.pk)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    status = 200 if roles.is_interviewer(request.user) else 403
    refusal = "" if status == 200 else "Only a signed-in interviewer can join with this link."
    return render(request, "interviews/live/join.html",
                  {"invite": invite, "refusal": refusal}, status=status)


@require_POST
@login_required_htmx
def claim(request: HttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_waiting_for_interviewers(user=request.user, room_id=room_id)
    try:
        services.room_claim(room_id=room.pk, interviewer=request.user)
    except LiveRefused as refused:
        messages.error(request, str(refused))
        return redirect("scorecards:queue")
    return redirect("live:console", room_id=room.pk)


@require_POST
@login_required_htmx
def assign(request: HttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_waiting_for_interviewers(user=request.user, room_id=room_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    person = get_user_model().objects.filter(pk=form.cleaned_data["interviewer"]).first()
    if person is None:
        return _text("Pick an interviewer.", 400)
    try:
        services.room_assign(room_id=room.pk, admin=request.user, interviewer=person)
    except LiveRefused as refused:
        messages.error(request, str(refused))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{person.get_username()} interviews this candidate.")
    return redirect("scorecards:queue")


@require_POST
@login_required_htmx
def presence(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    """The page opened (present=1) or is going away (present=0, sent as a beacon)."""
    room = selectors.room_get_for_member(user=request.user, room_id=room_id)
    form = PresenceForm(request.POST)
    form.is_valid()
    services.room_presence(room=room, user=request.user,
                           present=form.cleaned_data.get("present", False))
    return HttpResponse(status=204)


# --- the console --------------------------------------------------------------------------------


@require_GET
@login_required_htmx
def console(request: HttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    if room.state == LiveRoom.State.RUNNING and room.session_id is not None:
        session_submit_if_due(session=room.session)
        room.refresh_from_db()
    services.room_presence(room=room, user=request.user, present=True)
    return render(request, "interviews/live/console.html", {
        "room": room, "console": selectors.room_console(room=room), **_feed_urls(room),
        "answers_url": reverse("live:answers", kwargs={"room_id": room.pk}),
    })


@require_POST
@login_required_htmx
def start(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    return _act(request, room, lambda: services.room_start(room=room, interviewer=request.user))


@require_POST
@login_required_htmx
def end(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id)
    response = _act(request, room, lambda: services.room_end(room=room, user=request.user))
    if response.status_code < 400 and room.viewer_role == CANDIDATE:
        # The candidate gave up waiting: back to the case study.
        target = room.case_study.get_absolute_url()
        return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    return response


# --- in the room --------------------------------------------------------------------------------


@require_POST
@login_required_htmx
@rate_limited("question")
def question(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=CANDIDATE)
    form = TextForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    return _act(request, room, lambda: services.question_post(
        room=room, candidate=request.user, text=data["text"], step_number=data["step"]))


@require_POST
@login_required_htmx
def answer(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    return _act(request, room, lambda: services.answer_post(
        room=room, interviewer=request.user, question_seq=data["question_seq"],
        text=data["text"]))


@require_POST
@login_required_htmx
def follow_up(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    return _act(request, room, lambda: services.follow_up_post(
        room=room, interviewer=request.user, step_number=data["step"], text=data["text"]))


@require_POST
@login_required_htmx
@rate_limited("autosave")
def follow_up_save(request: HtmxHttpRequest, room_id: int, follow_up_id: int) -> HttpResponse:
    """Autosave of a follow-up's answer, as an answer's: 200 the "saved" state with
    ``X-Answer-Version``; 409 saved from another tab; 423 the interview has ended."""
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=CANDIDATE)
    form = FollowUpAnswerForm(request.POST)
    if not form.is_valid():
        return _text("Not saved: the request was incomplete.", 400)
    data = form.cleaned_data
    try:
        saved = services.follow_up_answer_save(
            candidate=request.user, room=room, follow_up_id=follow_up_id,
            text=data["text"], base_version=data["base_version"])
    except FollowUp.DoesNotExist:
        return _text("No such follow-up.", 404)
    except FollowUpConflict as conflict:
        response = HttpResponse(render_to_string(
            "interviews/live/room.html#follow-up-conflict", {"follow_up": conflict.follow_up}),
            status=409)
        response["X-Answer-Version"] = str(conflict.follow_up.version)
        return reswap(retarget(response, f"#follow-up-conflict-{follow_up_id}"), "innerHTML")
    except SessionClosed as closed:
        response = reswap(_text(str(closed), 423), "none")
        return trigger_client_event(response, "session:closed",
                                    {"status": closed.session.status})
    except ValidationError as error:
        return _text("Not saved: " + " ".join(error.messages), 400)
    response = HttpResponse(render_to_string("interviews/live/room.html#follow-up-save-state",
                                             {"follow_up": saved.follow_up}))
    response["X-Answer-Version"] = str(saved.follow_up.version)
    return trigger_client_event(response, "session:clock",
                                {"remaining_ms": saved.remaining_ms})


@require_POST
@login_required_htmx
def requirement_change(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    form = RequirementChangeForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    if data["guide_index"] is not None:
        return _act(request, room, lambda: services.requirement_change_post(
            room=room, interviewer=request.user, guide_step=data["step"],
            guide_index=data["guide_index"]))
    return _act(request, room, lambda: services.requirement_change_post(
        room=room, interviewer=request.user, text=data["text"], step_number=data["step"]))


@require_POST
@login_required_htmx
def note(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    form = TextForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    return _act(request, room, lambda: services.note_post(
        room=room, interviewer=request.user, text=data["text"], step_number=data["step"]))


@require_POST
@login_required_htmx
def time_check(request: HtmxHttpRequest, room_id: int) -> HttpResponse:
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    return _act(request, room, lambda: services.time_check_post(room=room,
                                                                interviewer=request.user))


# --- JSON: the polling fallback and the console's catch-up -------------------------------------


def _after(request: HttpRequest) -> int:
    try:
        return max(0, int(request.GET.get("after", 0)))
    except ValueError:
        return 0


@require_GET
@login_required_htmx
def events(request: HttpRequest, room_id: int) -> JsonResponse:
    """The log after ``?after=N`` that this person may read (the candidate never gets the
    interviewer's notes), a page at a time: ``{"events": [...], "last_seq": n}``."""
    room = selectors.room_get_for_member(user=request.user, room_id=room_id)
    page = list(selectors.events_after(room, after=_after(request),
                                       interviewer_view=room.viewer_role == INTERVIEWER))
    return JsonResponse({"events": [selectors.event_payload(event) for event in page],
                         "last_seq": room.last_seq})


@require_GET
@login_required_htmx
def answers(request: HttpRequest, room_id: int) -> JsonResponse:
    """The console's catch-up: the saved answers, the step being worked on, the time left."""
    room = selectors.room_get_for_member(user=request.user, room_id=room_id, role=INTERVIEWER)
    return JsonResponse(selectors.room_answers_payload(room))
