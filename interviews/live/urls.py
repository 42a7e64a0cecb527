"""Live interview URLs, under ``/live/`` (namespace ``live``)."""

from django.urls import path

from interviews.live import views

app_name = "live"

urlpatterns = [
    path("open/<slug:slug>/", views.room_open, name="open"),
    path("join/<str:token>/", views.join, name="join"),
    path("<int:room_id>/", views.room_page, name="room"),
    path("<int:room_id>/console/", views.console, name="console"),
    path("<int:room_id>/invite/", views.invite_create, name="invite"),
    path("<int:room_id>/claim/", views.claim, name="claim"),
    path("<int:room_id>/assign/", views.assign, name="assign"),
    path("<int:room_id>/presence/", views.presence, name="presence"),
    path("<int:room_id>/start/", views.start, name="start"),
    path("<int:room_id>/end/", views.end, name="end"),
    path("<int:room_id>/questions/", views.question, name="question"),
    path("<int:room_id>/answers/", views.answers, name="answers"),
    path("<int:room_id>/answer/", views.answer, name="answer"),
    path("<int:room_id>/follow-ups/", views.follow_up, name="follow_up"),
    path("<int:room_id>/follow-ups/<int:follow_up_id>/", views.follow_up_save,
         name="follow_up_save"),
    path("<int:room_id>/requirement-changes/", views.requirement_change,
         name="requirement_change"),
    path("<int:room_id>/notes/", views.note, name="note"),
    path("<int:room_id>/time-check/", views.time_check, name="time_check"),
    path("<int:room_id>/events/", views.events, name="events"),
]
