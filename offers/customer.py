"""What the customer's offers page shows and what the customer can answer (DESIGN §7, §9).

Read-only queries run a fixed number of statements however many offers there are
(DESIGN §12). Consent is checked again when the page renders, in the same SQL that
selects the offers (`Offer.shown_to_customers`): an offer whose consent lapsed since it
was approved is simply not there, whatever the engine's next run will do with it.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from consent.models import ConsentEvent, Customer

from . import transitions
from .models import ActorKind, Cause, Offer, OfferStatus

# A customer's answer and the status it gives the offer.
ANSWERS = {"interested": OfferStatus.ACCEPTED, "dismiss": OfferStatus.DISMISSED}


class OfferNotOpen(Exception):
    """The offer is the customer's, but not one they can answer now. Nothing was written."""


@dataclass(frozen=True)
class ShownOffer:
    """One offer as the customer reads it, texts in the customer's language."""

    offer: Offer
    language: str

    @property
    def pk(self) -> int:
        return self.offer.pk

    @property
    def product_name(self) -> str:
        return self.offer.product.name(self.language)

    @property
    def explanation(self) -> str:
        return self.offer.explanation(self.language)

    @property
    def evidence(self) -> str:
        return self.offer.evidence(self.language)

    @property
    def choices(self) -> list[dict]:
        """The consents it relied on: which choice, given when, to which text."""
        return [
            {
                "code": event.purpose.code,
                "title": event.purpose_version.text("title", self.language),
                "data_used": event.purpose_version.text("data_used", self.language),
                "version": event.purpose_version.version,
                "given_at": event.occurred_at,
            }
            for event in self.offer.relied_on.all()
        ]


def shown_offers(customer: Customer, *, language: str, at: dt.datetime) -> list[ShownOffer]:
    """The customer's approved offers whose consent is still valid now. Two queries."""
    offers = (
        Offer.objects.shown_to_customers(at=at)
        .filter(customer=customer)
        .select_related("product")
        .prefetch_related(
            Prefetch(
                "relied_on",
                queryset=ConsentEvent.objects.select_related("purpose", "purpose_version"),
            )
        )
        .order_by("-created_at", "-pk")
    )
    return [ShownOffer(offer=offer, language=language) for offer in offers]


def get_offer_for_customer(customer: Customer, offer_id: int) -> Offer:
    """The customer's own offer, or 404: another customer's offer does not exist for them."""
    return get_object_or_404(
        Offer.objects.select_related("product"), pk=offer_id, customer=customer
    )


@transaction.atomic
def answer_offer(customer: Customer, offer_id: int, *, answer: str, at: dt.datetime) -> Offer:
    """The customer says "interested" or "not interested" to an offer they can see.

    Only an offer shown on the page right now can be answered: approved, within its date,
    consent still valid. The update is conditional on that, so a withdrawal or a second
    click racing with this one cannot make an answered or retracted offer change again.
    "Interessant" also puts the offer on the contact centre's follow-up list
    (`offers.transitions`): the customer was promised a call.
    """
    status = ANSWERS[answer]
    offer = get_offer_for_customer(customer, offer_id)
    changed = transitions.change_status(
        offers=Offer.objects.shown_to_customers(at=at).filter(pk=offer.pk),
        to=status,
        cause=Cause.CUSTOMER_ANSWER,
        actor_kind=ActorKind.CUSTOMER,
        actor=customer.user,
        at=at,
    )
    if not changed:
        raise OfferNotOpen(offer)
    offer.status, offer.status_changed_at = status, at
    return offer
