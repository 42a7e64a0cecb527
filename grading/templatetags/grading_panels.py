"""Model grading's panels on pages of the interviews app: the model section of a case-study
page, the model evidence on step 4 of a scorecard, and the design claims of steps 2-4 (the
candidate's editor on the session and review pages; read-only on the scorecard and replay).

They are template tags so that the dependency runs one way: grading builds on the
interviews app's catalogue and sessions, and the interviews app's Python never imports
grading (an import contract checks it). The templates meet both apps."""

from django import template

from grading.selectors.claims import (
    SessionClaims,
    claims_panel,
    live_scenario_figures,
    session_claims,
)
from grading.selectors.datasets import model_contract
from grading.selectors.evidence import model_evidence_for_session
from interviews.models import CaseStudy, InterviewSession

register = template.Library()


@register.inclusion_tag("grading/panels.html#case-study-model", takes_context=True)
def case_study_model_panel(context: template.Context, case_study: CaseStudy) -> dict:
    """The input contract, downloads, validator and training example of ``case_study``."""
    return {
        "case_study": case_study,
        "contract": model_contract(case_study=case_study),
        "user": context.get("user"),
        "user_role": context.get("user_role"),
        "request": context.get("request"),
        "csp_nonce": context.get("csp_nonce"),
    }


@register.inclusion_tag("grading/panels.html#model-evidence")
def model_evidence_panel(session: InterviewSession) -> dict:
    """The candidate's scored submissions for the session's case study (interviewers only:
    the scorecard page is theirs)."""
    return {"evidence": model_evidence_for_session(session=session)}


@register.simple_tag
def design_claims_for(session: InterviewSession) -> SessionClaims:
    """The session's design claims, checked against its linked model: compute once per
    page (``{% design_claims_for session as claims %}``), then show each step's with
    ``claims_step_panel``."""
    return session_claims(session=session)


@register.inclusion_tag("grading/claims/panels.html#claims-step", takes_context=True)
def claims_step_panel(context: template.Context, claims: SessionClaims, step: int,
                      editable: bool = False, at_ms: int | None = None) -> dict:
    """One step's claims beside their measurements and verdicts; with the editor and, on
    step 4, the "Link a model" control when ``editable`` and the viewer is the session's
    candidate (never anyone else, whatever the page asks). ``at_ms``: only the claims made
    by then (a replay frame)."""
    user = context.get("user")
    editable = bool(editable and user is not None
                    and user.pk == claims.session.candidate_id)
    return {"panel": claims_panel(report=claims, step=int(step), editable=editable,
                                  at_ms=None if at_ms is None else int(at_ms)),
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("grading/claims/panels.html#live-scenarios", takes_context=True)
def live_scenarios_panel(context: template.Context, room) -> dict:
    """On a live interview's console (its interviewer's page): the scenario slices to
    announce as requirement changes, each with the linked model's figure on it."""
    return {"room": room,
            "scenarios": live_scenario_figures(session=room.session,
                                               case_study=room.case_study),
            "csrf_token": context.get("csrf_token")}

