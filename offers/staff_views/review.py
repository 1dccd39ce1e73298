"""Reviewing offers (*Offer reviewers*): *Goedkeuren* and *Afwijzen* (with a reason) on an
offer's page, each then moving on to the next proposed offer, oldest first; and the same
two as bulk actions in the queue (`OfferAdmin.actions`), rejecting after an intermediate
page that asks for the reason.

Approving checks consent again (`offers.review`): an offer whose consent no longer holds
is retracted instead, and one past its date expires; the reviewer is told each.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from infra.staffsite import post_only, staff_page, staff_view
from offers import review
from offers.forms import RejectForm
from offers.models import Offer

REVIEW = "offers.review_offer"

# What a review did, for the reviewer (`_tell`).
APPROVED = ngettext_lazy("%(n)d aanbod goedgekeurd.", "%(n)d aanbiedingen goedgekeurd.", "n")
REJECTED = ngettext_lazy("%(n)d aanbod afgewezen.", "%(n)d aanbiedingen afgewezen.", "n")
RETRACTED_INSTEAD = ngettext_lazy(
    "%(n)d aanbod is ingetrokken in plaats van goedgekeurd: de toestemming waarop het"
    " steunde geldt niet meer.",
    "%(n)d aanbiedingen zijn ingetrokken in plaats van goedgekeurd: de toestemming waarop"
    " ze steunden geldt niet meer.",
    "n",
)
EXPIRED_ALREADY = ngettext_lazy(
    "%(n)d aanbod was al verlopen en is als verlopen gemarkeerd.",
    "%(n)d aanbiedingen waren al verlopen en zijn als verlopen gemarkeerd.",
    "n",
)
NOT_WAITING = ngettext_lazy(
    "%(n)d aanbod wachtte niet (meer) op beoordeling en is niet veranderd.",
    "%(n)d aanbiedingen wachtten niet (meer) op beoordeling en zijn niet veranderd.",
    "n",
)


# --- On the offer's page, then the next one -----------------------------------------------
@staff_view
@post_only
@permission_required(REVIEW, raise_exception=True)
def approve(request, offer_id):
    offer = get_object_or_404(Offer.objects.select_related("customer"), pk=offer_id)
    result, following = review.approve_one(offer=offer, reviewer=request.user, at=timezone.now())
    if result.done:
        messages.success(
            request,
            gettext("Aanbod voor klant %(number)s goedgekeurd.")
            % {"number": offer.customer.customer_number},
        )
    _tell_retracted(request, result)
    _tell_expired_and_skipped(request, result)
    return _to(request, following)


@staff_view
@post_only
@permission_required(REVIEW, raise_exception=True)
def reject(request, offer_id):
    offer = get_object_or_404(Offer.objects.select_related("customer"), pk=offer_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Geef een reden om af te wijzen."))
        return HttpResponseRedirect(reverse("admin:offers_offer_change", args=[offer.pk]))
    result, following = review.reject_one(
        offer=offer,
        reviewer=request.user,
        reason=form.cleaned_data["reason"],
        at=timezone.now(),
    )
    if result.done:
        messages.success(
            request,
            gettext("Aanbod voor klant %(number)s afgewezen.")
            % {"number": offer.customer.customer_number},
        )
    _tell_expired_and_skipped(request, result)
    return _to(request, following)


def _to(request, following: Offer | None):
    """On to the next proposed offer; the queue when none is left."""
    if following is None:
        messages.info(request, gettext("Er wachten geen aanbiedingen meer op beoordeling."))
        return HttpResponseRedirect(reverse("admin:offers_offer_changelist"))
    return HttpResponseRedirect(reverse("admin:offers_offer_change", args=[following.pk]))


# --- In bulk, from the queue (admin actions, `OfferAdmin.has_review_permission`) ------------
@admin.action(
    permissions=["review"],
    description=_("Goedkeuren (toestemming wordt opnieuw gecontroleerd)"),
)
def approve_selected(modeladmin, request, queryset):
    result = review.approve(
        offer_ids=queryset.values_list("pk", flat=True),
        reviewer=request.user,
        at=timezone.now(),
    )
    _tell(request, result.done, APPROVED, messages.SUCCESS, even_none=True)
    _tell_retracted(request, result)
    _tell_expired_and_skipped(request, result)


@admin.action(permissions=["review"], description=_("Afwijzen (met reden)"))
def reject_selected(modeladmin, request, queryset):
    """An intermediate page asks for the reason; without one nothing changes."""
    form = RejectForm(request.POST if "post" in request.POST else None)
    if form.is_valid():
        result = review.reject(
            offer_ids=queryset.values_list("pk", flat=True),
            reviewer=request.user,
            reason=form.cleaned_data["reason"],
            at=timezone.now(),
        )
        _tell(request, result.done, REJECTED, messages.SUCCESS, even_none=True)
        _tell_expired_and_skipped(request, result)
        return None
    context = {
        "title": _("Aanbiedingen afwijzen"),
        "opts": Offer._meta,
        "queryset": queryset.select_related("product", "customer"),
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return staff_page(request, "admin/offers/offer/reject.html", context)


# --- What the reviewer is told ------------------------------------------------------------
def _tell(request, count, message, level=messages.WARNING, *, even_none=False):
    """One of the messages above, with its count, when something was counted (or
    `even_none`: "0 approved" is news to the reviewer who clicked approve)."""
    if count or even_none:
        messages.add_message(request, level, message % {"n": count})


def _tell_retracted(request, result):
    _tell(request, result.retracted, RETRACTED_INSTEAD)


def _tell_expired_and_skipped(request, result):
    _tell(request, result.expired, EXPIRED_ALREADY)
    _tell(request, result.skipped, NOT_WAITING)
