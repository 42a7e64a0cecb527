"""The permission matrix: every URL of the site, tried with GET and (for writes) POST by each
role, against the expected status in one table. The same table is ``docs/permissions.md``:

    .venv/bin/python -m tests.test_permission_matrix   # rewrite the document

A test fails when the document and the table differ, and another when a URL pattern has no
row, so a new URL cannot be added without deciding who may use it.

Roles: ``anonymous``; ``owner``, the candidate whose sessions and submission are used;
``other``, another candidate; ``interviewer``, an interviewer who grades the owner's sessions
(a draft on one, a submitted grade on another); ``admin``, a member of the Admins group.
Every cell runs in its own savepoint that is rolled back, so a successful write in one cell
never changes the state another cell sees.

Expected statuses: a number, or ``302 login`` (to the log-in page), ``302 admin login`` (to
the admin's log-in page), ``302`` (any other redirect: the action's result).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLES = ("anonymous", "owner", "other", "interviewer", "admin")
ROLE_HEADINGS = ("anonymous", "candidate (owner)", "another candidate", "interviewer",
                 "admin")
DOC = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"
SLUG = "food-delivery-time"


@dataclass(frozen=True)
class Row:
    name: str  # URL name, with its namespace
    method: str
    expect: tuple[str, str, str, str, str]  # per role, in ROLES order
    target: str  # what the URL points at, in words (for the document)


def row(name: str, method: str, expect: str, target: str = "") -> Row:
    values = tuple(expect.split(" | "))
    assert len(values) == len(ROLES), (name, method, values)
    return Row(name, method, values, target)  # type: ignore[arg-type]


LOGIN = "302 login"
ALL_405 = "405 | 405 | 405 | 405 | 405"

TABLE: list[Row] = [
    # --- site (mlsd_site/urls.py) ---------------------------------------------------------
    row("home", "GET", "200 | 200 | 200 | 200 | 200", "the catalogue"),
    row("signup", "GET", "200 | 302 | 302 | 302 | 302", "sign-up form"),
    row("signup", "POST", "200 | 302 | 302 | 302 | 302", "an empty form: errors for anonymous"),
    row("verify_resend", "GET", "200 | 302 | 302 | 302 | 302",
        "check your e-mail; ask for a new verification link"),
    row("verify_resend", "POST", "302 | 302 | 302 | 302 | 302",
        "send a new link (the same answer for any address)"),
    row("verify_email", "GET", "200 | 302 | 302 | 302 | 302",
        "a pending account's verification link: the confirm button"),
    row("verify_email", "POST", "302 | 302 | 302 | 302 | 302",
        "confirm: activates the pending account and logs it in"),
    row("login", "GET", "200 | 302 | 302 | 302 | 302", "log-in form"),
    row("login", "POST", "200 | 302 | 302 | 302 | 302", "wrong password: errors for anonymous"),
    row("logout", "GET", ALL_405, "POST only"),
    row("logout", "POST", "302 | 302 | 302 | 302 | 302", "log out"),
    row("healthz", "GET", "200 | 200 | 200 | 200 | 200", "liveness"),
    row("api_tokens", "GET", f"{LOGIN} | 200 | 200 | 200 | 200", "one's personal access tokens"),
    row("api_tokens", "POST", f"{LOGIN} | 200 | 200 | 200 | 200",
        "make a token (its secret is shown once, in this answer)"),
    row("api_token_revoke", "GET", f"{LOGIN} | 405 | 405 | 405 | 405",
        "POST only (log-in checked first)"),
    row("api_token_revoke", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "revoke one's own token"),
    # --- the JSON API and the mlsd command line (grading/api/) -----------------------------
    # The api: rows send each role's own token (read and submit) instead of a session: the
    # API takes no cookies. Anonymous sends none.
    row("api_docs", "GET", "200 | 200 | 200 | 200 | 200",
        "the API page: notebook example, command line, endpoints from the schema"),
    row("api_cli", "GET", "200 | 200 | 200 | 200 | 200", "the mlsd.pyz command line"),
    row("api_cli_wheel", "GET", "200 | 200 | 200 | 200 | 200", "the mlsd wheel (pip install)"),
    row("api:openapi-json", "GET", "200 | 200 | 200 | 200 | 200", "the OpenAPI schema"),
    row("api:api-root", "GET", "404 | 404 | 404 | 404 | 404",
        "the API's root: nothing there (its page is /api/)"),
    row("api:me", "GET", "401 | 200 | 200 | 200 | 200", "who the token acts as"),
    row("api:case_studies", "GET", "401 | 200 | 200 | 200 | 200", "the case studies"),
    row("api:case_study", "GET", "401 | 200 | 200 | 200 | 200", "a case study's model contract"),
    row("api:training_file", "GET", "401 | 200 | 200 | 200 | 200", "training data download"),
    row("api:submission_create", "GET", ALL_405, "POST only"),
    row("api:submission_create", "POST", "401 | 422 | 422 | 403 | 403",
        "upload a model (candidates; a file that is no model: refused, no quota used)"),
    row("api:submissions", "GET", "401 | 200 | 200 | 200 | 200", "one's own submissions"),
    row("api:submission", "GET", "401 | 200 | 404 | 200 | 200",
        "the owner's submission: status and scores as its page"),
    row("api:leaderboard", "GET", "401 | 200 | 200 | 200 | 200", "a leaderboard's ranking"),
    row("admin:index", "GET",
        "302 admin login | 302 admin login | 302 admin login | 302 admin login | 200",
        "Django admin (staff only)"),
    row("admin:login", "GET", "200 | 200 | 200 | 200 | 302", "admin log-in"),
    row("admin:interviews_grade_changelist", "GET",
        "302 admin login | 302 admin login | 302 admin login | 302 admin login | 200",
        "grades in the admin, read-only"),
    row("admin:interviews_interviewsession_changelist", "GET",
        "302 admin login | 302 admin login | 302 admin login | 302 admin login | 200",
        "sessions in the admin, read-only"),
    # --- interviews: catalogue and sessions -----------------------------------------------
    row("interviews:case_study", "GET", "200 | 200 | 200 | 200 | 200", "a published case study"),
    row("interviews:session_start", "GET", ALL_405, "POST only"),
    row("interviews:session_start", "POST", f"{LOGIN} | 302 | 302 | 403 | 403",
        "start an interview (candidates only)"),
    row("interviews:session_list", "GET", f"{LOGIN} | 200 | 200 | 200 | 200",
        "one's own sessions"),
    row("interviews:session", "GET", f"{LOGIN} | 200 | 404 | 404 | 404",
        "the owner's running session"),
    row("interviews:answer_save", "GET", ALL_405, "POST only"),
    row("interviews:answer_save", "POST", f"{LOGIN} | 200 | 404 | 404 | 404",
        "autosave: nobody but the candidate edits answers"),
    row("interviews:answer_preview", "GET", ALL_405, "POST only"),
    row("interviews:answer_preview", "POST", f"{LOGIN} | 200 | 404 | 404 | 404",
        "the Markdown preview of the editor's text"),
    row("interviews:session_focus", "GET", ALL_405, "POST only"),
    row("interviews:session_focus", "POST", f"{LOGIN} | 200 | 404 | 404 | 404", "heartbeat"),
    row("interviews:question_ask", "GET", ALL_405, "POST only"),
    row("interviews:question_ask", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "ask a clarifying question"),
    row("interviews:session_submit", "GET", ALL_405, "POST only"),
    row("interviews:session_submit", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "submit early"),
    row("interviews:session_review", "GET", f"{LOGIN} | 200 | 404 | 404 | 404",
        "review with the released feedback"),
    # --- interviews: live interviews (interviews/live/urls.py) -------------------------------
    row("live:open", "GET", ALL_405, "POST only"),
    row("live:open", "POST", f"{LOGIN} | 302 | 302 | 403 | 403",
        "open a live room for a case study (candidates only)"),
    row("live:join", "GET", f"{LOGIN} | 403 | 403 | 200 | 200",
        "an invite link: what it is for, and a Join button (interviewers only)"),
    row("live:join", "POST", f"{LOGIN} | 403 | 403 | 302 | 302",
        "join a waiting room with its invite (once; interviewers only)"),
    row("live:room", "GET", f"{LOGIN} | 200 | 404 | 302 | 404",
        "the candidate's live interview page (its interviewer goes to the console)"),
    row("live:console", "GET", f"{LOGIN} | 404 | 404 | 200 | 404",
        "the interviewer's console, with the guide and notes (the room's interviewer only)"),
    row("live:invite", "GET", ALL_405, "POST only"),
    row("live:invite", "POST", f"{LOGIN} | 200 | 404 | 404 | 404",
        "make a single-use invite link for a waiting room (its candidate)"),
    row("live:claim", "GET", ALL_405, "POST only"),
    row("live:claim", "POST", f"{LOGIN} | 404 | 404 | 302 | 302",
        "claim a waiting room from the queue (interviewers)"),
    row("live:assign", "GET", ALL_405, "POST only"),
    row("live:assign", "POST", f"{LOGIN} | 404 | 404 | 403 | 302",
        "give a waiting room its interviewer (admins only)"),
    row("live:presence", "GET", ALL_405, "POST only"),
    row("live:presence", "POST", f"{LOGIN} | 204 | 404 | 204 | 404",
        "joined / left the room (its two people)"),
    row("live:start", "GET", ALL_405, "POST only"),
    row("live:start", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "start the clock (the room's interviewer)"),
    row("live:end", "GET", ALL_405, "POST only"),
    row("live:end", "POST", f"{LOGIN} | 409 | 404 | 302 | 404",
        "end the interview (its interviewer; the candidate only while waiting)"),
    row("live:question", "GET", ALL_405, "POST only"),
    row("live:question", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "type a clarifying question (the candidate)"),
    row("live:answer", "GET", ALL_405, "POST only"),
    row("live:answer", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "answer the candidate's question (the interviewer)"),
    row("live:follow_up", "GET", ALL_405, "POST only"),
    row("live:follow_up", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "post a follow-up on a step (the interviewer)"),
    row("live:follow_up_save", "GET", ALL_405, "POST only"),
    row("live:follow_up_save", "POST", f"{LOGIN} | 200 | 404 | 404 | 404",
        "autosave of a follow-up's answer (the candidate)"),
    row("live:requirement_change", "GET", ALL_405, "POST only"),
    row("live:requirement_change", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "announce a requirement change (the interviewer)"),
    row("live:note", "GET", ALL_405, "POST only"),
    row("live:note", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "a private note (the interviewer; never shown to the candidate)"),
    row("live:time_check", "GET", ALL_405, "POST only"),
    row("live:time_check", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "tell the candidate the time left (the interviewer)"),
    row("live:events", "GET", f"{LOGIN} | 200 | 404 | 200 | 404",
        "the room's event log after a seq, as JSON (notes for the interviewer only)"),
    row("live:answers", "GET", f"{LOGIN} | 404 | 404 | 200 | 404",
        "the candidate's saved answers and clock, as JSON (the console's catch-up)"),
    # --- interviews: scheduling (interviews/scheduling/urls.py) ----------------------------
    # A booking of the owner's with the interviewer (in two days: not yet joinable), and
    # another open slot of the interviewer's.
    row("scheduling:home", "GET", f"{LOGIN} | 200 | 200 | 200 | 200",
        "one's schedule: upcoming bookings, time zone, record (interviewers: availability)"),
    row("scheduling:time_zone", "GET", f"{LOGIN} | 405 | 405 | 405 | 405", "POST only"),
    row("scheduling:time_zone", "POST", f"{LOGIN} | 302 | 302 | 302 | 302",
        "set one's own time zone"),
    row("scheduling:availability_add", "GET", f"{LOGIN} | 405 | 405 | 405 | 405", "POST only"),
    row("scheduling:availability_add", "POST", f"{LOGIN} | 302 | 302 | 302 | 302",
        "publish a window (interviewers: interview slots; candidates: peer slots)"),
    row("scheduling:availability_withdraw", "GET", f"{LOGIN} | 405 | 405 | 405 | 405",
        "POST only"),
    row("scheduling:availability_withdraw", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "withdraw one's own window"),
    row("scheduling:book", "GET", f"{LOGIN} | 200 | 200 | 403 | 403",
        "open interview slots (candidates)"),
    row("scheduling:book", "POST", f"{LOGIN} | 302 | 302 | 403 | 403", "book an open slot"),
    row("scheduling:booking", "GET", f"{LOGIN} | 200 | 404 | 200 | 404",
        "a booking's page (its candidate and its interviewer)"),
    row("scheduling:booking_cancel", "GET", f"{LOGIN} | 405 | 405 | 405 | 405", "POST only"),
    row("scheduling:booking_cancel", "POST", f"{LOGIN} | 302 | 404 | 302 | 404",
        "cancel the booking (either of its two people)"),
    row("scheduling:booking_move", "GET", f"{LOGIN} | 405 | 405 | 405 | 405", "POST only"),
    row("scheduling:booking_move", "POST", f"{LOGIN} | 302 | 404 | 302 | 404",
        "move the booking to another slot (its candidate; the interviewer is told no)"),
    row("scheduling:booking_join", "GET", f"{LOGIN} | 405 | 405 | 405 | 405", "POST only"),
    row("scheduling:booking_join", "POST", f"{LOGIN} | 302 | 404 | 302 | 404",
        "join at the time (before it: back to the booking with when it opens)"),
    # A peer mock the owner made and the other candidate accepted; turn 1 (the other
    # interviewing the owner) is over.
    row("scheduling:peer_list", "GET", f"{LOGIN} | 200 | 200 | 403 | 403",
        "one's peer mocks and the invite form (candidates)"),
    row("scheduling:peer_list", "POST", f"{LOGIN} | 200 | 200 | 403 | 403",
        "make a peer invite link (shown once, in this answer)"),
    row("scheduling:peer_join", "GET", f"{LOGIN} | 200 | 200 | 200 | 200",
        "a peer invite link: what it is, and an Accept button"),
    row("scheduling:peer_join", "POST", f"{LOGIN} | 302 | 302 | 302 | 302",
        "accept (candidates; others are told why not)"),
    row("scheduling:peer", "GET", f"{LOGIN} | 200 | 200 | 404 | 404",
        "a peer mock's page (its two candidates)"),
    row("scheduling:peer_turn", "GET", f"{LOGIN} | 405 | 405 | 405 | 405", "POST only"),
    row("scheduling:peer_turn", "POST", f"{LOGIN} | 302 | 302 | 404 | 404",
        "open the next turn's live room (either of the two)"),
    row("scheduling:peer_feedback", "GET", f"{LOGIN} | 404 | 200 | 404 | 404",
        "the peer scorecard form (the turn's peer interviewer, once it is over)"),
    row("scheduling:peer_feedback", "POST", f"{LOGIN} | 404 | 302 | 404 | 404",
        "save or send the peer scorecard"),
    row("scheduling:peer_rate", "GET", f"{LOGIN} | 405 | 405 | 405 | 405", "POST only"),
    row("scheduling:peer_rate", "POST", f"{LOGIN} | 302 | 302 | 404 | 404",
        "rate the feedback one received (nothing to rate yet: told so)"),
    # --- interviews: scorecards (interviews/scorecards/urls.py) ----------------------------
    row("scorecards:queue", "GET", f"{LOGIN} | 403 | 403 | 200 | 200", "the queue"),
    row("scorecards:calibration", "GET", f"{LOGIN} | 403 | 403 | 200 | 200",
        "agreement between interviewers"),
    row("scorecards:session", "GET", f"{LOGIN} | 404 | 404 | 200 | 200",
        "the scorecard page of a session being graded"),
    row("scorecards:replay", "GET", f"{LOGIN} | 404 | 404 | 200 | 200",
        "the session on a timeline"),
    row("scorecards:claim", "GET", ALL_405, "POST only"),
    row("scorecards:claim", "POST", f"{LOGIN} | 404 | 404 | 302 | 302",
        "claim an unclaimed session"),
    row("scorecards:unclaim", "GET", ALL_405, "POST only"),
    row("scorecards:unclaim", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "give one's own draft back"),
    row("scorecards:assign", "GET", ALL_405, "POST only"),
    row("scorecards:assign", "POST", f"{LOGIN} | 404 | 404 | 403 | 302",
        "assign a grader (admins only)"),
    row("scorecards:unassign", "GET", ALL_405, "POST only"),
    row("scorecards:unassign", "POST", f"{LOGIN} | 404 | 404 | 403 | 302",
        "take a draft slot back (admins only)"),
    row("scorecards:graders_required", "GET", ALL_405, "POST only"),
    row("scorecards:graders_required", "POST", f"{LOGIN} | 404 | 404 | 403 | 302",
        "ask for two graders (admins only)"),
    row("scorecards:release", "GET", ALL_405, "POST only"),
    row("scorecards:release", "POST", f"{LOGIN} | 404 | 404 | 302 | 302",
        "release feedback (its graders, admins)"),
    row("scorecards:grade_save", "GET", ALL_405, "POST only"),
    row("scorecards:grade_save", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "autosave one's own draft"),
    row("scorecards:grade_submit", "GET", ALL_405, "POST only"),
    row("scorecards:grade_submit", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "submit one's own grade"),
    row("scorecards:evidence_add", "GET", ALL_405, "POST only"),
    row("scorecards:evidence_add", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "quote the answer in one's own draft"),
    row("scorecards:evidence_remove", "GET", ALL_405, "POST only"),
    row("scorecards:evidence_remove", "POST", f"{LOGIN} | 404 | 404 | 302 | 404",
        "remove a quote from one's own draft"),
    row("legacy_grading", "GET", "301 | 301 | 301 | 301 | 301",
        "an old /grading/... address: moved to /scorecards/..."),
    row("legacy_grading", "POST", "308 | 308 | 308 | 308 | 308",
        "an old /grading/... form: 308 keeps the method; the new URL checks who may"),
    # --- grading: model submissions (grading/urls.py) --------------------------------------
    row("grading:training_file", "GET", f"{LOGIN} | 200 | 200 | 200 | 200",
        "training data download"),
    row("grading:validator", "GET", f"{LOGIN} | 200 | 200 | 200 | 200", "validator download"),
    row("grading:submit", "GET", f"{LOGIN} | 200 | 200 | 404 | 404", "upload page"),
    row("grading:submit", "POST", f"{LOGIN} | 422 | 422 | 404 | 404",
        "an upload without a file: refused"),
    row("grading:leaderboard", "GET", f"{LOGIN} | 200 | 200 | 200 | 200",
        "leaderboard of a round that is not public"),
    row("grading:standings", "GET", f"{LOGIN} | 404 | 404 | 200 | 200",
        "model rank beside released verdicts (interviewers only)"),
    row("grading:submission", "GET", f"{LOGIN} | 200 | 404 | 200 | 200",
        "the owner's submission"),
    row("grading:submission_status", "GET", f"{LOGIN} | 200 | 404 | 200 | 200",
        "its live status"),
    row("grading:submission_pin", "GET", f"{LOGIN} | 405 | 405 | 405 | 405",
        "POST only (log-in checked first)"),
    row("grading:submission_pin", "POST", f"{LOGIN} | 409 | 404 | 404 | 404",
        "pin (the owner only; 409: not scored yet)"),
    row("grading:claims_step", "GET", f"{LOGIN} | 302 | 404 | 404 | 404",
        "a step's design claims and verdicts: the editor's htmx panel (the candidate; "
        "without htmx, back to the page)"),
    row("grading:claims_step", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "add a design claim to step 2, 3 or 4 of one's own session"),
    row("grading:claim_edit", "GET", ALL_405, "POST only"),
    row("grading:claim_edit", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "change one's own design claim"),
    row("grading:claim_delete", "GET", ALL_405, "POST only"),
    row("grading:claim_delete", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "delete one's own design claim"),
    row("grading:session_model_link", "GET", ALL_405, "POST only"),
    row("grading:session_model_link", "POST", f"{LOGIN} | 302 | 404 | 404 | 404",
        "link (or unlink) one's own session to one's own scored submission"),
]


# --- the URLconf ------------------------------------------------------------------------------


def url_patterns() -> dict[str, str]:
    """Every named URL of the site (admin ones included) -> its route, e.g.
    ``{"interviews:session": "/sessions/<int:session_id>/"}``."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.setdefault(namespace + pattern.name, "/" + route.lstrip("^"))
            elif isinstance(pattern, URLPattern):
                found.setdefault(f"{namespace}<unnamed {route}>", "/" + route)

    walk(get_resolver().url_patterns, "", "")
    return found


