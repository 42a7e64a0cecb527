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
