from django.urls import path

from serviceops.workforce import views, views_intraday

app_name = "workforce"

urlpatterns = [
    path("", views.home, name="home"),
    path("forecasts/new/", views.forecast_new, name="forecast_new"),
    path("forecasts/<int:pk>/", views.forecast_detail, name="forecast"),
    path("forecasts/<int:pk>/rerun/", views.forecast_rerun, name="forecast_rerun"),
    path("forecasts/<int:forecast_pk>/plans/", views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_pk>/scenarios/", views.scenario_add, name="scenario_add"),
    path("scenarios/<int:pk>/delete/", views.scenario_delete, name="scenario_delete"),
    path("plans/<int:plan_pk>/rotas/", views.rota_new, name="rota_new"),
    path("rotas/<int:pk>/", views.rota_detail, name="rota"),
    path("rotas/<int:pk>.<str:fmt>", views.rota_export, name="rota_export"),
    path("rotas/<int:pk>/publish/", views.rota_publish, name="rota_publish"),
    path("rotas/<int:pk>/delete/", views.rota_delete, name="rota_delete"),
    path("patterns/", views.patterns, name="patterns"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("my-shifts/", views.my_shifts, name="my_shifts"),
    path("intraday/", views_intraday.intraday, name="intraday"),
]
