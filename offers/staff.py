"""What staff read about offers: the review queue's columns, an offer's history, the
offers section of the contact centre's customer page (`consent.staff`), and who works
the follow-up list.

Staff read the banded evidence (`staff_evidence_*`), never the customer's own figures
(`evidence_*`), and never banking data. Each function runs a fixed number of queries.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, cast

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from banking.models import Product
from consent.staff import StaffSection
from lifecycle.erasure import erasures

from .models import Offer, OfferEvent
from .rules import RULES

# The contact centre's group: only its members own follow-ups.
KLANTENSERVICE = "Klantenservice"


def history(events: QuerySet) -> QuerySet:
    """An offer's events with what the history table shows, oldest first."""
    return events.select_related(
        "actor", "owner", "consent_event", "purpose_version__purpose", "run"
    ).order_by("occurred_at", "pk")


def with_history(offers: QuerySet) -> QuerySet:
    return offers.prefetch_related(
        Prefetch("events", queryset=history(OfferEvent.objects.all()), to_attr="history")
    )


class _WithHistory(Protocol):
    history: list[OfferEvent]  # `with_history`'s Prefetch(to_attr=...): the stubs cannot see it


def waiting_days(offer: Offer, *, at: dt.datetime) -> int:
    """Whole days since the engine proposed the offer (Amsterdam dates)."""
    return (timezone.localdate(at) - timezone.localdate(offer.created_at)).days


@dataclass(frozen=True)
class StaffOffer:
    offer: Offer
    language: str

    @property
    def product_name(self) -> str:
        return self.offer.product.name(self.language)

    @property
    def evidence(self) -> str:
        return self.offer.staff_evidence(self.language)

    @property
    def follow_up(self):
        return getattr(self.offer, "follow_up", None)

    @property
    def events(self) -> list[OfferEvent]:
        return cast(_WithHistory, self.offer).history


def offers_for_staff(*, customer, at: dt.datetime, language: str) -> dict:
    """The `consent.staff` section: every offer made to the customer, newest first, each
    with its history, and when the customer had their offers erased (an erasure leaves
    no offer behind: without it the page would say the customer never had one). Four
    queries."""
    offers = with_history(
        Offer.objects.filter(customer=customer)
        .select_related("product", "follow_up__owner")
        .order_by("-created_at", "-pk")
    )
    return {
        "offers": [StaffOffer(offer=offer, language=language) for offer in offers],
        "erasures": erasures(customer),
    }


def staff_sections(*, customer, at: dt.datetime, language: str, **_signal) -> list[StaffSection]:
    """`consent.signals.staff_sections`: the offers part of the contact centre's page."""
    return [
        StaffSection(
            template="admin/offers/customer_offers.html",
            context=offers_for_staff(customer=customer, at=at, language=language),
        )
    ]


def klantenservice_staff() -> QuerySet:
    """The contact centre's active staff, who may own a follow-up, by name."""
    return (
        get_user_model()
        .objects.filter(groups__name=KLANTENSERVICE, is_active=True)
        .order_by("first_name", "username")
    )


def rule_names() -> dict[str, str]:
    """Each rule by the name of the product it offers, in the reader's language: staff
    know the products, not the rules' codes (a rule offers one product)."""
    products = {
        product.code: product.name(get_language())
        for product in Product.objects.filter(code__in=[rule.product for rule in RULES])
    }
    return {rule.code: products.get(rule.product, rule.code) for rule in RULES}


def rule_choices() -> list[tuple[str, str]]:
    return list(rule_names().items())
