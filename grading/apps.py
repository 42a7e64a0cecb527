from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Model grading"

    def ready(self) -> None:
        # Register the Celery tasks in every process that runs Django, so services can
        # enqueue a task by name without importing the tasks module (which imports them).
        from grading import checks, tasks  # noqa: F401
