"""The customer's pages about third parties (config/urls.py: `access/`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:consent_id>/", views.request_page, name="access_request"),
    path("<uuid:consent_id>/reads/", views.reads_page, name="access_reads"),
    path("<uuid:consent_id>/withdraw/", views.withdraw, name="access_withdraw"),
]
