from django.urls import path

from interviews import grading_views, views

app_name = "interviews"

urlpatterns = [
    path("case-studies/<slug:slug>/", views.case_study_detail, name="case_study"),
    path("case-studies/<slug:slug>/start/", views.session_start, name="session_start"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/<int:session_id>/", views.session_detail, name="session"),
    path("sessions/<int:session_id>/answers/<int:step>/", views.answer_save,
         name="answer_save"),
    path("sessions/<int:session_id>/preview/", views.answer_preview, name="answer_preview"),
    path("sessions/<int:session_id>/focus/", views.session_focus, name="session_focus"),
    path("sessions/<int:session_id>/questions/", views.question_ask, name="question_ask"),
    path("sessions/<int:session_id>/submit/", views.session_submit, name="session_submit"),
    path("sessions/<int:session_id>/review/", views.session_review, name="session_review"),
    # Interviewer grading (interviewers and admins; candidates get 404 or 403).
    path("grading/", grading_views.grading_queue, name="grading_queue"),
    path("grading/calibration/", grading_views.grading_calibration, name="calibration"),
    path("grading/sessions/<int:session_id>/", grading_views.grading_session,
         name="grading_session"),
    path("grading/sessions/<int:session_id>/replay/", grading_views.grading_replay,
         name="grading_replay"),
    path("grading/sessions/<int:session_id>/claim/", grading_views.grading_claim,
         name="grading_claim"),
    path("grading/sessions/<int:session_id>/unclaim/", grading_views.grading_unclaim,
         name="grading_unclaim"),
    path("grading/sessions/<int:session_id>/assign/", grading_views.grading_assign,
         name="grading_assign"),
    path("grading/sessions/<int:session_id>/graders/<int:grader_id>/remove/",
         grading_views.grading_unassign, name="grading_unassign"),
    path("grading/sessions/<int:session_id>/graders-required/",
         grading_views.grading_graders_required, name="grading_graders_required"),
    path("grading/sessions/<int:session_id>/release/", grading_views.grading_release,
         name="grading_release"),
    path("grading/sessions/<int:session_id>/grade/", grading_views.grade_save,
         name="grade_save"),
    path("grading/sessions/<int:session_id>/grade/submit/", grading_views.grade_submit,
         name="grade_submit"),
    path("grading/sessions/<int:session_id>/grade/evidence/", grading_views.grade_evidence_add,
         name="grade_evidence_add"),
    path("grading/sessions/<int:session_id>/grade/evidence/<int:quote_id>/remove/",
         grading_views.grade_evidence_remove, name="grade_evidence_remove"),
]
