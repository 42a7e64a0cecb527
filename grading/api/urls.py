from django.urls import path

from grading.api import views
from grading.api.endpoints import api

# No app namespace here: the API's own operations are in the "api" namespace (ninja's).
urlpatterns = [
    path("", views.api_docs, name="api_docs"),
    path("mlsd.pyz", views.cli_zipapp_download, name="api_cli"),
    path(f"{views.WHEEL_NAME}", views.cli_wheel_download, name="api_cli_wheel"),
    path("v1/", api.urls),
]
