"""The staff's consent workflows in the admin site (`config.admin.WORKFLOW_URLS`): the
names are the admin's (`admin:consent_…`), the paths are under the models they act on."""

from django.urls import path

from . import acting, downloads, publishing

urlpatterns = [
    path(
        "consent/purpose/record-of-processing.<str:fmt>",
        downloads.processing_record_file,
        name="consent_processing_record",
    ),
    # Adding a version is publishing it: this answers the model's own add URL.
    path("consent/purposeversion/add/", publishing.publish, name="consent_purposeversion_add"),
    path(
        "consent/customer/<str:number>/act/<str:action>/",
        acting.act,
        name="consent_customer_act",
    ),
    path(
        "consent/customer/<str:number>/receipt/<int:event_id>.json",
        downloads.receipt,
        name="consent_customer_receipt",
    ),
]
