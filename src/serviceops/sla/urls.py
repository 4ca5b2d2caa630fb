from django.urls import path

from serviceops.sla import views

app_name = "sla"
urlpatterns = [
    path("", views.calendars, name="calendars"),
    path("standards/", views.standard_add, name="standard_add"),
    path("standards/<int:pk>/delete/", views.standard_delete, name="standard_delete"),
    path("calendars/new/", views.calendar_edit, name="calendar_new"),
    path("calendars/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/export/", views.calendar_export, name="calendar_export"),
    path("policies/new/", views.policy_edit, name="policy_new"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/levels/", views.level_add, name="level_add"),
    path("levels/<int:pk>/delete/", views.level_delete, name="level_delete"),
    path("cases/<int:pk>/escalate/", views.escalate, name="escalate"),
    path("board/", views.board, name="board"),
    path("report/", views.report, name="report"),
    path("notifications/", views.notifications, name="notifications"),
]
