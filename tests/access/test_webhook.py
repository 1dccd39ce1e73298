"""The data user learns of a withdrawal through its feed's signed webhook: a real
receiver on 127.0.0.1, an endpoint registered and approved by two privacy officers."""

import json

import pytest
from django.utils import timezone

from api.models import ConsentChange, WebhookDelivery
from api.webhooks import deliver_due
from tests.access.test_flow import approve_on_site, ask
from tests.api.test_webhooks import verify
from tests.api.webhook_receiver import Receiver, approved_endpoint


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


def test_the_data_users_webhook_carries_the_withdrawal_and_never_the_banks_feed(
    tpp, client, sanne, data_user, receiver
):
    _endpoint, secret = approved_endpoint(data_user.application, receiver.url)
    asked = ask(tpp)
    approve_on_site(client, sanne, asked["consentId"])
    client.post(f"/access/{asked['consentId']}/withdraw/")
    # Sanne also chose something for the bank's own feed; it never goes to a data user.
    from tests.api.test_webhooks import grant

    grant(sanne)
    assert ConsentChange.objects.filter(customer=sanne).exists()

    counts = deliver_due(now=timezone.now())

    assert counts == {"queued": 2, "delivered": 2, "retrying": 0, "failed": 0}
    approved, withdrawn = sorted(
        receiver.received, key=lambda got: json.loads(got.body)["data"]["id"]
    )
    for got in (approved, withdrawn):
        assert verify(secret, got.headers, got.body)
    document = json.loads(withdrawn.body)
    assert document["type"] == "consent.third_party.changed"
    assert document["data"]["consentId"] == asked["consentId"]
    assert document["data"]["event"] == "revokedByPsu"
    assert withdrawn.headers["webhook-id"] == f"access-change-{document['data']['id']}"
    # Only its own feed: no delivery of the bank's consent-change feed to it.
    assert not WebhookDelivery.objects.filter(change__isnull=False).exists()
