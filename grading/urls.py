from django.urls import path

from grading import views

app_name = "grading"

urlpatterns = [
    path("case-studies/<slug:slug>/data/<str:name>", views.training_file, name="training_file"),
    path("case-studies/<slug:slug>/validator.pyz", views.validator_download, name="validator"),
    path("case-studies/<slug:slug>/submit/", views.submit, name="submit"),
    path("case-studies/<slug:slug>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("case-studies/<slug:slug>/standings/", views.standings, name="standings"),
    path("submissions/<uuid:submission_uuid>/", views.submission_detail, name="submission"),
    path("submissions/<uuid:submission_uuid>/status/", views.submission_status,
         name="submission_status"),
    path("submissions/<uuid:submission_uuid>/pin/", views.submission_pin,
         name="submission_pin"),
]
