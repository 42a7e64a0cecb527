from django.urls import path

from grading import views, views_claims

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
    path("sessions/<int:session_id>/claims/<int:step>/", views_claims.claims_step,
         name="claims_step"),
    path("sessions/<int:session_id>/claims/<int:step>/<int:claim_id>/",
         views_claims.claim_edit, name="claim_edit"),
    path("sessions/<int:session_id>/claims/<int:step>/<int:claim_id>/delete/",
         views_claims.claim_delete, name="claim_delete"),
    path("sessions/<int:session_id>/model-link/", views_claims.session_model_link,
         name="session_model_link"),
]
