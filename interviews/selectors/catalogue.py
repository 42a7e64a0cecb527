"""Reads for the catalogue: published case studies (their clarifying questions without the
answers), the current rubric and a case study's steps with their time budgets."""


from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from interviews.models import (
    CaseStudy,
    ClarifyingQuestion,
    Rubric,
    RubricStep,
)


def case_study_list_published() -> QuerySet[CaseStudy]:
    # Meta.ordering is dropped from aggregate queries, so the order is explicit here.
    return (
        CaseStudy.objects.filter(is_published=True)
        .annotate(question_count=Count("questions", distinct=True))
        .order_by("order", "title")
    )


def case_study_get_published(*, slug: str) -> CaseStudy:
    """The published case study with its budgets, questions and concepts; else Http404.

    The clarifying questions come without their answers (the column is not even read):
    this is what the public pages fetch, and an answer is revealed only in a session, one
    question at a time (``selectors.sessions``)."""
    questions = Prefetch("questions", queryset=ClarifyingQuestion.objects.defer("answer"))
    try:
        return CaseStudy.objects.prefetch_related("budgets", questions, "concepts").get(
            slug=slug, is_published=True
        )
    except CaseStudy.DoesNotExist as exc:
        raise Http404("No such case study.") from exc


def case_study_public_questions(*, case_study: CaseStudy) -> list[str]:
    """The clarifying questions of a case study fetched by ``case_study_get_published``, as
    the public page lists them: the questions only, never the answers (no query)."""
    return [question.question for question in case_study.questions.all()]


def rubric_current() -> Rubric | None:
    return (
        Rubric.objects.filter(is_current=True)
        .prefetch_related(Prefetch("steps", queryset=RubricStep.objects.order_by("number")))
        .first()
    )


def case_study_steps(*, case_study: CaseStudy, rubric: Rubric | None) -> list[dict]:
    """The six steps of ``case_study`` with the rubric text, time budget and concepts,
    using only prefetched rows."""
    if rubric is None:
        return []
    budgets = {budget.step_number: budget for budget in case_study.budgets.all()}
    concepts: dict[int, list] = {}
    for concept in case_study.concepts.all():
        concepts.setdefault(concept.step_number, []).append(concept)
    return [
        {
            "step": step,
            "budget": budgets.get(step.number),
            "concepts": concepts.get(step.number, []),
        }
        for step in rubric.scored_steps
    ]
