from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "serviceops.complaints"
    label = "complaints"
    verbose_name = "Complaints"
