"""Scheduling pages under ``/schedule/``: a person's schedule (upcoming bookings with join
buttons, their time zone, their attendance record, an interviewer's availability), the open
slots to book, and one booking's page (the link in every e-mail). A booking is shown only to
its two people (anyone else gets a 404); publishing availability is for interviewers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interviews.models import CaseStudy
from interviews.scheduling import peers, selectors, services
from interviews.scheduling.forms import (
    AvailabilityForm,
    BookForm,
    MoveForm,
    PeerInviteForm,
    PeerScorecardForm,
    RateForm,
    TimeZoneForm,
)
from interviews.scheduling.models import Availability
from interviews.scheduling.services import SchedulingRefused, WindowInput
from mlsd_site import roles

HOME = "scheduling:home"


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_GET
def schedule(request: HttpRequest) -> HttpResponse:
    user = request.user
    is_interviewer = roles.is_interviewer(user)
    zone = selectors.time_zone_of(user)
    return render(request, "interviews/scheduling/schedule.html", {
        "bookings": selectors.upcoming_bookings(user=user),
        "record": selectors.attendance_record(user=user),
        "time_zone": zone,
        "time_zone_form": TimeZoneForm(initial={"time_zone": zone}),
        "is_interviewer": is_interviewer,
        # Interviewers offer interviews; candidates offer peer mocks (their own turn's case).
        "availabilities": selectors.availabilities_of(user=user),
        "availability_form": AvailabilityForm(),
    })


@login_required
@require_POST
def time_zone(request: HttpRequest) -> HttpResponse:
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form) or "Pick a time zone from the list.")
    else:
        services.profile_time_zone_set(user=request.user,
                                       time_zone=form.cleaned_data["time_zone"])
        messages.success(request, f"Times are now shown in {form.cleaned_data['time_zone']}.")
    return redirect(request.POST.get("next") == "book" and "scheduling:book" or HOME)


@login_required
@require_POST
def availability_add(request: HttpRequest) -> HttpResponse:
    kind = (Availability.Kind.INTERVIEW if roles.is_interviewer(request.user)
            else Availability.Kind.PEER)
    form = AvailabilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form) or "Check the window.")
        return redirect(HOME)
    data = form.cleaned_data
    weekly = data["repeats"] == "weekly"
    try:
        availability = services.availability_publish(owner=request.user, window=WindowInput(
            kind=kind, weekday=data["weekday"] if weekly else None,
            date=None if weekly else data["date"], start_time=data["start_time"],
            end_time=data["end_time"], time_zone=selectors.time_zone_of(request.user),
            slot_minutes=data["slot_minutes"], case_study=data["case_study"]))
    except SchedulingRefused as refused:
        messages.error(request, refused.message)
        return redirect(HOME)
    count = availability.slots.count()
    messages.success(request, f"Published: {count} slot{'s' if count != 1 else ''} "
                              f"in the next four weeks.")
    return redirect(HOME)


@login_required
@require_POST
def availability_withdraw(request: HttpRequest, availability_id: int) -> HttpResponse:
    try:
        withdrawn = services.availability_withdraw(owner=request.user,
                                                   availability_id=availability_id)
    except SchedulingRefused:
        raise Http404("No such availability.") from None
    messages.success(request, f"Withdrawn: {withdrawn} open slot{'s' if withdrawn != 1 else ''}"
                              f". Booked slots stay booked.")
    return redirect(HOME)


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    if not roles.is_candidate(request.user):
        raise PermissionDenied("Interviewers publish availability; candidates book it.")
    kind = (Availability.Kind.PEER if request.GET.get("kind") == "peer"
            else Availability.Kind.INTERVIEW)
    case_study = None
    if request.GET.get("case"):
        case_study = CaseStudy.objects.filter(slug=request.GET["case"], is_published=True).first()
    if request.method == "POST":
        form = BookForm(request.POST)
        if form.is_valid():
            try:
                booking = services.booking_create(
                    candidate=request.user, slot_id=form.cleaned_data["slot"],
                    case_study=form.cleaned_data["case_study"])
            except SchedulingRefused as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, "Booked. An invitation is on its way to both of you.")
                if booking.slot.kind == Availability.Kind.PEER:
                    return redirect("scheduling:peer", peer_mock_id=booking.peer_mock.pk)
                return redirect("scheduling:booking", booking_id=booking.pk)
        else:
            messages.error(request, _form_errors(form) or "Pick a slot and a case study.")
    zone = selectors.time_zone_of(request.user)
    return render(request, "interviews/scheduling/book.html", {
        "days": selectors.open_slots(viewer=request.user, kind=kind, case_study=case_study),
        "kind": kind,
        "case_study": case_study,
        "case_studies": CaseStudy.objects.filter(is_published=True),
        "time_zone": zone,
        "time_zone_form": TimeZoneForm(initial={"time_zone": zone}),
    })


def _participant_booking(request: HttpRequest, booking_id: int):
    try:
        return services.booking_get_for_participant(user=request.user, booking_id=booking_id)
    except SchedulingRefused:
        raise Http404("No such booking.") from None


@login_required
@require_GET
def booking(request: HttpRequest, booking_id: int) -> HttpResponse:
    row = selectors.booking_row(booking=_participant_booking(request, booking_id),
                                user=request.user)
    move_days = []
    if row.can_move:
        move_days = selectors.open_slots(viewer=request.user, kind=row.booking.slot.kind,
                                         case_study=row.booking.case_study, limit=40)
    return render(request, "interviews/scheduling/booking.html", {
        "row": row, "move_days": move_days, "time_zone": selectors.time_zone_of(request.user),
    })


@login_required
@require_POST
def booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    _participant_booking(request, booking_id)
    try:
        cancelled = services.booking_cancel(user=request.user, booking_id=booking_id)
    except SchedulingRefused as refused:
        messages.error(request, refused.message)
        return redirect("scheduling:booking", booking_id=booking_id)
    messages.success(request, "Cancelled" + (" (inside the cut-off: it counts as a late "
                                             "cancellation)." if cancelled.is_late_cancellation
                                             else ". Both of you get an e-mail."))
    return redirect(HOME)


@login_required
@require_POST
def booking_move(request: HttpRequest, booking_id: int) -> HttpResponse:
    _participant_booking(request, booking_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick the slot to move to.")
        return redirect("scheduling:booking", booking_id=booking_id)
    try:
        moved = services.booking_reschedule(user=request.user, booking_id=booking_id,
                                            new_slot_id=form.cleaned_data["slot"])
    except SchedulingRefused as refused:
        messages.error(request, refused.message)
        return redirect("scheduling:booking", booking_id=booking_id)
    messages.success(request, "Moved. Both of you get an updated invitation.")
    return redirect("scheduling:booking", booking_id=moved.pk)


@login_required
@require_POST
def booking_join(request: HttpRequest, booking_id: int) -> HttpResponse:
    _participant_booking(request, booking_id)
    try:
        return redirect(services.booking_join(user=request.user, booking_id=booking_id))
    except SchedulingRefused as refused:
        messages.info(request, refused.message)
        return redirect(reverse("scheduling:booking", kwargs={"booking_id": booking_id}))


# --- peer mocks ----------------------------------------------------------------------------------


def _peer_mock(request: HttpRequest, peer_mock_id: int):
    try:
        return peers.peer_mock_get_for_member(user=request.user, peer_mock_id=peer_mock_id)
    except SchedulingRefused:
        raise Http404("No such peer mock.") from None


@login_required
@require_http_methods(["GET", "POST"])
def peer_list(request: HttpRequest) -> HttpResponse:
    if not roles.is_candidate(request.user):
        raise PermissionDenied("Peer mocks are for candidates.")
    form = PeerInviteForm(request.POST or None)
    invite_url = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                invite = peers.peer_invite_create(
                    user=request.user, first_case_study=form.cleaned_data["first_case_study"],
                    second_case_study=form.cleaned_data["second_case_study"])
            except SchedulingRefused as refused:
                messages.error(request, refused.message)
            else:
                invite_url = request.build_absolute_uri(
                    reverse("scheduling:peer_join", kwargs={"token": invite.token}))
                form = PeerInviteForm()
        else:
            messages.error(request, _form_errors(form))
    return render(request, "interviews/scheduling/peer_list.html", {
        "mocks": selectors.peer_mocks_of(user=request.user), "form": form,
        "invite_url": invite_url, "record": selectors.attendance_record(user=request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def peer_join(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            mock = peers.peer_invite_accept(token=token, user=request.user)
        except SchedulingRefused as refused:
            messages.error(request, refused.message)
            return redirect("scheduling:peer_list")
        messages.success(request, "You are in. Either of you can open the first turn.")
        return redirect("scheduling:peer", peer_mock_id=mock.pk)
    return render(request, "interviews/scheduling/peer_join.html", {"token": token})


@login_required
@require_GET
def peer(request: HttpRequest, peer_mock_id: int) -> HttpResponse:
    mock = _peer_mock(request, peer_mock_id)
    return render(request, "interviews/scheduling/peer.html",
                  {"view": selectors.peer_mock_view(mock=mock, user=request.user)})


@login_required
@require_POST
def peer_turn(request: HttpRequest, peer_mock_id: int) -> HttpResponse:
    _peer_mock(request, peer_mock_id)
    try:
        room = peers.peer_turn_open(user=request.user, peer_mock_id=peer_mock_id)
    except SchedulingRefused as refused:
        messages.error(request, refused.message)
        return redirect("scheduling:peer", peer_mock_id=peer_mock_id)
    if room.interviewer_id == request.user.pk:
        return redirect("live:console", room_id=room.pk)
    return redirect(room.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def peer_feedback(request: HttpRequest, peer_mock_id: int, turn: int) -> HttpResponse:
    mock = _peer_mock(request, peer_mock_id)
    if turn not in (1, 2):
        raise Http404("No such turn.")
    candidate_user, interviewer_user, case_study = peers.turn_people(mock, turn)
    room = mock.first_room if turn == 1 else mock.second_room
    if interviewer_user.pk != request.user.pk or room is None or room.session_id is None:
        raise Http404("No peer scorecard for you to write here.")
    card = selectors.peer_scorecard_of(room=room)
    steps = selectors.rubric_steps_of(room=room)
    initial = {}
    if card is not None:
        initial = {"went_well": card.went_well, "work_on": card.work_on,
                   **{f"level_{k}": v for k, v in card.levels.items()},
                   **{f"comment_{k}": v for k, v in card.comments.items()}}
    form = PeerScorecardForm(request.POST or None, steps=steps, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            peers.peer_scorecard_save(
                user=request.user, peer_mock_id=peer_mock_id, turn=turn,
                data=peers.PeerScorecardInput(
                    levels={s.number: data.get(f"level_{s.number}") for s in steps},
                    comments={s.number: data.get(f"comment_{s.number}", "") for s in steps},
                    went_well=data["went_well"], work_on=data["work_on"],
                    submit=request.POST.get("action") == "submit"))
        except SchedulingRefused as refused:
            messages.error(request, refused.message)
        else:
            submitted = request.POST.get("action") == "submit"
            done = "sent to" if submitted else "saved; not yet sent to"
            messages.success(request, f"Peer scorecard {done} {candidate_user.get_username()}.")
            if submitted:
                return redirect("scheduling:peer", peer_mock_id=peer_mock_id)
            return redirect("scheduling:peer_feedback", peer_mock_id=peer_mock_id, turn=turn)
    return render(request, "interviews/scheduling/peer_feedback.html", {
        "mock": mock, "turn": turn, "form": form, "card": card, "subject": candidate_user,
        "case_study": case_study, "room": room,
    })


@login_required
@require_POST
def peer_rate(request: HttpRequest, peer_mock_id: int, turn: int) -> HttpResponse:
    _peer_mock(request, peer_mock_id)
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Rate from 1 to 5.")
    else:
        try:
            peers.peer_scorecard_rate(user=request.user, peer_mock_id=peer_mock_id, turn=turn,
                                      usefulness=form.cleaned_data["usefulness"])
        except SchedulingRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, "Thank you: your rating helps partners give better "
                                      "feedback.")
    return redirect("scheduling:peer", peer_mock_id=peer_mock_id)
