from django.apps import AppConfig


class MlsdSiteConfig(AppConfig):
    name = "mlsd_site"
    verbose_name = "mlsd-mock"