def render_markdown() -> str:
    """docs/permissions.md, from TABLE and the URLconf."""
    routes = url_patterns()
    lines = [
        "# Permissions",
        "",
        "Who may do what, URL by URL. **Generated** from the table in",
        "`tests/test_permission_matrix.py`, which requests every cell and fails",
        "when the site answers otherwise, when this file differs from the table, or when a",
        "URL pattern has no row. To change it, edit the table and run",
        "`.venv/bin/python -m tests.test_permission_matrix`.",
        "",
        "Roles: *candidate (owner)* owns the sessions and the submission the URLs point at;",
        "*another candidate* is any other candidate; *interviewer* grades the owner's",
        "sessions (one draft grade, one submitted); *admin* is in the Admins group. The",
        "Django admin is listed by its entry points; its other pages need staff status and",
        "the model permissions of `mlsd_site/roles.py`.",
        "",
        "Statuses: `302 login` is a redirect to the log-in page; `302` is the action's own",
        "redirect; `404` means the object is not shown to that user at all (never a 403 that",
        "would confirm it exists); `403` is a page or action the role may not use. Every",
        "POST also needs the CSRF token: without it, the same cells answer 403 (tested).",
        "",
        f"| URL | name | method | {' | '.join(ROLE_HEADINGS)} | what |",
        f"| --- | --- | --- | {' | '.join('---' for _ in ROLES)} | --- |",
    ]
    for item in TABLE:
        route = routes.get(item.name, "?")
        cells = " | ".join(f"`{value}`" for value in item.expect)
        lines.append(f"| `{route}` | `{item.name}` | {item.method} | {cells} | {item.target} |")
    return "\n".join(lines) + "\n"


