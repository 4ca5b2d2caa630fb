from django.contrib import admin
from django.urls import include, path

from serviceops.api.urls import api
from serviceops.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", core_views.login_view, name="login"),
    path("logout/", core_views.logout_view, name="logout"),
    path("account/tokens/", core_views.tokens, name="tokens"),
    path("health/", core_views.health, name="health"),
    path("cases/", include("serviceops.cases.urls")),
    path("customers/", include("serviceops.customers.urls")),
    path("sla/", include("serviceops.sla.urls")),
    path("insights/", include("serviceops.insights.urls")),
    path("workforce/", include("serviceops.workforce.urls")),
    path("complaints/", include("serviceops.complaints.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
handler403 = "serviceops.cases.views.permission_denied"
