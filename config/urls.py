from django.contrib import admin
from django.urls import include, path

from config.health import healthz
from config.login import customer_login, logout
from consent.views import set_language

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", customer_login, name="login"),
    path("accounts/logout/", logout, name="logout"),
    # Django's language switch, and the customer's choice stored (consent.views).
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # The customer's linked apps (the API's OAuth clients): a customer page of api.
    path("apps/", include("api.page_urls")),
    # Third parties' access: the customer's approval and per-party pages (access app).
    path("access/", include("access.urls")),
    path("", include("ledger.urls")),
    path("offers/", include("offers.urls")),
    path("", include("lifecycle.urls")),
    path("", include("consent.urls")),
]

handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
