from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "serviceops.customers"
    label = "customers"
    verbose_name = "Customers"
