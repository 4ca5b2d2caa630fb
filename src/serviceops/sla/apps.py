from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "serviceops.sla"
    label = "sla"
    verbose_name = "Service levels"
