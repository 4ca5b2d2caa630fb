from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "serviceops.workforce"
    label = "workforce"
    verbose_name = "Workforce planning"
