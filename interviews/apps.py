from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = "Interviews"

    def ready(self) -> None:
        # Register the Celery tasks in every process that runs Django (as grading does).
        from interviews import tasks  # noqa: F401
