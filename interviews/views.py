from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from grading import selectors as grading_selectors
from interviews import selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "interviews/home.html",
        {
            "case_studies": selectors.case_study_list_published(),
            "rubric": selectors.rubric_current(),
        },
    )


@require_GET
def case_study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    case_study = selectors.case_study_get_published(slug=slug)
    rubric = selectors.rubric_current()
    return render(
        request,
        "interviews/case_study.html",
        {
            "case_study": case_study,
            "rubric": rubric,
            "steps": selectors.case_study_steps(case_study=case_study, rubric=rubric),
            "contract": grading_selectors.model_contract(case_study=case_study),
        },
    )
