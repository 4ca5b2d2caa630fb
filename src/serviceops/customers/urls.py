from django.urls import path

from serviceops.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_index, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/adjustments/", views.adjustment_add, name="adjustment_add"),
    path("<int:pk>/adjustments/<int:adjustment_id>/remove/", views.adjustment_remove,
         name="adjustment_remove"),
]
