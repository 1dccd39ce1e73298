from consent.export import customer_export
from offers import engine
from offers.models import Offer

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
