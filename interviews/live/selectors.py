"""Reads for live interviews. The event log is read only through ``events_after``, by the
push connection and by the polling fallback alike, so both give a page exactly the same
events in the same order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Now
from django.http import Http404

from interviews.live import policy
from interviews.live.models import FollowUp, LiveEvent, LiveInvite, LiveRoom
from interviews.models import (
    Answer,
    CaseStudy,
    ClarifyingQuestion,
    GuideStep,
    InterviewSession,
    Rubric,
)
from interviews.scorecards.selectors.access import interviewers_for_assignment
from mlsd_site import roles

# A page catching up reads at most this many events per request; it asks again from the
# last one it got until it has all of them.
EVENTS_PAGE = 200


def audiences_for(*, interviewer_view: bool) -> list[str]:
    """The audiences a page may read: the interviewer's console reads everything, the
    candidate's page what is for both."""
    if interviewer_view:
        return [LiveEvent.Audience.BOTH, LiveEvent.Audience.INTERVIEWER]
    return [LiveEvent.Audience.BOTH]


def events_after(room: LiveRoom | int, *, after: int, interviewer_view: bool,
                 limit: int = EVENTS_PAGE) -> QuerySet[LiveEvent]:
    """The room's events with ``seq > after`` that this side may read, oldest first."""
    room_id = room if isinstance(room, int) else room.pk
    return (LiveEvent.objects.filter(room_id=room_id, seq__gt=after,
                                     audience__in=audiences_for(interviewer_view=interviewer_view))
            .select_related("actor").order_by("seq")[:limit])


def event_payload(event: LiveEvent) -> dict[str, Any]:
    """An event as the pages receive it (JSON), by push or by polling."""
    return {
        "seq": event.seq,
        "kind": event.kind,
        "audience": event.audience,
        "actor": event.actor.get_username() if event.actor_id else None,
        "actor_id": event.actor_id,
        "step": event.step_number,
        "body": event.body,
        "data": event.data,
        "at": event.created_at.isoformat() if event.created_at else None,
        "elapsed_ms": event.elapsed_ms,
    }


def room_member_role(user, room_id: int) -> str | None:
    """``"candidate"`` or ``"interviewer"`` when ``user`` is that person of the room, else
    None (anyone else, including other interviewers and admins, is not in the room)."""
    if not getattr(user, "is_authenticated", False):
        return None
    row = LiveRoom.objects.filter(pk=room_id).values("candidate_id", "interviewer_id").first()
    if row is None:
        return None
    if row["candidate_id"] == user.pk:
        return "candidate"
    if row["interviewer_id"] == user.pk:
        return "interviewer"
    return None


# --- who may open what ------------------------------------------------------------------------


def room_get_for_member(*, user, room_id: int, role: str | None = None) -> LiveRoom:
    """The room, for its candidate or its interviewer (only that one when ``role`` says
    which), with ``viewer_role`` set and the database's clock as ``db_now``; Http404 for
    anyone else (never a 403 that would confirm the room exists)."""
    if getattr(user, "is_authenticated", False):
        room = (LiveRoom.objects.select_related("case_study", "session", "candidate",
                                                "interviewer")
                .annotate(db_now=Now()).filter(pk=room_id).first())
        if room is not None:
            found = room_role_of(room, user)
            if found is not None and (role is None or role == found):
                room.viewer_role = found
                return room
    raise Http404("No such live interview.")


def room_role_of(room: LiveRoom, user) -> str | None:
    if user.pk == room.candidate_id:
        return policy.CANDIDATE
    if room.interviewer_id is not None and user.pk == room.interviewer_id:
        return policy.INTERVIEWER
    return None


def room_get_waiting_for_interviewers(*, user, room_id: int) -> LiveRoom:
    """A waiting room an interviewer may claim or an admin assign (the queue lists them);
    Http404 for everyone else, and for rooms that are not waiting."""
    if not roles.is_interviewer(user):
        raise Http404("No such live interview.")
    room = LiveRoom.objects.filter(pk=room_id, state=LiveRoom.State.WAITING).first()
    if room is None:
        raise Http404("No such live interview.")
    return room


def room_open_for(*, user, case_study: CaseStudy) -> LiveRoom | None:
    """The candidate's open (waiting or running) room of ``case_study``, for its page."""
    if not getattr(user, "is_authenticated", False):
        return None
    return LiveRoom.objects.filter(
        candidate=user, case_study=case_study,
        state__in=[LiveRoom.State.WAITING, LiveRoom.State.RUNNING]).first()


@dataclass
class WaitingRoomRow:
    room: LiveRoom
    mine: bool  # the viewer is its interviewer already
    can_claim: bool


