"""Live interviews, the pages and endpoints: who sees what (the guide and the notes never
reach the candidate, in HTML or JSON), the invite link, the actions' status codes, and the
follow-up autosave."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from interviews.live import services
from interviews.live.models import FollowUp, LiveEvent, LiveRoom
from interviews.models import GuideStep
from interviews.tests.factories import (
    CaseStudyFactory,
    admin_user,
    candidate,
    interviewer,
    rubric_with_steps,
)

pytestmark = pytest.mark.django_db

ANSWER_KEY = "SECRET-ANSWER-KEY: calibrated p(click)"
PROBE = "SECRET-PROBE: how would you handle cold start?"
NOTE = "SECRET-NOTE: vague on metrics"
CATALOGUE_ANSWER = "About 10 million daily users."  # the factory's clarifying answer


@pytest.fixture
def case():
    rubric_with_steps()
    case = CaseStudyFactory()
    GuideStep.objects.create(
        case_study=case, step_number=1, answer_key=ANSWER_KEY,
        probes=[{"question": PROBE, "signal": "Knows priors."}],
        requirement_changes=[{"change": "The latency budget is now 50 ms.",
                              "good_adjustment": "Cache."}],
        red_flags=["Jumps to a model."])
    return case


@pytest.fixture
def people():
    return {"candidate": candidate(username="cand"), "interviewer": interviewer(username="iv"),
            "other": candidate(username="other"), "stranger": interviewer(username="iv2")}


def browser(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def room(case, people):
    room, _ = services.room_open(candidate=people["candidate"], case_study=case)
    return room


@pytest.fixture
def running(room, people):
    services.room_claim(room_id=room.pk, interviewer=people["interviewer"])
    return services.room_start(room=room, interviewer=people["interviewer"])


def url(name, room, **kwargs):
    return reverse(f"live:{name}", kwargs={"room_id": room.pk, **kwargs})


# --- opening and the waiting room -------------------------------------------------------------


def test_the_case_study_page_offers_a_live_interview(case, people):
    page = browser(people["candidate"]).get(case.get_absolute_url())
    assert reverse("live:open", kwargs={"slug": case.slug}).encode() in page.content


def test_opening_goes_to_the_waiting_room(case, people):
    response = browser(people["candidate"]).post(reverse("live:open",
                                                         kwargs={"slug": case.slug}))
    room = LiveRoom.objects.get()
    assert response.status_code == 302 and response["Location"] == room.get_absolute_url()
    page = browser(people["candidate"]).get(room.get_absolute_url())
    assert page.status_code == 200 and b'data-testid="invite-create"' in page.content
    assert LiveEvent.objects.filter(kind="joined", actor=people["candidate"]).count() == 1
    assert browser(people["interviewer"]).post(
        reverse("live:open", kwargs={"slug": case.slug})).status_code == 403


def test_only_the_two_people_see_the_room(room, people):
    for name in ("other", "stranger"):
        client = browser(people[name])
        assert client.get(room.get_absolute_url()).status_code == 404
        assert client.get(url("events", room)).status_code == 404
        assert client.get(url("console", room)).status_code == 404
    assert browser(people["candidate"]).get(url("console", room)).status_code == 404
    assert browser(people["candidate"]).get(url("answers", room)).status_code == 404
    assert browser(None).get(room.get_absolute_url()).status_code == 302


# --- the invite link ----------------------------------------------------------------------------


def test_the_invite_link_is_shown_once_and_works_once(room, people):
    response = browser(people["candidate"]).post(url("invite", room), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    link = response.content.decode().split('value="', 1)[1].split('"', 1)[0]
    path = link.split("testserver", 1)[1]
    # The candidate's page does not show it again.
    assert path.encode() not in browser(people["candidate"]).get(room.get_absolute_url()).content
    # The candidate cannot use it; an interviewer sees what it is for, then joins.
    assert browser(people["candidate"]).get(path).status_code == 403
    assert browser(people["candidate"]).post(path).status_code == 403
    joining = browser(people["interviewer"])
    page = joining.get(path)
    assert page.status_code == 200 and b"join-confirm" in page.content
    assert LiveRoom.objects.get().interviewer is None  # a GET uses nothing up
    joined = joining.post(path)
    assert joined.status_code == 302 and joined["Location"] == url("console", room)
    assert browser(people["stranger"]).post(path).status_code == 409
    assert browser(people["stranger"]).get("/live/join/not-a-token/").status_code == 404


# --- the console and the candidate's page -------------------------------------------------------


def test_the_console_shows_the_guide_and_the_candidate_page_does_not(running, people):
    services.note_post(room=running, interviewer=people["interviewer"], text=NOTE)
    console = browser(people["interviewer"]).get(url("console", running))
    assert console.status_code == 200
    assert ANSWER_KEY.encode() in console.content and PROBE.encode() in console.content
    page = browser(people["candidate"]).get(running.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="live"' in html and "live_room" in html and "session.js" in html
    for secret in (ANSWER_KEY, PROBE, NOTE, CATALOGUE_ANSWER, "Jumps to a model"):
        assert secret not in html
    events = browser(people["candidate"]).get(url("events", running)).json()
    assert NOTE not in json.dumps(events) and ANSWER_KEY not in json.dumps(events)
    # The candidate joined by opening the room; started; the interviewer's console joined
    # (the candidate's page logs nothing new: they are still in the room).
    assert [e["kind"] for e in events["events"]] == ["joined", "started", "joined"]
    mine = browser(people["interviewer"]).get(url("events", running) + "?after=0").json()
    assert NOTE in json.dumps(mine) and mine["last_seq"] == LiveRoom.objects.get().last_seq


def test_the_interviewer_is_sent_to_the_console(running, people):
    response = browser(people["interviewer"]).get(running.get_absolute_url())
    assert response.status_code == 302 and response["Location"] == url("console", running)


def test_events_page_from_after(running, people):
    for n in range(3):
        services.note_post(room=running, interviewer=people["interviewer"], text=f"n{n}")
    body = browser(people["interviewer"]).get(url("events", running) + "?after=3").json()
    assert [e["seq"] for e in body["events"]] == [4, 5]
    assert body["events"][0]["body"] == "n1"


def test_answers_for_the_console(running, people):
    from interviews.services.autosave import answer_save

    answer_save(session=running.session, step_number=2, text="Log loss.", base_version=0)
    body = browser(people["interviewer"]).get(url("answers", running)).json()
    assert body["answers"]["2"] == {"text": "Log loss.", "diagram": "", "version": 1}
    assert body["state"] == "running" and body["remaining_ms"] > 0


# --- actions -----------------------------------------------------------------------------------


def test_actions_answer_204_to_htmx_and_409_when_refused(room, people):
    iv = browser(people["interviewer"])
    services.room_claim(room_id=room.pk, interviewer=people["interviewer"])
    hx = {"HTTP_HX_REQUEST": "true"}
    refused = iv.post(url("follow_up", room), {"step": "1", "text": "Why?"}, **hx)
    assert refused.status_code == 409 and b"not started" in refused.content
    assert iv.post(url("start", room), **hx).status_code == 204
    assert iv.post(url("follow_up", room), {"step": "1", "text": "Why?"}, **hx).status_code == 204
    assert iv.post(url("follow_up", room), {"step": "9", "text": "Why?"}, **hx).status_code == 400
    assert iv.post(url("requirement_change", room), {"step": "1", "guide_index": "0"},
                   **hx).status_code == 204
    assert iv.post(url("requirement_change", room), {"text": "Twice the traffic."},
                   **hx).status_code == 204
    assert iv.post(url("note", room), {"text": "ok", "step": "2"}, **hx).status_code == 204
    assert iv.post(url("time_check", room), **hx).status_code == 204
    cand = browser(people["candidate"])
    assert cand.post(url("question", room), {"text": "Scale?"}, **hx).status_code == 204
    question = LiveEvent.objects.get(kind="question")
    assert iv.post(url("answer", room), {"question_seq": question.seq, "text": "Big."},
                   **hx).status_code == 204
    # The candidate cannot act as the interviewer, nor the other way round.
    assert cand.post(url("note", room), {"text": "x"}, **hx).status_code == 404
    assert iv.post(url("question", room), {"text": "x"}, **hx).status_code == 404
    assert list(LiveEvent.objects.order_by("seq").values_list("kind", flat=True)) == [
        "joined", "started", "follow_up", "requirement_change", "requirement_change", "note",
        "time_check", "question", "answer"]


def test_follow_up_autosave_statuses(running, people):
    follow_up = services.follow_up_post(room=running, interviewer=people["interviewer"],
                                        step_number=3, text="And at 10x?")
    cand = browser(people["candidate"])
    save = url("follow_up_save", running, follow_up_id=follow_up.pk)
    hx = {"HTTP_HX_REQUEST": "true"}
    ok = cand.post(save, {"text": "Shard.", "base_version": "0"}, **hx)
    assert ok.status_code == 200 and ok["X-Answer-Version"] == "1"
    assert b'name="base_version" value="1"' in ok.content
    stale = cand.post(save, {"text": "Other tab.", "base_version": "0"}, **hx)
    assert stale.status_code == 409
    assert stale["HX-Retarget"] == f"#follow-up-conflict-{follow_up.pk}"
    assert browser(people["interviewer"]).post(save, {"text": "x", "base_version": "1"},
                                               **hx).status_code == 404
    assert cand.post(url("follow_up_save", running, follow_up_id=follow_up.pk + 99),
                     {"text": "x", "base_version": "0"}, **hx).status_code == 404
    services.room_end(room=running, user=people["interviewer"])
    closed = cand.post(save, {"text": "Late.", "base_version": "1"}, **hx)
    assert closed.status_code == 423
    assert FollowUp.objects.get().answer == "Shard."


def test_ending_sends_the_candidate_to_the_review(running, people):
    response = browser(people["interviewer"]).post(url("end", running), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    page = browser(people["candidate"]).get(running.get_absolute_url())
    assert page.status_code == 302 and page["Location"] == running.session.get_review_url()
    console = browser(people["interviewer"]).get(url("console", running))
    assert b"console-ended" in console.content
    assert running.session.get_scorecard_url().encode() in console.content


def test_the_candidate_may_stop_waiting(room, people):
    response = browser(people["candidate"]).post(url("end", room))
    assert response.status_code == 302
    assert LiveRoom.objects.get().state == "ended"


# --- the queue: claim and assign ------------------------------------------------------------------


def test_waiting_rooms_are_in_the_scorecard_queue_with_claim(room, people):
    page = browser(people["interviewer"]).get(reverse("scorecards:queue"))
    assert page.status_code == 200
    assert url("claim", room).encode() in page.content
    claimed = browser(people["interviewer"]).post(url("claim", room))
    assert claimed.status_code == 302 and claimed["Location"] == url("console", room)
    # Claimed: no longer offered to others.
    other = browser(people["stranger"]).get(reverse("scorecards:queue"))
    assert url("claim", room).encode() not in other.content
    assert browser(people["stranger"]).post(url("claim", room)).status_code == 302
    assert LiveRoom.objects.get().interviewer == people["interviewer"]
    assert browser(people["other"]).post(url("claim", room)).status_code == 404


def test_admins_assign_from_the_queue(room, people):
    boss = admin_user(username="boss")
    response = browser(boss).post(url("assign", room), {"interviewer": people["interviewer"].pk})
    assert response.status_code == 302
    assert LiveRoom.objects.get().interviewer == people["interviewer"]
    # An interviewer sees the room in the queue, but only admins assign.
    assert browser(people["stranger"]).post(
        url("assign", room), {"interviewer": people["stranger"].pk}).status_code == 403
    assert LiveRoom.objects.get().interviewer == people["interviewer"]


# --- after the interview: the scorecard and the replay ----------------------------------------


@pytest.fixture
def ended(running, people):
    follow_up = services.follow_up_post(room=running, interviewer=people["interviewer"],
                                        step_number=4, text="How would you handle cold start?")
    services.follow_up_answer_save(candidate=people["candidate"], room=running,
                                   follow_up_id=follow_up.pk,
                                   text="A popularity prior until clicks arrive.",
                                   base_version=0)
    services.note_post(room=running, interviewer=people["interviewer"], step_number=4,
                       text="Knows the cold-start trade-offs well.")
    services.note_post(room=running, interviewer=people["interviewer"],
                       text="Communicates clearly throughout.")
    services.requirement_change_post(room=running, interviewer=people["interviewer"],
                                     text="The latency budget is now 50 ms.")
    services.room_end(room=running, user=people["interviewer"])
    running.refresh_from_db()
    return running


def test_the_scorecard_shows_follow_ups_and_notes_and_quotes_them(ended, people):
    from interviews.scorecards.services import evidence_add

    page = browser(people["interviewer"]).get(ended.session.get_scorecard_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="scorecard-follow-up-4"' in html
    assert "A popularity prior until clicks arrive." in html
    assert "Knows the cold-start trade-offs well." in html
    assert "Communicates clearly throughout." in html  # a note on no step: under step 1
    assert "The latency budget is now 50 ms." in html
    grade = ended.session.grades.get(grader=people["interviewer"])
    assert evidence_add(grade=grade, step_number=4, text="popularity prior").text
    assert evidence_add(grade=grade, step_number=4, text="cold-start trade-offs").text
    assert evidence_add(grade=grade, step_number=2, text="Communicates clearly").text
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        evidence_add(grade=grade, step_number=2, text="cold-start trade-offs")  # a step-4 note
    quoted = browser(people["interviewer"]).post(
        reverse("scorecards:evidence_add", kwargs={"session_id": ended.session_id}),
        {"step": "4", "quote": "until clicks arrive"}, HTTP_HX_REQUEST="true")
    assert quoted.status_code == 200 and b"until clicks arrive" in quoted.content


def test_the_replay_shows_the_live_events(ended, people):
    page = browser(people["interviewer"]).get(
        reverse("scorecards:replay", kwargs={"session_id": ended.session_id}))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="replay-live"' in html
    assert "Interviewer (live)" in html  # the timeline's row
    for text in ("How would you handle cold start?", "Knows the cold-start trade-offs well.",
                 "The latency budget is now 50 ms.", "The interviewer ended the interview."):
        assert text in html
    early = browser(people["interviewer"]).get(
        reverse("scorecards:replay", kwargs={"session_id": ended.session_id}) + "?at=0",
        HTTP_HX_REQUEST="true").content.decode()
    # The frame at 0:00 is from before the end (the slider shows what had happened then).
    assert 'data-testid="replay-live"' in early
    assert "The interviewer ended the interview." not in early


def test_the_sessions_own_url_leads_a_live_interview_back_to_its_room(running, people):
    """"Resume" on the home page and "My sessions" link to /sessions/<id>/: for a live
    interview that must be the live page (follow-ups, the interviewer's answers), not the
    solo one."""
    running.refresh_from_db()
    page = browser(people["candidate"]).get(running.session.get_absolute_url())
    assert page.status_code == 302
    assert page["Location"] == running.get_absolute_url()
