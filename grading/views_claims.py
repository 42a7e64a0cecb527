"""The candidate's design-claim editor on their interview pages (the running session and the
review): add, edit and delete a claim on steps 2-4, link the session to a scored model.

Each view fetches the session through the candidate-scoped getter (another user's session
is a 404), calls one service, and answers an htmx request with the step's claims panel
(``grading/claims/panels.html#claims-step``): 200 with the new state, or 422 with the
message and the candidate's input kept. Without htmx it redirects back to the page.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from grading.forms import DesignClaimForm
from grading.selectors.claims import (
    CLAIM_STEPS,
    LINK_STEP,
    claim_get_for_session,
    claims_panel,
    session_claims,
)
from grading.services import claims as claim_services
from interviews.models import InterviewSession
from interviews.selectors.sessions import session_get_for_candidate
from mlsd_site.htmx import HtmxHttpRequest, login_required_htmx

PANEL = "grading/claims/panels.html#claims-step"


def _session(request: HtmxHttpRequest, session_id: int, step: int) -> InterviewSession:
    session = session_get_for_candidate(user=request.user, session_id=session_id)
    if step not in CLAIM_STEPS:
        raise Http404("Claims belong to steps 2, 3 and 4.")
    return session


def _form_input(request: HtmxHttpRequest) -> tuple[claim_services.ClaimInput | None, dict]:
    """The posted claim, or None with the form's errors by field."""
    form = DesignClaimForm(request.POST)
    if not form.is_valid():
        return None, {name: list(errors) for name, errors in form.errors.items()}
    data = form.cleaned_data
    return claim_services.ClaimInput(kind=data["kind"], metric=data["metric"],
                                     scenario=data["scenario"],
                                     comparator=data["comparator"], value=data["value"]), {}


def _errors(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _panel(request: HtmxHttpRequest, session: InterviewSession, step: int, *,
           errors: dict | None = None, editing: int | None = None) -> HttpResponse:
    """The step's panel: 200, or 422 with ``errors`` and the posted fields kept. Without
    htmx: back to the page, the errors as a message."""
    if not request.htmx:
        if errors:
            messages.error(request, "Claim not saved: " + " ".join(
                message for values in errors.values() for message in values))
        return redirect(f"{session.get_absolute_url()}#claims-step-{step}")
    panel = claims_panel(report=session_claims(session=session), step=step, editable=True,
                         errors=errors, editing=editing,
                         posted=request.POST.dict() if errors else None)
    return render(request, PANEL, {"panel": panel}, status=422 if errors else 200)


@require_http_methods(["GET", "POST"])
@login_required_htmx
def claims_step(request: HtmxHttpRequest, session_id: int, step: int) -> HttpResponse:
    """GET: the step's claims panel (the other steps' panels reload it when the linked
    model changes). POST: add a claim to the step."""
    session = _session(request, session_id, step)
    if request.method == "GET":
        return _panel(request, session, step)
    data, errors = _form_input(request)
    if data is not None:
        try:
            claim_services.claim_add(candidate=request.user, session=session,
                                     step_number=step, data=data)
        except ValidationError as error:
            errors = _errors(error)
    return _panel(request, session, step, errors=errors)


@require_POST
@login_required_htmx
def claim_edit(request: HtmxHttpRequest, session_id: int, step: int,
               claim_id: int) -> HttpResponse:
    session = _session(request, session_id, step)
    claim = claim_get_for_session(session=session, claim_id=claim_id, step_number=step)
    data, errors = _form_input(request)
    if data is not None:
        try:
            claim_services.claim_update(candidate=request.user, claim=claim, data=data)
        except ValidationError as error:
            errors = _errors(error)
    return _panel(request, session, step, errors=errors, editing=claim.pk)


@require_POST
@login_required_htmx
def claim_delete(request: HtmxHttpRequest, session_id: int, step: int,
                 claim_id: int) -> HttpResponse:
    session = _session(request, session_id, step)
    claim = claim_get_for_session(session=session, claim_id=claim_id, step_number=step)
    claim_services.claim_delete(candidate=request.user, claim=claim)
    return _panel(request, session, step)


@require_POST
@login_required_htmx
def session_model_link(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    """Link the session to one of the candidate's scored submissions (``submission``: its
    UUID), or unlink it (``action=unlink``). Answers with step 4's panel, which holds the
    control, and the ``claims:changed`` event, on which the other steps' panels reload."""
    session = _session(request, session_id, LINK_STEP)
    errors = None
    try:
        if request.POST.get("action") == "unlink":
            claim_services.session_model_unlink(candidate=request.user, session=session)
        else:
            claim_services.session_model_link(
                candidate=request.user, session=session,
                submission_uuid=request.POST.get("submission", "").strip())
    except ValidationError as error:
        errors = _errors(error)
    response = _panel(request, session, LINK_STEP, errors=errors)
    if request.htmx and not errors:
        response = trigger_client_event(response, "claims:changed")
    return response