@dataclass
class LiveQueue:
    """The live part of the scorecard queue. ``assignable``: for an admin, the interviewers
    a waiting room may be given to (empty for everyone else, who gets no Assign form)."""

    rows: list[WaitingRoomRow]
    assignable: list

    def __bool__(self) -> bool:
        return bool(self.rows)


def live_rooms_for_queue(*, user) -> LiveQueue:
    """For the scorecard queue: waiting rooms (without an interviewer, to claim; an admin
    sees every waiting room, to assign) and the viewer's own rooms that have not ended (to
    go back to), oldest first."""
    is_admin = roles.is_admin(user)
    waiting = Q(state=LiveRoom.State.WAITING)
    if not is_admin:
        waiting &= Q(interviewer__isnull=True)
    rooms = (LiveRoom.objects.filter(
        waiting
        | Q(interviewer_id=user.pk, state__in=[LiveRoom.State.WAITING, LiveRoom.State.RUNNING]))
        .select_related("candidate", "case_study", "interviewer").order_by("created_at", "pk"))
    assignable = interviewers_for_assignment() if is_admin else []
    return LiveQueue(rows=[WaitingRoomRow(room=room, mine=room.interviewer_id == user.pk,
                                          can_claim=room.interviewer_id is None)
                           for room in rooms], assignable=assignable)


# --- what the pages show ----------------------------------------------------------------------


def room_presence(room: LiveRoom) -> dict[str, bool]:
    """Who is in the room now, by their last ``joined``/``left`` event (advisory: a closed
    laptop leaves no "left")."""
    present = {policy.CANDIDATE: False, policy.INTERVIEWER: False}
    people = {room.candidate_id: policy.CANDIDATE}
    if room.interviewer_id:
        people[room.interviewer_id] = policy.INTERVIEWER
    last = (LiveEvent.objects.filter(room=room, kind__in=[LiveEvent.Kind.JOINED,
                                                          LiveEvent.Kind.LEFT],
                                     actor_id__in=list(people))
            .order_by("actor_id", "-seq").distinct("actor_id").values_list("actor_id", "kind"))
    for actor_id, kind in last:
        present[people[actor_id]] = kind == LiveEvent.Kind.JOINED
    return present


def room_follow_ups(room: LiveRoom) -> dict[str, dict[str, Any]]:
    """The follow-ups' current answers by the seq of the event that posted each, for the
    candidate's page (its follow-up boxes start from these) and the console."""
    return {
        str(seq): {"id": pk, "answer": answer, "version": version, "step": step}
        for pk, seq, answer, version, step in FollowUp.objects.filter(room=room)
        .values_list("pk", "event__seq", "answer", "version", "step_number")
    }


def room_answers_payload(room: LiveRoom) -> dict[str, Any]:
    """The console's catch-up: the candidate's saved answers, the step being worked on,
    the time left and the room's state, plus the follow-ups' answers (``answers/``)."""
    answers: dict[str, dict[str, Any]] = {}
    active_step = None
    remaining_ms = None
    if room.session_id is not None:
        session = InterviewSession.objects.annotate(db_now=Now()).get(pk=room.session_id)
        for step, text, diagram, version in (Answer.objects.filter(session=session)
                                             .values_list("step_number", "text", "diagram",
                                                          "version")):
            answers[str(step)] = {"text": text, "diagram": diagram, "version": version}
        active_step = session.active_step
        remaining_ms = session.remaining_ms(now=session.db_now) if session.is_active else 0
    return {"answers": answers, "active_step": active_step, "remaining_ms": remaining_ms,
            "state": room.state, "follow_ups": room_follow_ups(room)}


@dataclass
class ConsoleStep:
    number: int
    title: str
    text: str
    diagram: str
    version: int
    guide: GuideStep | None


@dataclass
class RoomConsole:
    """The interviewer's console: the six steps (titles, the saved answers to start from),
    the guide for each step, who is present, and the last seq the page starts its feed at
    (0: the page reads the whole log, which is how it renders questions, follow-ups and
    notes)."""

    room: LiveRoom
    steps: list[ConsoleStep]
    presence: dict[str, bool]
    remaining_ms: int | None
    duration_ms: int
    # The case study's clarifying questions with their answers: the interviewer's crib (in
    # a live interview the candidate's page does not print them).
    crib: list[ClarifyingQuestion] = field(default_factory=list)