# --- the world the requests run against -------------------------------------------------------


@dataclass
class World:
    users: dict[str, object]
    case_slug: str
    active: object  # the owner's running session
    unclaimed: object  # submitted, nobody grades it yet
    draft: object  # the interviewer holds a draft grade (with a quote)
    done: object  # the interviewer submitted; not released
    released: object  # graded and released
    quote_id: int
    submission_uuid: str
    verification_token: str  # of a pending account, waiting for its e-mail to be confirmed
    live_room: int = 0  # running: the owner with the interviewer, a question and a follow-up
    live_waiting: int = 0  # the owner's room waiting for an interviewer, with an invite
    live_question_seq: int = 0
    live_follow_up: int = 0
    live_invite_token: str = ""
    claim_id: int = 0  # a design claim on step 2 of the owner's running session
    booking_id: int = 0  # the owner's booking with the interviewer
    availability_id: int = 0  # the interviewer's weekly window
    free_slot_id: int = 0  # an open slot of that window
    peer_mock_id: int = 0  # the owner's peer mock with the other candidate
    peer_token: str = ""  # its invite link's token


def build_world(tiny_dataset) -> World:
    from grading.tests.factories import SubmissionFactory
    from interviews.models import CaseStudy
    from interviews.scorecards import services
    from interviews.tests.factories import (
        admin_user,
        candidate,
        graded,
        interviewer,
        released,
        start_session,
        submitted_session,
    )
    from mlsd_site.accounts import account_signup, verification_token

    dataset, _ = tiny_dataset(SLUG)
    case = CaseStudy.objects.get(slug="ad-click-prediction")
    owner = candidate(username="owner")
    users = {"anonymous": None, "owner": owner, "other": candidate(username="other"),
             "interviewer": interviewer(username="grader"), "admin": admin_user(username="boss")}
    grader = users["interviewer"]
    from mlsd_site.tokens import token_create

    for user in (u for u in users.values() if u is not None):  # the api: rows' tokens
        made = token_create(user=user, name="matrix", scopes=["read", "submit"], days=30)
        user.api_secret, user.api_token_id = made.secret, made.token.pk
    # The running session is of another case study: starting one of the same case study
    # would return it.
    active = start_session(candidate_user=owner,
                           case_study=CaseStudy.objects.get(slug="feed-ranking"))
    unclaimed = submitted_session(candidate_user=owner, case_study=case)
    draft = submitted_session(candidate_user=owner, case_study=case)
    graded(draft, grader, {1: 3}, submit=False)
    quote = services.evidence_add(grade=draft.grades.get(), step_number=2,
                                  text="normalized entropy")
    done = submitted_session(candidate_user=owner, case_study=case)
    graded(done, grader, dict.fromkeys(range(1, 8), 3))
    done_released = submitted_session(candidate_user=owner, case_study=case)
    graded(done_released, grader, dict.fromkeys(range(1, 8), 3))
    released(done_released)
    submission = SubmissionFactory(case_study=dataset.case_study, candidate=owner)
    from grading.services.claims import ClaimInput, claim_add

    claim = claim_add(candidate=owner, session=active, step_number=2,
                      data=ClaimInput(kind="model_size", value=20))
    # Live rooms: a running one of a case study with no session running (the scorecard
    # sessions above are submitted), a waiting one of another.
    from interviews.live import services as live

    room, _ = live.room_open(candidate=owner, case_study=case)
    live.room_claim(room_id=room.pk, interviewer=grader)
    room = live.room_start(room=room, interviewer=grader)
    question = live.question_post(room=room, candidate=owner, text="How many users?")
    follow_up = live.follow_up_post(room=room, interviewer=grader, step_number=1, text="Why?")
    waiting, _ = live.room_open(candidate=owner,
                                case_study=CaseStudy.objects.get(slug="video-recommendation"))
    invite = live.invite_create(room=waiting, candidate=owner)
    pending = account_signup(username="pending", email="pending@example.com",
                             password="a-long-unusual-pass-42")
    return World(users=users, case_slug=SLUG, active=active, unclaimed=unclaimed, draft=draft,
                 done=done, released=done_released, quote_id=quote.pk,
                 submission_uuid=str(submission.uuid),
                 verification_token=verification_token(pending),
                 live_room=room.pk, live_waiting=waiting.pk, live_question_seq=question.seq,
                 live_follow_up=follow_up.pk, live_invite_token=invite.token,
                 claim_id=claim.pk, **scheduling_world(owner=owner, host=grader, case=case))


