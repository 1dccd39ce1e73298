from django.db.models import Prefetch

from consent.export import customer_export
from infra.languages import text_language
from ledger.models import ConsentEvent
from offers import engine, export
from offers.customer import data_uses, data_uses_query
from offers.models import Offer, OfferEvent

from .conftest import AS_OF


def test_export_lists_every_offer_in_the_documented_format(traveller, now):
    engine.generate_offers(as_of=AS_OF, now=now)
    Offer.objects.update(status="dismissed")
    (item,) = customer_export(traveller)["offers"]
    assert set(item) == {
        "id",
        "product",
        "rule",
        "status",
        "explanation",
        "evidence",
        "created_at",
        "valid_until",
        "relied_on",
        "events",
        "follow_up",
    }
    assert (item["product"], item["rule"], item["status"]) == (
        "travel_insurance_world",
        "travel_world_cover",
        "dismissed",
    )
    assert item["evidence"] == "2 kaartbetalingen in de Verenigde Staten, laatst op 21 okt"


def test_offers_and_data_use_read_together_are_what_each_read_alone_gives(traveller, now):
    """The two sections are read in one round trip; each is exactly what its own query
    read by the ORM gives: the same items, keys in the same order, the same values."""
    engine.generate_offers(as_of=AS_OF, now=now)
    assert Offer.objects.filter(customer=traveller).exists()
    assert data_uses(traveller, language="nl")
    offers = (
        Offer.objects.filter(customer=traveller)
        .select_related("product", "follow_up")
        .prefetch_related(
            Prefetch("events", queryset=OfferEvent.objects.order_by("occurred_at", "pk")),
            Prefetch("relied_on", queryset=ConsentEvent.objects.only("pk").order_by("pk")),
        )
        .order_by("created_at", "pk")
    )
    for language in (None, "en"):
        data = customer_export(traveller, language=language)
        texts = language or traveller.language
        alone = [export._offer(offer, texts, language) for offer in offers]
        assert data["offers"] == alone
        assert [list(item) for item in data["offers"]] == [list(item) for item in alone]
        rows = data_uses_query(text_language(texts)).rows({"customer_id": traveller.pk})
        alone = list(export.data_use_for_export(traveller, rows, language))
        assert data["data_use"] == alone
        assert [list(item) for item in data["data_use"]] == [list(item) for item in alone]
