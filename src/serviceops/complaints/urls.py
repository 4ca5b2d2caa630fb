from django.urls import path

from serviceops.complaints import views, views_analysis

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("case/<int:case_pk>/", views.case_complaint, name="for_case"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/acknowledge/", views.complaint_acknowledge, name="acknowledge"),
    path("<int:pk>/assign/", views.complaint_assign, name="assign"),
    path("<int:pk>/escalate/", views.complaint_escalate, name="escalate"),
    path("<int:pk>/holding/", views.complaint_holding, name="holding"),
    path("<int:pk>/resolve/", views.complaint_resolve, name="resolve"),
    path("<int:pk>/follow-up/", views.complaint_follow_up, name="follow_up"),
    path("<int:pk>/ombudsman/", views.complaint_ombudsman, name="ombudsman"),
    path("<int:pk>/close/", views.complaint_close, name="close"),
    path("<int:pk>/details/", views.complaint_details, name="details"),
    path("<int:pk>/checklist/", views.complaint_checklist, name="checklist"),
    path("<int:pk>/whys/", views.complaint_whys, name="whys"),
    path("<int:pk>/causes/", views.complaint_cause_add, name="cause_add"),
    path("<int:pk>/causes/<int:cause_pk>/remove/", views.complaint_cause_remove,
         name="cause_remove"),
    path("<int:pk>/actions/", views.complaint_action_add, name="action_add"),
    path("<int:pk>/gestures/", views.complaint_gesture_add, name="gesture_add"),
    path("<int:pk>/letters/", views.complaint_letter_send, name="letter_send"),
    path("actions/", views.actions_mine, name="actions"),
    path("actions/<int:pk>/state/", views.action_state, name="action_state"),
    path("actions/<int:pk>/check/", views.action_check, name="action_check"),
    path("actions/<int:pk>/link/", views.action_link, name="action_link"),
    path("settings/", views.settings_page, name="settings"),
    path("analysis/", views_analysis.analysis, name="analysis"),
    path("analysis.csv", views_analysis.analysis_csv, name="analysis_csv"),
]
