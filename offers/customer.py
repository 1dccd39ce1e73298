"""What the customer's offers page shows and what the customer can answer (docs/gate.md,
docs/architecture.md).

Read-only queries run a fixed number of statements however many offers there are
(README, Benchmarks). Consent is checked again when the page renders, in the same SQL that
selects the offers (`Offer.shown_to_customers`): an offer whose consent lapsed since it
was approved is simply not there, whatever the engine's next run will do with it.
"""

import datetime as dt
import functools
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consent.channels import channel_counts
from consent.models import Customer, Purpose, PurposeVersion
from infra.languages import text_language
from infra.precompiled import Inputs, Precompiled, instance, precompile, width
from ledger.models import ConsentEvent
from lifecycle.erasure import erasures

from . import transitions
from .models import (
    OPEN_STATUSES,
    ActorKind,
    Cause,
    DataUse,
    EventKind,
    Offer,
    OfferEvent,
    OfferStatus,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

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
    def product_facts(self) -> list[str]:
        return self.offer.product.facts(self.language)

    @property
    def status(self) -> str:
        return self.offer.status

    @property
    def answered_at(self) -> dt.datetime:
        return self.offer.status_changed_at

    @property
    def explanation(self) -> str:
        return self.offer.explanation(self.language)

    @property
    def evidence(self) -> str:
        return self.offer.evidence(self.language)

    @property
    def called(self) -> bool:
        """Whether the customer's "interessant" asked for a call (a follow-up was opened);
        False when phone calls about offers were off then."""
        return hasattr(self.offer, "follow_up")

    @property
    def choices(self) -> list[dict]:
        """The consents it relied on: which choice, given when, to which text."""
        choices = []
        for event in self.offer.relied_on.all():
            purpose, version = event.purpose, event.purpose_version
            assert purpose is not None and version is not None  # a grant names both
            choices.append(
                {
                    "code": purpose.code,
                    "title": version.text("title", self.language),
                    "data_used": version.text("data_used", self.language),
                    "version": version.version,
                    "given_at": event.occurred_at,
                }
            )
        return choices


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


# The customer's answers that stay on the page, with what they said.
ANSWERED = tuple(ANSWERS.values())


def answered_offers(customer: Customer, *, language: str) -> list[ShownOffer]:
    """Offers the customer answered, newest answer first, whatever their consent does now:
    what they said stays visible. One query."""
    offers = (
        Offer.objects.filter(customer=customer, status__in=ANSWERED)
        .select_related("product", "follow_up")
        .order_by("-status_changed_at", "-pk")
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
    (`offers.transitions`), the customer was promised a call, but only while their choice
    for calls about offers counts (`consent.channels`, Telecommunicatiewet art. 11.7):
    otherwise the answer is recorded without a call.
    """
    status = ANSWERS[answer]
    offer = get_offer_for_customer(customer, offer_id)
    call = answer == "interested" and channel_counts(customer=customer, channel="phone", at=at)
    changed = transitions.change_status(
        offers=Offer.objects.shown_to_customers(at=at).filter(pk=offer.pk),
        to=status,
        cause=Cause.CUSTOMER_ANSWER,
        actor_kind=ActorKind.CUSTOMER,
        actor=customer.user,
        at=at,
        call=call,
    )
    if not changed:
        raise OfferNotOpen(offer)
    offer.status, offer.status_changed_at = status, at
    return offer


class Offered(TypedDict):
    """What `data_uses` annotates a DataUse with."""

    offered: list[str]  # names of the products proposed on its consent
    kept: list[str]  # names of the products of offers already open then, on the same purpose
    answered: list[str]  # … and of offers the customer had answered by then


@dataclass(frozen=True)
class UseShown:
    """One time the offers engine read the customer's data under one purpose."""

    use: "WithAnnotations[DataUse, Offered]"
    language: str

    @property
    def read_at(self) -> dt.datetime:
        return self.use.read_at

    @property
    def purpose_title(self) -> str:
        # The title of the text the customer consented to: the consent the read relied on.
        version = self.use.consent_event.purpose_version
        assert version is not None  # the read relied on a grant, which names its version
        return version.text("title", self.language)

    @property
    def purpose_code(self) -> str:
        return self.use.purpose.code

    @property
    def data_read(self) -> str:
        return describe_data_read(self.use.features, self.use.window_days)

    @property
    def offered(self) -> list[str]:
        """Names of the products the run proposed on this consent ([] if nothing)."""
        return list(self.use.offered or ())

    @property
    def kept(self) -> list[str]:
        """Names of the products of offers made earlier on the same purpose and still open
        when this read happened: the contact policy proposes nothing twice, so the read
        left them standing instead of proposing them again ([] if none)."""
        return [name for name in self.use.kept or () if name not in self.offered]

    @property
    def answered(self) -> list[str]:
        """Names of the products of offers on the same purpose that the customer had
        answered by then ("interessant" or "niet interessant"): the contact policy lets a
        product rest after an answer, so the read proposed nothing new for them."""
        return [
            name
            for name in dict.fromkeys(self.use.answered or ())
            if name not in self.offered and name not in self.kept
        ]

    @property
    def outcome(self) -> str:
        """What came of the read, one code: `offered` (something new proposed), `kept` (no
        new offer; an existing one stayed), `answered` (no new offer; the customer had
        answered one already) or `nothing`."""
        if self.offered:
            return "offered"
        if self.kept:
            return "kept"
        return "answered" if self.answered else "nothing"

    @property
    def outcome_text(self) -> str:
        """The outcome as the customer reads it, one sentence per read."""
        if self.offered:
            return _("Uitkomst: aanbieding voorgesteld") + f" ({', '.join(self.offered)})"
        if self.kept:
            return ngettext(
                "Uitkomst: geen nieuwe aanbieding; uw bestaande aanbieding (%(products)s)"
                " bleef staan",
                "Uitkomst: geen nieuwe aanbieding; uw bestaande aanbiedingen (%(products)s)"
                " bleven staan",
                len(self.kept),
            ) % {"products": ", ".join(self.kept)}
        if self.answered:
            return ngettext(
                "Uitkomst: geen nieuwe aanbieding; u had al geantwoord op onze aanbieding"
                " (%(products)s)",
                "Uitkomst: geen nieuwe aanbieding; u had al geantwoord op onze aanbiedingen"
                " (%(products)s)",
                len(self.answered),
            ) % {"products": ", ".join(self.answered)}
        return _("Uitkomst: niets gevonden")


def describe_data_read(features, window_days: int) -> str:
    """What the gate read, in the customer's words ("kaartbetalingen van de afgelopen 90
    dagen: land en soort winkel")."""
    parts = []
    if "card_payments" in features:
        parts.append(
            ngettext(
                "kaartbetalingen van de afgelopen %(days)d dag: land en soort winkel",
                "kaartbetalingen van de afgelopen %(days)d dagen: land en soort winkel",
                window_days,
            )
            % {"days": window_days}
        )
    if "student_finance" in features:
        parts.append(
            ngettext(
                "ontvangen betalingen van de afgelopen %(days)d dag: alleen of ze van DUO kwamen",
                "ontvangen betalingen van de afgelopen %(days)d dagen: alleen of ze van DUO kwamen",
                window_days,
            )
            % {"days": window_days}
        )
    if "checking_balance" in features:
        parts.append(_("het saldo van uw betaalrekening"))
    if "age" in features:
        parts.append(_("uw leeftijd"))
    if "products" in features:
        parts.append(_("welke producten u bij ons heeft"))
    return "; ".join(parts)


def data_uses(
    customer: Customer, *, language: str, rows: list[Any] | None = None
) -> list[UseShown]:
    """Every time the offers engine read this customer's data, newest first, with the
    products it proposed relying on that consent, and the offers on the same purpose that
    were already open then, or answered (which the contact policy does not propose
    again: the read left them standing, it did not find "nothing"). One query, its SQL
    compiled once per process and language (`data_uses_query`: the ORM's query; building
    it was about 40% of an export's CPU). `rows`: that query's, when read already."""
    if rows is None:
        rows = data_uses_query(text_language(language)).rows({"customer_id": customer.pk})
    # The columns as the ORM selects them: the read's own, the three annotations, then
    # what select_related joins, each model's in its field order.
    ends = itertools.accumulate((width(DataUse), 3, width(Purpose), width(ConsentEvent)))
    use_end, annotations_end, purpose_end, event_end = ends
    shown = []
    for row in rows:
        use: Any = instance(DataUse, row[:use_end])
        use.offered, use.kept, use.answered = row[use_end:annotations_end]
        use.purpose = instance(Purpose, row[annotations_end:purpose_end])
        use.consent_event = instance(ConsentEvent, row[purpose_end:event_end])
        use.consent_event.purpose_version = instance(PurposeVersion, row[event_end:])
        shown.append(UseShown(use=use, language=language))
    return shown


@functools.cache
def data_uses_query(language: str) -> Precompiled:
    name = f"product__name_{language}"

    def build(inputs: Inputs) -> QuerySet:
        proposed = Offer.objects.filter(
            run_id=OuterRef("run_id"),
            customer_id=OuterRef("customer_id"),
            relied_on=OuterRef("consent_event_id"),
        ).values(name)
        # An offer's status at the moment of the read: its last status event by then.
        status_then = (
            OfferEvent.objects.filter(
                offer_id=OuterRef("pk"),
                kind=EventKind.STATUS,
                occurred_at__lte=OuterRef(OuterRef("read_at")),
            )
            .order_by("-occurred_at", "-pk")
            .values("to_state")[:1]
        )
        earlier = (
            Offer.objects.filter(
                customer_id=OuterRef("customer_id"),
                relied_on__purpose_id=OuterRef("purpose_id"),
                created_at__lte=OuterRef("read_at"),
            )
            .exclude(run_id=OuterRef("run_id"))
            .annotate(status_then=Subquery(status_then))
            .order_by("created_at", "pk")
        )
        standing = earlier.filter(status_then__in=OPEN_STATUSES).values(name)
        answered = earlier.filter(status_then__in=ANSWERED).values(name)
        return (
            DataUse.objects.filter(customer_id=inputs["customer_id"])
            .select_related("purpose", "consent_event__purpose_version")
            .annotate(
                offered=ArraySubquery(proposed),
                kept=ArraySubquery(standing),
                answered=ArraySubquery(answered),
            )
            .order_by("-read_at", "purpose__position")
        )

    return precompile(build, ({"customer_id": -7_000_001}, {"customer_id": -7_000_002}))


@dataclass(frozen=True)
class DataUseLog:
    """The customer's page "Wat wij met uw gegevens deden": the reads, and when the
    customer had the log erased (so an empty log after an erasure says why it is empty)."""

    uses: list[UseShown]
    erasures: list[dt.datetime]  # newest first


def data_use_log(customer: Customer, *, language: str) -> DataUseLog:
    """Two queries."""
    return DataUseLog(uses=data_uses(customer, language=language), erasures=erasures(customer))
