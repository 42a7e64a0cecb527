"""Who may do what in a live room, and when: each rule stated once, as a function of plain
facts (the room's state, who its people are, who acts). No Django and no queries, so the
selectors can turn the rules into the buttons a page shows and the services can check the
same rules on the rows they have locked. A rule that a service must explain answers the
refusal in words the person understands, or None when allowed.

The clock: only the room's interviewer starts it, and only from the waiting room. The
interviewer is present by starting it (the request comes from their console); the candidate
need not be: the console shows whether the candidate is in the room, and an interviewer who
starts without them simply waits with the clock running, as in a real interview that begins
on time. Presence from join/leave events is advisory (a closed laptop leaves no "left"), so
no rule depends on it.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

WAITING = "waiting"
RUNNING = "running"
ENDED = "ended"

CANDIDATE = "candidate"
INTERVIEWER = "interviewer"

# An invite link works once, and for a day: long enough to send it to someone and for them
# to open it, short enough that a link pasted somewhere public soon stops working.
INVITE_LIFETIME = timedelta(hours=24)

NOTE_MAX_CHARS = 2_000
MESSAGE_MAX_CHARS = 1_000  # an answer, a follow-up, a requirement change


def invite_token_hash(token: str) -> str:
    """What is stored of an invite's token: its SHA-256, so a leaked table lets no one in."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite_refusal(*, state: str, has_interviewer: bool) -> str | None:
    """May the candidate make an invite link for the room?"""
    if state != WAITING:
        return "Invite links are for a room that is still waiting for its interviewer."
    if has_interviewer:
        return "This room already has an interviewer."
    return None


def join_refusal(*, state: str, interviewer_id: int | None, user_id: int) -> str | None:
    """May ``user_id`` (an interviewer who claims the room or redeems its invite) become the
    room's interviewer? Joining again as the same interviewer is allowed (and changes
    nothing)."""
    if state == ENDED:
        return "This interview has ended."
    if interviewer_id is not None and interviewer_id != user_id:
        return "Another interviewer has already joined this room."
    if state != WAITING and interviewer_id != user_id:
        return "This interview has already started."
    return None


def assign_refusal(*, state: str) -> str | None:
    """May an admin (re)assign the room's interviewer?"""
    if state != WAITING:
        return "Only a room that is still waiting can get another interviewer."
    return None


def start_refusal(*, state: str, is_room_interviewer: bool,
                  candidate_present: bool = True) -> str | None:
    """May this person start the clock? Only the room's interviewer, and only with the
    candidate in the room: both wait in the waiting room until both are there. (Starting a
    running room again changes nothing: the service returns before asking.)"""
    if not is_room_interviewer:
        return "Only the room's interviewer starts the interview."
    if state != WAITING:
        return "This interview has ended." if state == ENDED else None
    if not candidate_present:
        return ("The candidate is not in the room: the interview starts once they have "
                "opened it.")
    return None


# What each person may post, and in which states of the room.
POSTS: dict[str, tuple[str, frozenset[str]]] = {
    "question": (CANDIDATE, frozenset({RUNNING})),
    "answer": (INTERVIEWER, frozenset({RUNNING})),
    "follow_up": (INTERVIEWER, frozenset({RUNNING})),
    "requirement_change": (INTERVIEWER, frozenset({RUNNING})),
    "time_check": (INTERVIEWER, frozenset({RUNNING})),
    # Notes may be jotted in the waiting room too (first impressions, what to probe).
    "note": (INTERVIEWER, frozenset({WAITING, RUNNING})),
}


def post_refusal(*, kind: str, role: str | None, state: str) -> str | None:
    """May a person of ``role`` post an event of ``kind`` while the room is in ``state``?"""
    who, states = POSTS[kind]
    if role != who:
        return ("Only the interviewer does that." if who == INTERVIEWER
                else "Only the candidate does that.")
    if state not in states:
        if state == WAITING:
            return "The interview has not started yet."
        return "This interview has ended."
    return None


def end_refusal(*, state: str, role: str | None) -> str | None:
    """Who ends a room: its interviewer at any time; the candidate only a room still waiting
    (to give up waiting; once running, the candidate submits like any session)."""
    if state == ENDED:
        return None  # ending twice changes nothing
    if role == INTERVIEWER:
        return None
    if role == CANDIDATE and state == WAITING:
        return None
    return "Only the interviewer ends a running interview."


def guide_visible(*, role: str | None) -> bool:
    """The interviewer guide and the private notes: the interviewer's, never the
    candidate's."""
    return role == INTERVIEWER


def minutes_left(remaining_ms: int) -> int:
    """A time check's "N minutes left", rounded up (59 s left is "1 minute")."""
    return max(0, -(-int(remaining_ms) // 60_000))
