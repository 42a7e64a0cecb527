"""Model grading's panels on pages of the interviews app: the model section of a case-study
page and the model evidence on step 4 of a scorecard.

They are template tags so that the dependency runs one way: grading builds on the
interviews app's catalogue and sessions, and the interviews app's Python never imports
grading (an import contract checks it). The templates meet both apps."""

from django import template

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
