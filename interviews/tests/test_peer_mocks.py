"""Peer mocks: an invite pairs two candidates; each turn is a live room whose interviewer is
the partner (console rights for the turn, no scorecard of the interviewers'), the roles swap
for turn 2, and each peer interviewer's peer scorecard reaches the other once sent."""

import pytest
from django.urls import reverse

from interviews.live import services as live
from interviews.live.models import LiveRoom
from interviews.models import Grade
from interviews.scheduling import peers
from interviews.scheduling.models import PeerMock, PeerScorecard
from interviews.scheduling.services import SchedulingRefused
from interviews.tests.factories import CaseStudyFactory, candidate, interviewer, rubric_with_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    rubric_with_steps()
    alice, bob = candidate(username="alice"), candidate(username="bob")
    first_case, second_case = CaseStudyFactory(), CaseStudyFactory()
    invite = peers.peer_invite_create(user=alice, first_case_study=first_case,
                                      second_case_study=second_case)
    return alice, bob, invite


def run_turn(room: LiveRoom, peer) -> LiveRoom:
    room = live.room_start(room=room, interviewer=peer)
    return live.room_end(room=room, user=peer)


def full_card(steps) -> peers.PeerScorecardInput:
    return peers.PeerScorecardInput(levels=dict.fromkeys(steps, 3),
                                    comments={steps[0]: "Clear framing."},
                                    went_well="Metrics.", work_on="Scaling.", submit=True)


def test_invites_pair_two_candidates_once(pair):
    alice, bob, invite = pair
    with pytest.raises(SchedulingRefused, match="your own invite"):
        peers.peer_invite_accept(token=invite.token, user=alice)
    with pytest.raises(SchedulingRefused, match="for candidates"):
        peers.peer_invite_accept(token=invite.token, user=interviewer())
    assert peers.peer_invite_accept(token=invite.token, user=bob).second == bob
    with pytest.raises(SchedulingRefused, match="accepted this invite already"):
        peers.peer_invite_accept(token=invite.token, user=candidate())
    with pytest.raises(SchedulingRefused, match="not valid"):
        peers.peer_invite_accept(token="made-up", user=candidate())
    with pytest.raises(SchedulingRefused, match="two different case studies"):
        case = CaseStudyFactory()
        peers.peer_invite_create(user=alice, first_case_study=case, second_case_study=case)


def test_two_turns_swap_roles_and_each_peer_scorecard_reaches_the_other(pair):
    alice, bob, invite = pair
    mock = peers.peer_invite_accept(token=invite.token, user=bob)
    first_room = peers.peer_turn_open(user=bob, peer_mock_id=mock.pk)
    assert (first_room.candidate, first_room.interviewer) == (alice, bob)
    assert peers.peer_turn_open(user=alice, peer_mock_id=mock.pk) == first_room  # same room
    with pytest.raises(SchedulingRefused, match="once the interview has ended"):
        peers.peer_scorecard_save(user=bob, peer_mock_id=mock.pk, turn=1,
                                  data=full_card([1]))
    first_room = run_turn(first_room, bob)
    steps = sorted(first_room.session.rubric.steps.values_list("number", flat=True))
    # The peer interviewer is no interviewer: no scorecard slot of the interviewers' taken.
    assert not Grade.objects.filter(session=first_room.session).exists()
    with pytest.raises(SchedulingRefused, match="Only the peer interviewer"):
        peers.peer_scorecard_save(user=alice, peer_mock_id=mock.pk, turn=1,
                                  data=full_card(steps))
    with pytest.raises(SchedulingRefused, match="every step a level"):
        peers.peer_scorecard_save(user=bob, peer_mock_id=mock.pk, turn=1, data=peers.
                                  PeerScorecardInput(levels={steps[0]: 2}, comments={},
                                                     went_well="", work_on="", submit=True))
    card = peers.peer_scorecard_save(user=bob, peer_mock_id=mock.pk, turn=1,
                                     data=full_card(steps))
    assert card.subject == alice and card.submitted_at is not None
    second_room = peers.peer_turn_open(user=alice, peer_mock_id=mock.pk)
    assert (second_room.candidate, second_room.interviewer) == (bob, alice)
    run_turn(second_room, alice)
    peers.peer_scorecard_save(user=alice, peer_mock_id=mock.pk, turn=2, data=full_card(steps))
    peers.peer_scorecard_rate(user=alice, peer_mock_id=mock.pk, turn=1, usefulness=5)
    with pytest.raises(SchedulingRefused, match="no submitted feedback for you"):
        peers.peer_scorecard_rate(user=bob, peer_mock_id=mock.pk, turn=1, usefulness=1)
    assert PeerScorecard.objects.filter(peer_mock=mock, submitted_at__isnull=False).count() == 2
    peers.peer_turn_open(user=bob, peer_mock_id=mock.pk)
    mock.refresh_from_db()
    assert mock.stage == PeerMock.Stage.DONE


