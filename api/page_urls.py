"""The customer's pages of the API app, under the customer site (config/urls.py: `apps/`)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("", pages.apps_page, name="linked_apps"),
    path("<int:link_id>/revoke/", pages.revoke, name="revoke_app"),
]