def scheduling_world(*, owner, host, case) -> dict:
    """The interviewer's weekly window two days from now, and the owner's booking of its
    first slot."""
    from datetime import time, timedelta

    from django.utils import timezone

    from interviews.scheduling import services as scheduling

    day = timezone.now() + timedelta(days=2)
    window = scheduling.availability_publish(owner=host, window=scheduling.WindowInput(
        kind="interview", weekday=day.weekday(), start_time=time(9, 0), end_time=time(12, 0),
        time_zone="UTC"))
    first, free = window.slots.order_by("starts_at")[:2]
    booking = scheduling.booking_create(candidate=owner, slot_id=first.pk, case_study=case,
                                        notify=False)
    from django.contrib.auth import get_user_model

    from interviews.models import CaseStudy
    from interviews.scheduling import peers

    # Case studies no live room of the world's uses: a turn opens a room of its own.
    invite = peers.peer_invite_create(
        user=owner, first_case_study=CaseStudy.objects.get(slug="rental-search-ranking"),
        second_case_study=CaseStudy.objects.get(slug="food-delivery-time"))
    partner = get_user_model().objects.get(username="other")
    peers.peer_invite_accept(token=invite.token, user=partner)
    from interviews.live import services as live

    # Turn 1 is over: the other candidate interviewed the owner and may write the scorecard.
    room = peers.peer_turn_open(user=owner, peer_mock_id=invite.peer_mock.pk)
    live.room_end(room=live.room_start(room=room, interviewer=partner), user=partner)
    return {"booking_id": booking.pk, "availability_id": window.pk, "free_slot_id": free.pk,
            "peer_mock_id": invite.peer_mock.pk, "peer_token": invite.token}