def test_the_pages_show_each_person_their_part(client, pair):
    alice, bob, invite = pair
    client.force_login(bob)
    response = client.post(reverse("scheduling:peer_join", kwargs={"token": invite.token}))
    mock = PeerMock.objects.get()
    assert response["Location"] == reverse("scheduling:peer", kwargs={"peer_mock_id": mock.pk})
    turn = client.post(reverse("scheduling:peer_turn", kwargs={"peer_mock_id": mock.pk}))
    room = LiveRoom.objects.get()
    # Bob interviews in turn 1: his console, with the guide, as any room's interviewer.
    assert turn["Location"] == reverse("live:console", kwargs={"room_id": room.pk})
    assert client.get(turn["Location"]).status_code == 200
    room = run_turn(room, bob)
    page = client.get(reverse("scheduling:peer", kwargs={"peer_mock_id": mock.pk}))
    assert "Write the peer scorecard" in page.text
    steps = sorted(room.session.rubric.steps.values_list("number", flat=True))
    form = {f"level_{n}": "3" for n in steps} | {"went_well": "Calm.", "work_on": "Numbers.",
                                                 "action": "submit"}
    sent = client.post(reverse("scheduling:peer_feedback",
                               kwargs={"peer_mock_id": mock.pk, "turn": 1}), form)
    assert sent.status_code == 302
    client.force_login(alice)
    page = client.get(reverse("scheduling:peer", kwargs={"peer_mock_id": mock.pk}))
    assert "Peer feedback" in page.text and "Numbers." in page.text
    assert client.get(reverse("scheduling:peer_feedback", kwargs={
        "peer_mock_id": mock.pk, "turn": 1})).status_code == 404
    client.force_login(candidate())
    assert client.get(reverse("scheduling:peer", kwargs={
        "peer_mock_id": mock.pk})).status_code == 404


def test_booking_a_peer_slot_makes_the_peer_mock(django_capture_on_commit_callbacks):
    from datetime import time, timedelta

    from django.core import mail
    from django.utils import timezone

    from interviews.scheduling import services as scheduling

    host, booker = candidate(), candidate()
    host_case, booker_case = CaseStudyFactory(), CaseStudyFactory()
    day = timezone.now() + timedelta(days=3)
    window = scheduling.availability_publish(owner=host, window=scheduling.WindowInput(
        kind="peer", weekday=day.weekday(), start_time=time(10, 0), end_time=time(11, 0),
        time_zone="UTC", case_study=host_case))
    slot = window.slots.first()
    with pytest.raises(SchedulingRefused, match="Pick another case study"):
        scheduling.booking_create(candidate=booker, slot_id=slot.pk, case_study=host_case)
    with pytest.raises(SchedulingRefused, match="your own slot"):
        scheduling.booking_create(candidate=host, slot_id=slot.pk, case_study=booker_case)
    with django_capture_on_commit_callbacks(execute=True):
        booking = scheduling.booking_create(candidate=booker, slot_id=slot.pk,
                                            case_study=booker_case)
    mock = booking.peer_mock
    assert (mock.first, mock.second) == (host, booker)
    assert (mock.first_case_study, mock.second_case_study) == (host_case, booker_case)
    assert all(m.subject.startswith("Booked: Peer mock") for m in mail.outbox)
    assert len(mail.outbox) == 2
    with pytest.raises(SchedulingRefused, match="names the case study"):
        scheduling.availability_publish(owner=host, window=scheduling.WindowInput(
            kind="peer", weekday=day.weekday(), start_time=time(12, 0), end_time=time(13, 0),
            time_zone="UTC"))
