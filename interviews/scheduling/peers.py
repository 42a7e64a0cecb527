"""Peer mocks: two candidates interview each other, one live interview per turn, roles
swapped at the midpoint, each turn followed by the peer interviewer's structured peer
scorecard (peer feedback only: never an interviewer's verdict, never in calibration).

A peer mock is made from an invite link (``peer_invite_create`` / ``peer_invite_accept``) or
by booking a candidate's peer slot (``peer_mock_for_booking``). Each turn is an ordinary
live room (``interviews.live``) whose interviewer is the partner: the live rules give the
room's interviewer its console and guide whoever they are."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from interviews.live import services as live
from interviews.live.models import LiveRoom
from interviews.models import CaseStudy, RubricStep
from interviews.scheduling import policy
from interviews.scheduling.models import Availability, Booking, PeerMock, PeerScorecard
from interviews.scheduling.services import SchedulingRefused, no_show_times
from mlsd_site import roles

COMMENT_MAX_CHARS = 1_000
TEXT_MAX_CHARS = 3_000


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_candidate(user) -> None:
    if not roles.is_candidate(user):
        raise SchedulingRefused("Peer mocks are for candidates: interviewers run interviews.")


def _check_not_paused(user) -> None:
    paused = policy.peer_paused_until(no_show_times(user=user), now=timezone.now())
    if paused is not None:
        raise SchedulingRefused(f"After repeated no-shows, peer mocks can be booked again from "
                                f"{paused:%Y-%m-%d %H:%M} UTC.")


@dataclass(frozen=True)
class PeerInvite:
    peer_mock: PeerMock
    token: str  # shown once, in the link; only its hash is stored


def peer_invite_create(*, user, first_case_study: CaseStudy,
                       second_case_study: CaseStudy) -> PeerInvite:
    """A peer mock waiting for a partner: ``user`` is interviewed on ``first_case_study``
    in turn 1, the partner on ``second_case_study`` in turn 2."""
    _check_candidate(user)
    _check_not_paused(user)
    if first_case_study.pk == second_case_study.pk:
        raise SchedulingRefused("Pick two different case studies: one for each of you.")
    token = secrets.token_urlsafe(24)
    mock = PeerMock.objects.create(first=user, first_case_study=first_case_study,
                                   second_case_study=second_case_study,
                                   invite_token_hash=_token_hash(token))
    return PeerInvite(peer_mock=mock, token=token)


def peer_invite_accept(*, token: str, user) -> PeerMock:
    """``user`` becomes the partner of the peer mock the link is for. Works once: of two
    people accepting one link at the same time, one wins (the row is locked)."""
    _check_candidate(user)
    with transaction.atomic():
        mock = (PeerMock.objects.select_for_update()
                .filter(invite_token_hash=_token_hash(token)).first())
        if mock is None:
            raise SchedulingRefused("This invite link is not valid.")
        if mock.second_id == user.pk:
            return mock
        if mock.first_id == user.pk:
            raise SchedulingRefused("This is your own invite: send the link to your partner.")
        if mock.second_id is not None:
            raise SchedulingRefused("Someone else has accepted this invite already.")
        _check_not_paused(user)
        mock.second = user
        mock.save(update_fields=["second"])
    return mock


def peer_mock_for_booking(*, booking: Booking) -> PeerMock:
    """The peer mock of a booked peer slot: the slot's host is interviewed first, on the
    slot's case study; the booker second, on the case study they booked with."""
    slot = booking.slot
    if slot.kind != Availability.Kind.PEER:
        raise SchedulingRefused("This booking is not a peer mock.")
    mock, _ = PeerMock.objects.get_or_create(booking=booking, defaults={
        "first": slot.host, "second": booking.candidate,
        "first_case_study": slot.case_study, "second_case_study": booking.case_study})
    return mock


def peer_mock_get_for_member(*, user, peer_mock_id: int) -> PeerMock:
    mock = (PeerMock.objects.select_related("first", "second", "first_case_study",
                                            "second_case_study", "first_room", "second_room")
            .filter(pk=peer_mock_id).first())
    if mock is None or user.pk not in (mock.first_id, mock.second_id):
        raise SchedulingRefused("No such peer mock.")
    return mock


def turn_people(mock: PeerMock, turn: int) -> tuple:
    """(candidate, interviewer, case study) of ``turn`` (1 or 2)."""
    if turn == 1:
        return mock.first, mock.second, mock.first_case_study
    return mock.second, mock.first, mock.second_case_study