def grade_form(levels: dict | None = None) -> dict:
    data = {"revision": "1"}
    for step in range(1, 8):
        data[f"step-{step}-level"] = str((levels or {}).get(step, ""))
        data[f"step-{step}-comment"] = ""
    return data


def request_for(name: str, world: World) -> tuple[dict, dict]:
    """URL kwargs and POST data for a row."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    grader_id = world.users["interviewer"].pk
    live = {"room_id": world.live_room}
    waiting = {"room_id": world.live_waiting}
    from interviews.models import CaseStudy

    case_pk = CaseStudy.objects.get(slug="ad-click-prediction").pk
    targets = {
        "interviews:case_study": ({"slug": world.case_slug}, {}),
        "interviews:session_start": ({"slug": world.case_slug}, {}),
        "interviews:session": ({"session_id": world.active.pk}, {}),
        "interviews:answer_save": ({"session_id": world.active.pk, "step": 1},
                                   {"text": "An answer.", "base_version": "0"}),
        "interviews:answer_preview": ({"session_id": world.active.pk},
                                      {"text": "An **answer**."}),
        "interviews:session_focus": ({"session_id": world.active.pk}, {"step": "1"}),
        "interviews:question_ask": ({"session_id": world.active.pk},
                                    {"text": "Is latency a hard limit?"}),
        "interviews:session_submit": ({"session_id": world.active.pk}, {}),
        "interviews:session_review": ({"session_id": world.released.pk}, {}),
        "scorecards:session": ({"session_id": world.draft.pk}, {}),
        "scorecards:replay": ({"session_id": world.draft.pk}, {}),
        "scorecards:claim": ({"session_id": world.unclaimed.pk}, {}),
        "scorecards:unclaim": ({"session_id": world.draft.pk}, {}),
        "scorecards:assign": ({"session_id": world.unclaimed.pk},
                                      {"grader": str(grader_id)}),
        "scorecards:unassign": ({"session_id": world.draft.pk,
                                         "grader_id": grader_id}, {}),
        "scorecards:graders_required": ({"session_id": world.unclaimed.pk},
                                                {"count": "2"}),
        "scorecards:release": ({"session_id": world.done.pk}, {}),
        "scorecards:grade_save": ({"session_id": world.draft.pk}, grade_form({1: 4})),
        "scorecards:grade_submit": ({"session_id": world.draft.pk},
                                    grade_form(dict.fromkeys(range(1, 8), 3))),
        "scorecards:evidence_add": ({"session_id": world.draft.pk},
                                          {"step": "2", "quote": "log loss"}),
        "scorecards:evidence_remove": ({"session_id": world.draft.pk,
                                              "quote_id": world.quote_id}, {}),
        "legacy_grading": ({"rest": f"sessions/{world.draft.pk}/"}, {}),
        "live:open": ({"slug": world.case_slug}, {}),
        "live:join": ({"token": world.live_invite_token}, {}),
        "live:room": (live, {}),
        "live:console": (live, {}),
        "live:invite": (waiting, {}),
        "live:claim": (waiting, {}),
        "live:assign": (waiting, {"interviewer": str(grader_id)}),
        "live:presence": (live, {"present": "1"}),
        "live:start": (live, {}),
        "live:end": (live, {}),
        "live:question": (live, {"text": "Is it global?"}),
        "live:answer": (live, {"question_seq": str(world.live_question_seq),
                               "text": "Ten million."}),
        "live:follow_up": (live, {"step": "2", "text": "And offline?"}),
        "live:follow_up_save": ({**live, "follow_up_id": world.live_follow_up},
                                {"text": "Because.", "base_version": "0"}),
        "live:requirement_change": (live, {"text": "Twice the traffic."}),
        "live:note": (live, {"text": "Clear so far."}),
        "live:time_check": (live, {}),
        "live:events": (live, {}),
        "live:answers": (live, {}),
        "grading:training_file": ({"slug": world.case_slug, "name": "train.csv"}, {}),
        "grading:validator": ({"slug": world.case_slug}, {}),
        "grading:submit": ({"slug": world.case_slug}, {"note": "no file"}),
        "grading:leaderboard": ({"slug": world.case_slug}, {}),
        "grading:standings": ({"slug": world.case_slug}, {}),
        "grading:submission": ({"submission_uuid": world.submission_uuid}, {}),
        "grading:submission_status": ({"submission_uuid": world.submission_uuid}, {}),
        "grading:submission_pin": ({"submission_uuid": world.submission_uuid}, {}),
        "grading:claims_step": ({"session_id": world.active.pk, "step": 2},
                                {"kind": "model_size", "value": "5"}),
        "grading:claim_edit": ({"session_id": world.active.pk, "step": 2,
                                "claim_id": world.claim_id},
                               {"kind": "model_size", "value": "12"}),
        "grading:claim_delete": ({"session_id": world.active.pk, "step": 2,
                                  "claim_id": world.claim_id}, {}),
        "grading:session_model_link": ({"session_id": world.active.pk}, {"action": "unlink"}),
        "scheduling:time_zone": ({}, {"time_zone": "Europe/Berlin"}),
        "scheduling:availability_add": ({}, {"repeats": "weekly", "weekday": "2",
                                             "start_time": "14:00", "end_time": "16:00",
                                             "slot_minutes": "60"}),
        "scheduling:availability_withdraw": ({"availability_id": world.availability_id}, {}),
        "scheduling:book": ({}, {"slot": str(world.free_slot_id), "case_study": str(case_pk)}),
        "scheduling:booking": ({"booking_id": world.booking_id}, {}),
        "scheduling:booking_cancel": ({"booking_id": world.booking_id}, {}),
        "scheduling:booking_move": ({"booking_id": world.booking_id},
                                    {"slot": str(world.free_slot_id)}),
        "scheduling:booking_join": ({"booking_id": world.booking_id}, {}),
        "scheduling:peer_list": ({}, {"first_case_study": str(case_pk),
                                      "second_case_study": str(
                                          CaseStudy.objects.get(slug="feed-ranking").pk)}),
        "scheduling:peer_join": ({"token": world.peer_token}, {}),
        "scheduling:peer": ({"peer_mock_id": world.peer_mock_id}, {}),
        "scheduling:peer_turn": ({"peer_mock_id": world.peer_mock_id}, {}),
        "scheduling:peer_feedback": ({"peer_mock_id": world.peer_mock_id, "turn": 1},
                                     {"went_well": "Clear.", "action": "save"}),
        "scheduling:peer_rate": ({"peer_mock_id": world.peer_mock_id, "turn": 1},
                                 {"usefulness": "4"}),
        "api_tokens": ({}, {"name": "another", "scope": "read", "days": "30"}),
        "api_token_revoke": ({"token_id": world.users["owner"].api_token_id}, {}),
        "api:case_study": ({"slug": world.case_slug}, {}),
        "api:training_file": ({"slug": world.case_slug, "name": "train.csv"}, {}),
        "api:submission_create": ({"slug": world.case_slug},
                                  {"artifact": SimpleUploadedFile("model.onnx", b"no model")}),
        "api:submission": ({"submission_uuid": world.submission_uuid}, {}),
        "api:leaderboard": ({"slug": world.case_slug}, {}),
        "signup": ({}, {}),
        "verify_resend": ({}, {"email": "nobody@example.com"}),
        "verify_email": ({"token": world.verification_token}, {}),
        "login": ({}, {"username": "owner", "password": "wrong password"}),
    }
    return targets.get(name, ({}, {}))


def check(response, expected: str) -> bool:
    status, _, kind = expected.partition(" ")
    if response.status_code != int(status):
        return False
    location = response.headers.get("Location", "")
    if kind == "login":
        return location.startswith("/accounts/login/")
    if kind == "admin login":
        return location.startswith("/admin/login/")
    if status == "302":
        return not location.startswith(("/accounts/login/", "/admin/login/"))
    return True


def describe(response) -> str:
    location = response.headers.get("Location", "")
    return f"{response.status_code}{' -> ' + location if location else ''}"


# --- the tests --------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def urls_without_a_row() -> list[str]:
    """Named URLs of the URLconf (outside the Django admin) that TABLE does not cover."""
    covered = {item.name for item in TABLE}
    return sorted(name for name in url_patterns()
                  if not name.startswith("admin:") and name not in covered)


def test_every_url_pattern_has_a_row():
    covered = {item.name for item in TABLE}
    missing = urls_without_a_row()
    assert missing == [], f"add these URLs to the permission matrix: {missing}"
    assert any(name.startswith("admin:") for name in covered)
    unknown = sorted(covered - set(url_patterns()))
    assert unknown == [], f"rows for URLs that do not exist: {unknown}"
    # Every URL is tried with GET.
    assert {item.name for item in TABLE if item.method == "GET"} == covered


def test_a_new_url_without_a_row_is_caught(settings):
    import sys
    import types

    from django.http import HttpResponse
    from django.urls import include, path

    before = set(urls_without_a_row())
    urlconf = types.ModuleType("permission_matrix_extra_urls")
    urlconf.urlpatterns = [
        path("", include("mlsd_site.urls")),
        path("reports/", lambda request: HttpResponse(), name="reports"),
        path("raw/", lambda request: HttpResponse()),
    ]
    sys.modules[urlconf.__name__] = urlconf
    try:
        settings.ROOT_URLCONF = urlconf.__name__
        assert set(urls_without_a_row()) - before == {"<unnamed raw/>", "reports"}
    finally:
        del sys.modules[urlconf.__name__]


def test_the_document_is_the_table():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/permissions.md is out of date: run "
        "`.venv/bin/python -m tests.test_permission_matrix`")


def test_permission_matrix(client, catalogue, tiny_dataset):
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse

    world = build_world(tiny_dataset)
    wrong = []
    for item in TABLE:
        kwargs, data = request_for(item.name, world)
        url = reverse(item.name, kwargs=kwargs)
        for role, expected in zip(ROLES, item.expect, strict=True):
            with transaction.atomic():
                browser = Client()
                headers = {}
                if item.name.startswith("api:") and world.users[role] is not None:
                    headers = {"Authorization": f"Bearer {world.users[role].api_secret}"}
                elif world.users[role] is not None:
                    browser.force_login(world.users[role])
                response = (browser.post(url, data, headers=headers) if item.method == "POST"
                            else browser.get(url, headers=headers))
                if not check(response, expected):
                    wrong.append(f"{item.method} {url} as {role}: expected {expected}, "
                                 f"got {describe(response)}")
                transaction.set_rollback(True)
    assert wrong == [], "\n".join(wrong)


def test_every_write_needs_the_csrf_token(catalogue, tiny_dataset):
    """Each POST row, by the first role allowed to use it, without the CSRF token: 403."""
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse

    world = build_world(tiny_dataset)
    tried = 0
    for item in (item for item in TABLE if item.method == "POST"):
        kwargs, data = request_for(item.name, world)
        url = reverse(item.name, kwargs=kwargs)
        allowed = [(role, expected) for role, expected in zip(ROLES, item.expect, strict=True)
                   if expected.split(" ")[0] not in ("403", "404", "405")
                   and "login" not in expected]
        assert allowed, f"nobody may POST to {item.name}?"
        role, _ = allowed[0]
        if item.name.startswith("api:"):
            # A token in a header, never a cookie: a forged form carries no authority. The
            # session of a logged-in browser alone is refused.
            with transaction.atomic():
                browser = Client(enforce_csrf_checks=True)
                browser.force_login(world.users["owner"])
                response = browser.post(url, data)
                assert response.status_code == 401, f"{item.name}: {describe(response)}"
                transaction.set_rollback(True)
            tried += 1
            continue
        with transaction.atomic():
            browser = Client(enforce_csrf_checks=True)
            if world.users[role] is not None:
                browser.force_login(world.users[role])
            response = browser.post(url, data)
            assert response.status_code == 403, f"{item.name} as {role}: {describe(response)}"
            assert b"CSRF" in response.content
            transaction.set_rollback(True)
        tried += 1
    assert tried == sum(1 for item in TABLE if item.method == "POST")


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlsd_site.test_settings")
    django.setup()
    DOC.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {DOC}")
