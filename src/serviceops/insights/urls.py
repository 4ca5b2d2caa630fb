from django.urls import path

from serviceops.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("trends/", views.trends, name="trends"),
    path("charts.js", views.charts_js, name="charts_js"),
    path("control/", views.control, name="control"),
    path("pareto/", views.pareto, name="pareto"),
    path("compare/", views.compare, name="compare"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/edit/", views.scorecard_edit, name="scorecard_edit"),
    path("scorecard.<str:fmt>", views.scorecard_export, name="scorecard_export"),
    path("targets/", views.targets, name="targets"),
]
