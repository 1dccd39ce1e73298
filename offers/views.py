"""The customer's offers page (docs/architecture.md). Each view makes one call into the domain.

Like the dashboard (`consent.decorators`): only the logged-in customer's rows, never cached.
An offer id of another customer is a 404; an offer the customer cannot answer now
(not approved, retracted, already answered) is a 409, and nothing changes.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.channels import channel_counts
from consent.decorators import customer_choice, customer_page

from .customer import OfferNotOpen, answer_offer, answered_offers, data_use_log, shown_offers


def _to_offer(request, offer_id):
    return reverse("offers"), f"offer-{offer_id}"


@customer_page()
def offers(request):
    language = request.LANGUAGE_CODE
    now = timezone.now()
    context = {
        "offers": shown_offers(request.customer, language=language, at=now),
        "answered": answered_offers(request.customer, language=language),
        # "Bel mij hierover" only while the customer allows calls about offers.
        "may_call": channel_counts(customer=request.customer, channel="phone", at=now),
    }
    return render(request, "offers/offers.html", context)


@customer_choice(_to_offer)
def interested(request, offer_id):
    return _answer(request, offer_id, "interested")


@customer_choice(_to_offer)
def dismiss(request, offer_id):
    return _answer(request, offer_id, "dismiss")


@customer_page()
def data_use(request):
    """ "Wat wij met uw gegevens deden": every read of the offers engine, as logged."""
    log = data_use_log(request.customer, language=request.LANGUAGE_CODE)
    return render(request, "offers/data_use.html", {"uses": log.uses, "erasures": log.erasures})


def _answer(request, offer_id, answer):
    try:
        offer = answer_offer(request.customer, offer_id, answer=answer, at=timezone.now())
    except OfferNotOpen:
        message = _("Dit aanbod is niet meer beschikbaar. Misschien heeft u het al beantwoord.")
        response = render(request, "offers/not_open.html", {"message": message}, status=409)
        if request.htmx:
            # htmx does not swap an error response: reload the page instead, which shows
            # the offers as they are now, with this message on top.
            messages.warning(request, message)
            response["HX-Refresh"] = "true"
        return response
    product = offer.product.name(request.LANGUAGE_CODE)
    if answer == "interested" and hasattr(offer, "follow_up"):
        message = _(
            "Dank u. Een medewerker van de bank belt u over ‘%(product)s’. U zit nergens aan vast."
        ) % {"product": product}
    elif answer == "interested":
        message = _(
            "Dank u. Wij weten nu dat u ‘%(product)s’ interessant vindt. Wij bellen u er niet"
            " over: u heeft niet aangezet dat wij u over aanbiedingen mogen bellen."
        ) % {"product": product}
    else:
        message = _(
            "Wij laten ‘%(product)s’ voortaan weg. U krijgt dit aanbod minstens %(days)d dagen niet"
            " opnieuw."
        ) % {"product": product, "days": settings.OFFERS_COOLDOWN_DAYS}
    if not request.htmx:
        messages.success(request, message)
        return redirect("offers")
    # htmx: the offer's article becomes the answer, read out in the live region.
    html = render_to_string(
        "offers/answered.html", {"offer_id": offer.pk, "message": message}, request
    ) + render_to_string("announcement.html", {"announcement": message})
    return HttpResponse(html)
