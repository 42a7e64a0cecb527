from django.urls import path

from interviews import views

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
]
