from django.urls import path

from serviceops.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.new, name="new"),
    path("bulk/", views.bulk, name="bulk"),
    path("search/", views.search, name="search"),
    path("filters/", views.saved_filter_save, name="filter_save"),
    path("filters/<int:pk>/delete/", views.saved_filter_delete, name="filter_delete"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/canned/", views.canned, name="canned"),
    path("<int:pk>/status/", views.change_status, name="status"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/tags/", views.tags, name="tags"),
    path("<int:pk>/link/", views.link, name="link"),
]
