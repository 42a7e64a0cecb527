"""Scheduling URLs, under ``/schedule/`` (namespace ``scheduling``)."""

from django.urls import path

from interviews.scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.schedule, name="home"),
    path("time-zone/", views.time_zone, name="time_zone"),
    path("availability/", views.availability_add, name="availability_add"),
    path("availability/<int:availability_id>/withdraw/", views.availability_withdraw,
         name="availability_withdraw"),
    path("book/", views.book, name="book"),
    path("bookings/<int:booking_id>/", views.booking, name="booking"),
    path("bookings/<int:booking_id>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<int:booking_id>/move/", views.booking_move, name="booking_move"),
    path("bookings/<int:booking_id>/join/", views.booking_join, name="booking_join"),
    path("peer/", views.peer_list, name="peer_list"),
    path("peer/join/<str:token>/", views.peer_join, name="peer_join"),
    path("peer/<int:peer_mock_id>/", views.peer, name="peer"),
    path("peer/<int:peer_mock_id>/turn/", views.peer_turn, name="peer_turn"),
    path("peer/<int:peer_mock_id>/turn/<int:turn>/feedback/", views.peer_feedback,
         name="peer_feedback"),
    path("peer/<int:peer_mock_id>/turn/<int:turn>/rate/", views.peer_rate, name="peer_rate"),
]
