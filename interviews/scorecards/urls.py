"""Scorecard URLs, under ``/scorecards/`` (interviewers and admins; candidates get 404 or
403). The interviewer pages used to live under ``/grading/``: those addresses redirect here
permanently (``legacy_urls``)."""

from django.urls import path, re_path

from interviews.scorecards import views

app_name = "scorecards"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("calibration/", views.calibration, name="calibration"),
    path("sessions/<int:session_id>/", views.scorecard_page, name="session"),
    path("sessions/<int:session_id>/replay/", views.replay, name="replay"),
    path("sessions/<int:session_id>/claim/", views.claim, name="claim"),
    path("sessions/<int:session_id>/unclaim/", views.unclaim, name="unclaim"),
    path("sessions/<int:session_id>/assign/", views.assign, name="assign"),
    path("sessions/<int:session_id>/graders/<int:grader_id>/remove/", views.unassign,
         name="unassign"),
    path("sessions/<int:session_id>/graders-required/", views.graders_required,
         name="graders_required"),
    path("sessions/<int:session_id>/release/", views.release, name="release"),
    path("sessions/<int:session_id>/grade/", views.grade_save, name="grade_save"),
    path("sessions/<int:session_id>/grade/submit/", views.grade_submit, name="grade_submit"),
    path("sessions/<int:session_id>/grade/evidence/", views.grade_evidence_add,
         name="evidence_add"),
    path("sessions/<int:session_id>/grade/evidence/<int:quote_id>/remove/",
         views.grade_evidence_remove, name="evidence_remove"),
]

# Included at the site root, outside the namespace: every old /grading/... address.
legacy_urls = [
    re_path(r"^grading/(?P<rest>.*)$", views.legacy_redirect, name="legacy_grading"),
]