def room_console(*, room: LiveRoom) -> RoomConsole:
    """Everything the console shows at first, in a constant number of queries. The guide
    is read here and nowhere the candidate's pages read."""
    rubric = (room.session.rubric if room.session_id is not None
              else Rubric.objects.filter(is_current=True).first())
    titles = ({step.number: step.title for step in rubric.steps.all()} if rubric else {})
    guide = {step.step_number: step for step in GuideStep.objects.filter(
        case_study_id=room.case_study_id)}
    payload = room_answers_payload(room)
    steps = []
    for number in range(1, 7):
        saved = payload["answers"].get(str(number), {})
        steps.append(ConsoleStep(number=number, title=titles.get(number, f"Step {number}"),
                                 text=saved.get("text", ""), diagram=saved.get("diagram", ""),
                                 version=saved.get("version", 0), guide=guide.get(number)))
    duration_s = (room.session.duration_seconds if room.session_id is not None
                  else room.case_study.duration_seconds)
    return RoomConsole(room=room, steps=steps, presence=room_presence(room),
                       remaining_ms=payload["remaining_ms"], duration_ms=duration_s * 1000,
                       crib=list(ClarifyingQuestion.objects.filter(
                           case_study_id=room.case_study_id)))


# --- after the interview: scorecard and replay -------------------------------------------------


@dataclass
class LiveStepRecord:
    """What happened live on one step, for the scorecard: the follow-ups with the answers
    and the interviewer's notes (notes without a step are listed under step 1's "general"
    heading by the template: ``general_notes``)."""

    follow_ups: list[FollowUp] = field(default_factory=list)
    notes: list[LiveEvent] = field(default_factory=list)


@dataclass
class LiveRecord:
    room: LiveRoom | None
    steps: dict[int, LiveStepRecord]
    general_notes: list[LiveEvent]
    requirement_changes: list[LiveEvent]

    def step(self, number: int) -> LiveStepRecord:
        return self.steps.get(number) or LiveStepRecord()


def live_record_for_session(*, session: InterviewSession) -> LiveRecord | None:
    """The live room of a session (None for a solo one), for the interviewer's scorecard:
    follow-ups and notes per step, requirement changes. Three queries."""
    room = LiveRoom.objects.filter(session=session).first()
    if room is None:
        return None
    steps: dict[int, LiveStepRecord] = {n: LiveStepRecord() for n in range(1, 7)}
    for follow_up in FollowUp.objects.filter(room=room).select_related("event"):
        steps[follow_up.step_number].follow_ups.append(follow_up)
    general, changes = [], []
    for event in LiveEvent.objects.filter(room=room, kind__in=[
            LiveEvent.Kind.NOTE, LiveEvent.Kind.REQUIREMENT_CHANGE]).select_related("actor") \
            .order_by("seq"):
        if event.kind == LiveEvent.Kind.REQUIREMENT_CHANGE:
            changes.append(event)
        elif event.step_number:
            steps[event.step_number].notes.append(event)
        else:
            general.append(event)
    return LiveRecord(room=room, steps=steps, general_notes=general,
                      requirement_changes=changes)


# The kinds the replay's timeline marks (presence and the answers' saves are not moments of
# the conversation; the follow-up answers' saves are the follow-up's own revisions).
REPLAY_KINDS = [LiveEvent.Kind.STARTED, LiveEvent.Kind.QUESTION, LiveEvent.Kind.ANSWER,
                LiveEvent.Kind.FOLLOW_UP, LiveEvent.Kind.REQUIREMENT_CHANGE,
                LiveEvent.Kind.NOTE, LiveEvent.Kind.TIME_CHECK, LiveEvent.Kind.ENDED]


def live_events_for_replay(*, session: InterviewSession) -> list[LiveEvent]:
    """The live room's events worth a mark on the replay's timeline (interviewers only read
    replays, so notes are in), oldest first; empty for a solo session."""
    return list(LiveEvent.objects.filter(room__session=session, kind__in=REPLAY_KINDS,
                                         elapsed_ms__isnull=False).order_by("seq"))


def invite_for_token(*, token: str) -> LiveInvite:
    """The invite a link's token names, with its room, for the join page (which shows what
    the link is for before anyone redeems it); Http404 for a token that names none."""
    invite = (LiveInvite.objects.select_related("room__candidate", "room__case_study")
              .annotate(db_now=Now()).filter(token_hash=policy.invite_token_hash(token))
              .first())
    if invite is None:
        raise Http404("No such invite.")
    return invite


def live_quote_sources(*, session_id: int, step_number: int) -> list[str]:
    """What an interviewer may quote as evidence on a step besides the answer, when the
    session was a live interview: the candidate's answers to the step's follow-ups and the
    interviewer's notes on the step (or on no step in particular). Two queries."""
    follow_ups = FollowUp.objects.filter(room__session_id=session_id, step_number=step_number)
    notes = LiveEvent.objects.filter(room__session_id=session_id, kind=LiveEvent.Kind.NOTE).filter(
        Q(step_number=step_number) | Q(step_number__isnull=True))
    return [*follow_ups.values_list("answer", flat=True),
            *notes.values_list("body", flat=True)]
