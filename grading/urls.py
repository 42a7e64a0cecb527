from django.urls import path

from grading import views

app_name = "grading"

urlpatterns = [
    path("case-studies/<slug:slug>/data/<str:name>", views.training_file, name="training_file"),
    path("case-studies/<slug:slug>/validator.pyz", views.validator_download, name="validator"),
]
