from django.urls import path

from interviews import views

app_name = "interviews"

urlpatterns = [
    path("case-studies/<slug:slug>/", views.case_study_detail, name="case_study"),
]