def peer_turn_open(*, user, peer_mock_id: int) -> LiveRoom:
    """Open the next turn's live room (either person may): turn 1 once the partner is
    there, turn 2 once turn 1's interview has ended. Opening an open turn again returns its
    room. The room's interviewer is the partner: their console and guide for this turn."""
    with transaction.atomic():
        mock = PeerMock.objects.select_for_update().get(
            pk=peer_mock_get_for_member(user=user, peer_mock_id=peer_mock_id).pk)
        if mock.second_id is None:
            raise SchedulingRefused("Your partner has not accepted the invite yet.")
        if mock.stage == PeerMock.Stage.WAITING:
            turn = 1
        elif mock.stage == PeerMock.Stage.TURN_1:
            first_room = LiveRoom.objects.get(pk=mock.first_room_id)
            if first_room.state != LiveRoom.State.ENDED:
                return first_room
            turn = 2
        elif mock.stage == PeerMock.Stage.TURN_2:
            second_room = LiveRoom.objects.get(pk=mock.second_room_id)
            if second_room.state == LiveRoom.State.ENDED:
                mock.stage = PeerMock.Stage.DONE
                mock.save(update_fields=["stage"])
            return second_room
        else:
            raise SchedulingRefused("Both turns are done.")
        candidate, interviewer, case_study = turn_people(mock, turn)
        room, _ = live.room_open(candidate=candidate, case_study=case_study)
        # A fresh waiting room: the partner is its interviewer. Not room_claim, which is for
        # interviewers from the queue; the live rules only ask who the room's interviewer is.
        LiveRoom.objects.filter(pk=room.pk, interviewer__isnull=True).update(
            interviewer=interviewer)
        room.refresh_from_db()
        if room.interviewer_id != interviewer.pk:
            raise SchedulingRefused("That live interview already has another interviewer.")
        if turn == 1:
            mock.first_room, mock.stage = room, PeerMock.Stage.TURN_1
        else:
            mock.second_room, mock.stage = room, PeerMock.Stage.TURN_2
        mock.save(update_fields=["first_room", "second_room", "stage"])
    return room


@dataclass(frozen=True)
class PeerScorecardInput:
    levels: dict[int, int]
    comments: dict[int, str]
    went_well: str
    work_on: str
    submit: bool


def peer_scorecard_save(*, user, peer_mock_id: int, turn: int,
                        data: PeerScorecardInput) -> PeerScorecard:
    """Save (or submit) the peer interviewer's scorecard of ``turn``, once its interview has
    ended. Submitted scorecards are final."""
    mock = peer_mock_get_for_member(user=user, peer_mock_id=peer_mock_id)
    room = mock.first_room if turn == 1 else mock.second_room
    if room is None:
        raise SchedulingRefused("This turn has not taken place yet.")
    candidate, interviewer, _ = turn_people(mock, turn)
    if user.pk != interviewer.pk:
        raise SchedulingRefused("Only the peer interviewer of this turn writes its scorecard.")
    if room.state != LiveRoom.State.ENDED:
        raise SchedulingRefused("Write the scorecard once the interview has ended.")
    if room.session_id is None:
        raise SchedulingRefused("This turn ended before its interview started.")
    steps = set(RubricStep.objects.filter(rubric_id=room.session.rubric_id)
                .values_list("number", flat=True))
    levels = {int(k): int(v) for k, v in data.levels.items() if v}
    if any(step not in steps or not 1 <= level <= 4 for step, level in levels.items()):
        raise SchedulingRefused("Levels are 1 to 4, one per rubric step.")
    comments = {int(k): v.strip()[:COMMENT_MAX_CHARS] for k, v in data.comments.items()
                if v and v.strip()}
    if data.submit and (len(levels) < len(steps) or not data.went_well.strip()
                        or not data.work_on.strip()):
        raise SchedulingRefused("To submit, give every step a level and say what went well "
                                "and what to work on.")
    with transaction.atomic():
        card, _ = PeerScorecard.objects.select_for_update().get_or_create(
            room=room, defaults={"peer_mock": mock, "author": interviewer,
                                 "subject": candidate})
        if card.submitted_at is not None:
            raise SchedulingRefused("This peer scorecard has been submitted.")
        card.levels = {str(k): v for k, v in levels.items()}
        card.comments = {str(k): v for k, v in comments.items()}
        card.went_well = data.went_well.strip()[:TEXT_MAX_CHARS]
        card.work_on = data.work_on.strip()[:TEXT_MAX_CHARS]
        if data.submit:
            card.submitted_at = timezone.now()
        card.save()
    return card


def peer_scorecard_rate(*, user, peer_mock_id: int, turn: int, usefulness: int
                        ) -> PeerScorecard:
    """The candidate of ``turn`` rates how useful their partner's submitted feedback was."""
    mock = peer_mock_get_for_member(user=user, peer_mock_id=peer_mock_id)
    room_id = mock.first_room_id if turn == 1 else mock.second_room_id
    card = PeerScorecard.objects.filter(room_id=room_id, submitted_at__isnull=False).first()
    if card is None or card.subject_id != user.pk:
        raise SchedulingRefused("There is no submitted feedback for you to rate on this turn.")
    if not 1 <= usefulness <= 5:
        raise SchedulingRefused("Rate from 1 to 5.")
    card.usefulness = usefulness
    card.save(update_fields=["usefulness"])
    return card
