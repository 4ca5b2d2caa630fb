from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "serviceops.cases"
    label = "cases"
    verbose_name = "Cases"
