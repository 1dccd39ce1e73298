"""What the erasure page shows (GDPR Art. 17): before the customer confirms, what will go
and what must stay, and for how long; the erasure itself is `services.request_erasure`.
Also the history page, which says how long the proof it lists is kept.

`consent` knows nothing of offers: an app that erases something on request registers a
preview (`consent.hooks.ERASURE_PREVIEW`) that counts what it would erase.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from infra.languages import text_language
from ledger.models import Action

from . import hooks
from .catalogue import statement_sha256, statement_text
from .dashboard import customer_history
from .models import Customer
from .retention import KINDS, periods

# What must stay, in the order the page lists it: the proof of consent, and the data the
# law makes the bank keep.
KEPT_KINDS = ("consent_proof", "transactions", "accounts", "profile")


@dataclass(frozen=True)
class Kept:
    label: str
    period: str


@dataclass(frozen=True)
class ErasurePreview:
    statement: str  # what the customer confirms; its hash goes into the ledger
    statement_sha256: str
    counts: dict  # e.g. {"offers": 2, "data_use": 5}
    kept: list[Kept]

    @property
    def nothing_to_erase(self) -> bool:
        return not any(self.counts.values())


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
        counts=dict(hooks.ERASURE_PREVIEW(customer_id=customer.pk)),
        kept=kept,
    )


@dataclass(frozen=True)
class HistoryPage:
    events: QuerySet  # every event of the customer, newest first
    proof_kept: str  # how long the proof of consent is kept, as the notices say it


def history_page(customer: Customer, *, language: str, at: dt.datetime) -> HistoryPage:
    """The history, and how long it is kept (the notices in effect: one query more)."""
    proof = periods(on=timezone.localdate(at)).get("consent_proof")
    return HistoryPage(
        events=customer_history(customer), proof_kept=proof.text(language) if proof else ""
    )
