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
    from interviews.services import rubric_new_version

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
    from interviews.services import session_start

    rubric_with_steps()
    case_study = case_study or CaseStudyFactory()
    if duration_seconds is not None:
        case_study.duration_seconds = duration_seconds
        case_study.save(update_fields=["duration_seconds"])
    session, _ = session_start(candidate=candidate_user or candidate(), case_study=case_study)
    return session
