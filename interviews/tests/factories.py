import factory
from django.contrib.auth import get_user_model

from mlsd_site import roles


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if not create:
            return
        self.save()
        if extracted in (roles.INTERVIEWERS, roles.ADMINS):
            groups = roles.roles_ensure()
            self.groups.add(groups[extracted])
            if extracted == roles.ADMINS:
                self.is_staff = True
                self.save(update_fields=["is_staff"])


def candidate(**kwargs):
    return UserFactory(**kwargs)


def interviewer(**kwargs):
    return UserFactory(role=roles.INTERVIEWERS, **kwargs)


def admin_user(**kwargs):
    return UserFactory(role=roles.ADMINS, **kwargs)


# --- Catalogue and interview sessions -------------------------------------------------------

STEP_TITLES = {
    1: "Problem statement", 2: "Metrics", 3: "Requirements", 4: "Train and evaluate the model",
    5: "High-level system design", 6: "Scale the design",
}


def rubric_with_steps():
    """A current rubric with the six scored steps and communication."""
    from interviews.models import Rubric
    from interviews.services.catalogue import rubric_new_version

    current = Rubric.objects.filter(is_current=True).first()
    if current is not None:
        return current
    steps = [
        {"number": n, "slug": f"step-{n}", "title": title, "weight": "0.1",
         "default_minutes": 5, "guidance": f"Guidance for {title.lower()}.",
         "descriptors": ["weak", "mixed", "solid", "strong"]}
        for n, title in STEP_TITLES.items()
    ]
    steps.append({"number": 7, "slug": "communication", "title": "Communication",
                  "weight": "0", "default_minutes": None, "guidance": "Talk it through.",
                  "descriptors": ["weak", "mixed", "solid", "strong"]})
    return rubric_new_version(name="Test rubric", steps=steps)


class CaseStudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "interviews.CaseStudy"
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"case-{n}")
    title = factory.Sequence(lambda n: f"Case study {n}")
    summary = "Rank things for people."
    prompt = "Design a system that ranks things for people."
    task_type = "ranking"
    primary_metric = "ndcg_at_10"
    latency_budget_ms = 100
    duration_seconds = 45 * 60

    @factory.post_generation
    def catalogue(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Budgets for the six steps, two clarifying questions and a few concepts."""
        if not create:
            return
        from interviews.models import ClarifyingQuestion, Concept, StepBudget

        StepBudget.objects.bulk_create(
            StepBudget(case_study=self, step_number=n, seconds=seconds)
            for n, seconds in zip(range(1, 7), [300, 240, 360, 720, 480, 300], strict=True)
        )
        ClarifyingQuestion.objects.create(case_study=self, order=1, question="What is the scale?",
                                          answer="About 10 million daily users.")
        ClarifyingQuestion.objects.create(case_study=self, order=2,
                                          question="What is the latency budget?",
                                          answer="100 ms at the 99th percentile.")
        Concept.objects.create(case_study=self, step_number=2, name="normalized entropy",
                               synonyms=["ne", "normalised entropy"])
        Concept.objects.create(case_study=self, step_number=2, name="NDCG",
                               synonyms=["ndcg@10", "discounted cumulative gain"])
        Concept.objects.create(case_study=self, step_number=1, name="estimated time of arrival",
                               synonyms=["eta"])
        Concept.objects.create(case_study=self, step_number=5, name="feature store",
                               synonyms=["online feature store"])


def start_session(*, candidate_user=None, case_study=None, duration_seconds: int | None = None):
    """A fresh active session through the real service."""
    from interviews.services.sessions import session_start

    rubric_with_steps()
    case_study = case_study or CaseStudyFactory()
    if duration_seconds is not None:
        case_study.duration_seconds = duration_seconds
        case_study.save(update_fields=["duration_seconds"])
    session, _ = session_start(candidate=candidate_user or candidate(), case_study=case_study)
    return session


# --- Scorecards -----------------------------------------------------------------------------

SAMPLE_ANSWERS = {
    1: "Predict **p(click)** for every candidate ad: a calibrated probability.",
    2: "Offline: log loss and normalized entropy. Online: CTR in an A/B test.",
    3: "- 20 billion impressions a day\n- 80 ms p99 latency budget",
    4: "Logistic regression baseline, then a deep model; split by time to avoid leakage.",
    5: "Retrieval, then a ranking service reading from the feature store.",
    6: "Cache user features and shard the feature store.",
}


def submitted_session(*, candidate_user=None, case_study=None, answers=None,
                      diagram: str = "", graders_required: int = 1):
    """A session with answers, submitted early, through the real services."""
    from interviews.services.autosave import answer_save
    from interviews.services.sessions import session_submit

    session = start_session(candidate_user=candidate_user, case_study=case_study)
    for step, text in (SAMPLE_ANSWERS if answers is None else answers).items():
        answer_save(session=session, step_number=step, text=text, base_version=0,
                    diagram=diagram if step == 5 else "")
    session = session_submit(session=session)
    if graders_required != 1:
        session.graders_required = graders_required
        session.save(update_fields=["graders_required"])
    return session


def grade_input(levels: dict, *, comments: dict | None = None, red_flags=(), verdict: str = "",
                reason: str = "", summary: str = ""):
    """A GradeInput: ``levels`` maps steps 1-7 to 1-4 or "not_reached"."""
    from interviews.scorecards.services import GradeInput, StepInput

    comments = comments or {}
    return GradeInput(
        steps={n: StepInput(level=levels.get(n), comment=comments.get(n, ""))
               for n in range(1, 8)},
        red_flags=list(red_flags), verdict=verdict, override_reason=reason, summary=summary,
    )


def graded(session, grader, levels: dict, *, submit: bool = True, **kwargs):
    """``grader`` claims ``session`` and (by default) submits ``levels`` (steps 1-6 and,
    unless given, communication at 3)."""
    from interviews.scorecards.services import grade_claim, grade_save_draft, grade_submit

    grade, _ = grade_claim(session=session, grader=grader)
    levels = {7: 3, **levels}
    data = grade_input(levels, **kwargs)
    if submit:
        return grade_submit(grade=grade, base_revision=grade.revision, data=data)
    return grade_save_draft(grade=grade, base_revision=grade.revision, data=data)


def released(session, by=None):
    from interviews.scorecards.services import session_release_feedback

    by = by or session.grades.first().grader
    return session_release_feedback(session=session, by=by)
