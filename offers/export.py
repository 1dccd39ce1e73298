"""The customer's offers in `/export.json` (DESIGN §11), every status included."""

from .models import Offer


def offers_for_export(customer) -> list[dict]:
    language = customer.language
    return [
        {
            "id": offer.pk,
            "product": offer.product.code,
            "rule": offer.rule,
            "status": offer.status,
            "explanation": offer.explanation(language),
            "evidence": offer.evidence(language),
            "created_at": offer.created_at.isoformat(),
        }
        for offer in Offer.objects.filter(customer=customer)
        .select_related("product")
        .order_by("created_at", "pk")
    ]
