"""The customer's offers and the data-use log in `/export.json` (GDPR Art. 15 and 20).
Only this customer's rows: every query filters on the customer.

Each offer carries its whole history (every `OfferEvent`: who, when, why, the reason or
note, a call's outcome) and its follow-up call, if the customer asked for one. Staff are
not named: the customer's counterpart is the bank. With `language` (the page to read),
names of products, statuses, causes and outcomes are added next to their codes."""

import functools

from django.db.models import Prefetch, QuerySet
from django.utils import translation

from consent.export import iso_utc
from infra.languages import text_language
from infra.precompiled import (
    CUSTOMER_SAMPLES,
    Inputs,
    PrecompiledQuerySet,
    precompile_queryset,
    read_together,
)
from ledger.models import ConsentEvent

from .customer import data_uses, data_uses_query
from .models import (
    ActorKind,
    Cause,
    EventKind,
    FollowUpOutcome,
    FollowUpStatus,
    Offer,
    OfferEvent,
    OfferStatus,
)


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _event(event: OfferEvent, language: str | None) -> dict:
    item = {
        "kind": event.kind,
        "from": event.from_state or None,
        "to": event.to_state,
        "at": iso_utc(event.occurred_at),
        "by": event.actor_kind,
        "cause": event.cause,
        "reason": event.reason,
        "outcome": event.outcome or None,
    }
    if language:
        states = OfferStatus if event.kind == EventKind.STATUS else FollowUpStatus
        item |= {
            "kind_name": _label(EventKind, event.kind),
            "to_name": _label(states, event.to_state),
            "by_name": _label(ActorKind, event.actor_kind),
            "cause_name": _label(Cause, event.cause),
            "outcome_name": _label(FollowUpOutcome, event.outcome) if event.outcome else "",
        }
    return item


def _follow_up(offer: Offer, language: str | None) -> dict | None:
    follow_up = getattr(offer, "follow_up", None)
    if follow_up is None:
        return None
    item = {
        "status": follow_up.status,
        "outcome": follow_up.outcome or None,
        "opened_at": iso_utc(follow_up.opened_at),
        "changed_at": iso_utc(follow_up.changed_at),
    }
    if language:
        item |= {
            "status_name": _label(FollowUpStatus, follow_up.status),
            "outcome_name": _label(FollowUpOutcome, follow_up.outcome) if follow_up.outcome else "",
        }
    return item


def offers_for_export(customer, rows: list, language: str | None = None):
    """`rows`: `_offers()`'s query's."""
    texts = language or customer.language
    for offer in _offers().instances_of(rows):
        yield _offer(offer, texts, language)


@functools.cache
def _offers() -> PrecompiledQuerySet:
    """The customer's offers, compiled once per process (`infra.precompiled`: compiling
    the export's querysets on every request was about a third of its CPU, issue #24);
    their events and the consents they relied on are read only when there is an offer."""

    def build(inputs: Inputs) -> QuerySet:
        return (
            Offer.objects.filter(customer_id=inputs["customer_id"])
            .select_related("product", "follow_up")
            .prefetch_related(
                Prefetch("events", queryset=OfferEvent.objects.order_by("occurred_at", "pk")),
                Prefetch("relied_on", queryset=ConsentEvent.objects.only("pk").order_by("pk")),
            )
            .order_by("created_at", "pk")
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


def _offer(offer: Offer, texts: str, language: str | None) -> dict:
    # Names in the page's language; never around a `yield` (it would leak to the caller).
    with translation.override(language or translation.get_language()):
        item = {
            "id": offer.pk,
            "product": offer.product.code,
            "rule": offer.rule,
            "status": offer.status,
            "explanation": offer.explanation(texts),
            "evidence": offer.evidence(texts),
            "created_at": iso_utc(offer.created_at),
            "valid_until": offer.valid_until.isoformat(),
            # The consents it relied on: ids of events in `history`.
            "relied_on": [event.pk for event in offer.relied_on.all()],
            "events": [_event(event, language) for event in offer.events.all()],
            "follow_up": _follow_up(offer, language),
        }
        if language:
            item |= {
                "product_name": offer.product.name(language),
                "status_name": _label(OfferStatus, offer.status),
            }
    return item


def data_use_for_export(customer, rows: list, language: str | None = None):
    """The data-use log: each time the offers engine read the customer's data, and what
    came of it (`outcome`: `offered`, `kept`, `answered` or `nothing`). `rows`:
    `data_uses_query`'s, for the same language."""
    for shown in data_uses(customer, language=language or customer.language, rows=rows):
        use = shown.use
        item = {
            "run": use.run_id,
            "read_at": iso_utc(shown.read_at),
            "purpose": shown.purpose_code,
            "consent_event_id": use.consent_event_id,
            "features": list(use.features),
            "window_days": use.window_days,
            "description": shown.data_read,
            "outcome": shown.outcome,
            "offered": shown.offered,
            "kept": shown.kept,
            "answered": shown.answered,
        }
        if language:
            with translation.override(language):
                item["outcome_text"] = shown.outcome_text
        yield item


def export_sections(
    *, customer, language: str | None = None, **_signal
) -> list[tuple[str, object]]:
    """`consent.signals.export_sections`: offers' parts of the customer's export."""
    # Both read in one round trip when the first one's turn comes (a statement fewer;
    # most customers have neither).
    uses = data_uses_query(text_language(language or customer.language))
    section = read_together(
        lambda: _offers().query.rows_with(uses, inputs={"customer_id": customer.pk})
    )

    return [
        ("offers", section(0, lambda rows: offers_for_export(customer, rows, language))),
        ("data_use", section(1, lambda rows: data_use_for_export(customer, rows, language))),
    ]
