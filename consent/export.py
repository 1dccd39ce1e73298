"""The customer's data export, `/export.json` (DESIGN §11; GDPR Art. 15 and 20).

`consent` owns the choices and the history. Other apps add their own sections without
`consent` importing them: in their AppConfig.ready they call

    register_export_section("offers", lambda customer: [...])

and the export calls `fn(customer)` for that key. Sections the design promises are
always present, as an empty list until an app registers them.
"""

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from .dashboard import customer_dashboard, customer_history

EXPORT_SECTIONS: dict[str, Callable] = {}

# Keys that consent fills itself; an app cannot replace them.
OWN_KEYS = ("customer_number", "exported_at", "objection", "choices", "history")
# Keys the format promises even before any app fills them.
PROMISED_SECTIONS = ("offers",)


def register_export_section(name: str, fn: Callable) -> None:
    if name in OWN_KEYS:
        raise ValueError(f"export section {name!r} belongs to consent")
    EXPORT_SECTIONS[name] = fn


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def customer_export(customer, *, at: dt.datetime | None = None) -> dict:
    at = at or timezone.now()
    page = customer_dashboard(customer, language="en", at=at)
    cards = page.cards
    objection = (
        {
            "active": True,
            "since": _iso(page.objection.since),
            "event_id": page.objection.state.event_id,
        }
        if page.objection
        else {"active": False}
    )
    choices = [
        {
            "purpose": card.code,
            "state": card.state.state if card.state else "not_set",
            "valid": card.is_valid,
            "version": card.state.purpose_version.version if card.state else None,
            "changed_at": _iso(card.state.changed_at) if card.state else None,
        }
        # Required purposes are not a choice; the export lists what the customer decides.
        for card in cards
        if not card.purpose.required
    ]
    history = [
        {
            "id": event.pk,
            "purpose": event.purpose.code if event.purpose else None,
            "action": event.action,
            "at": _iso(event.occurred_at),
            "channel": event.channel,
            "version": event.purpose_version.version if event.purpose_version else None,
            "notice_sha256": event.notice_sha256,
        }
        # The ledger's own order: oldest first, as the chain runs.
        for event in customer_history(customer).reverse()
    ]
    document = {
        "customer_number": customer.customer_number,
        "exported_at": _iso(at),
        "objection": objection,
        "choices": choices,
        "history": history,
    }
    for name in PROMISED_SECTIONS:
        document[name] = []
    for name, fn in EXPORT_SECTIONS.items():
        document[name] = list(fn(customer))
    return document
