from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "serviceops.core"
    label = "core"
    verbose_name = "Core"
