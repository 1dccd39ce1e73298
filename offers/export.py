"""The customer's offers and the data-use log in `/export.json` (GDPR Art. 15 and 20).
Only this customer's rows: every query filters on the customer."""

from consent.export import iso_utc

from .customer import data_uses
from .models import Offer


def offers_for_export(customer):
    language = customer.language
    offers = (
        Offer.objects.filter(customer=customer)
        .select_related("product")
        .order_by("created_at", "pk")
    )
    for offer in offers:
        yield {
            "id": offer.pk,
            "product": offer.product.code,
            "rule": offer.rule,
            "status": offer.status,
            "explanation": offer.explanation(language),
            "evidence": offer.evidence(language),
            "created_at": offer.created_at.isoformat(),
        }


def data_use_for_export(customer):
    """The data-use log: each time the offers engine read the customer's data."""
    for shown in data_uses(customer, language=customer.language):
        use = shown.use
        yield {
            "run": use.run_id,
            "read_at": iso_utc(shown.read_at),
            "purpose": shown.purpose_code,
            "consent_event_id": use.consent_event_id,
            "features": list(use.features),
            "window_days": use.window_days,
            "description": shown.data_read,
            "offered": shown.offered,
        }


def export_sections(*, customer, **_signal) -> list[tuple[str, object]]:
    """`consent.signals.export_sections`: offers' parts of the customer's export."""
    return [("offers", offers_for_export(customer)), ("data_use", data_use_for_export(customer))]
