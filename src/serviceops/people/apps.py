from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "serviceops.people"
    label = "people"
    verbose_name = "People"
