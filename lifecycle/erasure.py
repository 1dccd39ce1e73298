"""Erasure on request (GDPR Art. 17): what consent-based processing produced about the
customer goes at once, recorded in the ledger with the statement they confirmed.

Before the customer confirms, the page shows what will go and what must stay, and for
how long (`erasure_preview`). This app knows nothing of offers: each app that erases
something on request counts what it would erase (`signals.erasure_preview`) and erases
it (`signals.erasure_requested`)."""

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst

from consent.catalogue import statement_sha256, statement_text
from consent.choices import append_event, lock_customer
from consent.models import Customer
from consent.retention_rules import KINDS, periods
from infra.effects import Effects, collect
from infra.languages import text_language
from ledger.models import Action, ConsentEvent

from . import signals

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Erased:
    """The `erasure_requested` event, and what each app erased."""

    event: ConsentEvent
    effects: Effects


def request_erasure(
    *, customer: Customer, channel: str, actor: "User | None", at: dt.datetime, language: str = "nl"
) -> Erased:
    """The customer asks to erase what consent-based processing produced about them
    (GDPR Art. 17): offers, their answers and the data-use log. Done at once, in the
    transaction that records the request in the ledger (`erasure_requested`, with the
    SHA-256 of the statement they confirmed, `catalogue.ERASURE_NOTICES`), so the
    request and the erasure commit together. What stays: the proof of consent (this
    request included) and the banking data, both kept by law; the choices themselves
    are untouched. `effects` counts what each app erased."""
    with transaction.atomic():
        locked = lock_customer(customer)
        event, _effects = append_event(
            customer=locked,
            purpose=None,
            version=None,
            action=Action.ERASURE_REQUESTED,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
            notice_sha256=statement_sha256(Action.ERASURE_REQUESTED, language),
        )
        effects = collect(signals.erasure_requested, customer_id=locked.pk, event=event, at=at)
    return Erased(event=event, effects=effects)


# What must stay, in the order the page lists it: the proof of consent, and the data the
# law makes the bank keep.
KEPT_KINDS = ("consent_proof", "transactions", "accounts", "profile")


@dataclass(frozen=True)
class Kept:
    label: str
    period: str


def erasures(customer: Customer) -> list[dt.datetime]:
    """When the customer asked to erase (the `erasure_requested` events), newest first:
    pages that would otherwise look as if nothing ever happened say what did, and when."""
    return list(
        ConsentEvent.objects.filter(customer=customer, action=Action.ERASURE_REQUESTED)
        .order_by("-sequence")
        .values_list("occurred_at", flat=True)
    )


@dataclass(frozen=True)
class ErasurePreview:
    statement: str  # what the customer confirms; its hash goes into the ledger
    statement_sha256: str
    goes: Effects  # what each app would erase, in its own words
    kept: list[Kept]
    earlier: list[dt.datetime]  # erasures done before, newest first

    @property
    def nothing_to_erase(self) -> bool:
        """Nothing would go: the page offers no erasure (a request for nothing is none)."""
        return not any(effect.count for effect in self.goes)

    @property
    def goes_sentences(self) -> list[str]:
        """What would go, one sentence per kind that is there (never "0 aanbiedingen")."""
        return self.goes.sentences()


def erasure_preview(customer: Customer, *, language: str, at: dt.datetime) -> ErasurePreview:
    """The confirmation page: the statement, how much would go, what stays and how long
    (from the notices in effect: the same periods `enforce_retention` applies)."""
    in_effect = periods(on=timezone.localdate(at))
    kept = []
    for kind in KEPT_KINDS:
        if kind in in_effect:
            label = KINDS[kind][text_language(language)]
            kept.append(Kept(capfirst(label), in_effect[kind].text(language)))
    return ErasurePreview(
        statement=statement_text(Action.ERASURE_REQUESTED, language),
        statement_sha256=statement_sha256(Action.ERASURE_REQUESTED, language),
        goes=collect(signals.erasure_preview, customer_id=customer.pk),
        kept=kept,
        earlier=erasures(customer),
    )
