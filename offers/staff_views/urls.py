"""The staff's offers workflows in the admin site (`config.admin.WORKFLOW_URLS`): the
names are the admin's (`admin:offers_…`), the paths are under the models they act on."""

from django.urls import path

from . import follow_ups, overview, review, runs

urlpatterns = [
    path("offers/offerrun/start/", runs.start, name="offers_offerrun_start"),
    path("offers/offerrun/<int:run_id>/resume/", runs.resume, name="offers_offerrun_resume"),
    path("offers/offerrun/<int:run_id>/progress/", runs.progress, name="offers_offerrun_progress"),
    path("offers/offer/overview/", overview.overview, name="offers_privacy_overview"),
    path("offers/offer/<int:offer_id>/approve/", review.approve, name="offers_offer_approve"),
    path("offers/offer/<int:offer_id>/reject/", review.reject, name="offers_offer_reject"),
    # A follow-up's page is where it is worked: this answers the model's own change URL.
    path(
        "offers/followup/<int:follow_up_id>/change/",
        follow_ups.follow_up,
        name="offers_followup_change",
    ),
]
