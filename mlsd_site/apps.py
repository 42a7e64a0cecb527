from django.apps import AppConfig


class MlsdSiteConfig(AppConfig):
    name = "mlsd_site"
    verbose_name = "mlsd-mock"

    def ready(self) -> None:
        from mlsd_site import ratelimit  # noqa: F401 - registers its system check
