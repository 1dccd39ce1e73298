"""Signed webhooks: a real receiver on 127.0.0.1 gets each feed row, signed as Standard
Webhooks says (checked here with the standard library only), retried on the back-off
schedule until it gives up, once however many workers send; nothing goes to an endpoint
that is disabled, unapproved, or of a client that may not follow the feed."""

import base64
import datetime as dt
import hashlib
import hmac
import io
import itertools
import json
import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from api import webhooks
from api.models import ConsentChange, DeliveryStatus, WebhookAttempt, WebhookDelivery
from api.webhooks import (
    RETRY_AFTER,
    WebhookRefused,
    deliver_due,
    disable_endpoint,
    queue_new_rows,
    register_endpoint,
    rotate_secret,
)
from ledger.models import Action
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory

from .conftest import register_app, register_system
from .webhook_receiver import Receiver, approved_endpoint, privacy_officer


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def crm(db):
    return register_system("CRM")


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side, from the specification alone (not `api.webhooks`)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.split(",", 1) for part in headers["webhook-signature"].split()]
    return any(version == "v1" and hmac.compare_digest(sig, expected) for version, sig in offered)


def grant(customer, purpose="offers_spending"):
    return choose_on_screen(customer, purpose, Action.GRANTED, at=timezone.now())


# --- Signing ---------------------------------------------------------------------------------
def test_signatures_match_the_standard_webhooks_published_test_vector():
    signature = webhooks.sign(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_worked_example_of_the_integrators_guide_is_what_we_sign():
    """docs/integrators.md, *Webhooks*, prints this signature; it must stay true."""
    secret = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    body = (
        b'{"type":"consent.changed","timestamp":"2026-11-02T09:30:00Z","data":{"id":4711,'
        b'"customer_number":"300001","purpose":"offers_spending","may_use":true,'
        b'"kind":"granted","effective_at":"2026-11-02T09:30:00Z",'
        b'"recorded_at":"2026-11-02T09:30:00Z","valid_until":"2028-11-01"}}'
    )
    signature = webhooks.sign(
        secret=secret, message_id="consent-change-4711", timestamp=1793611800, body=body
    )
    guide = (settings.BASE_DIR / "docs" / "integrators.md").read_text()
    assert secret in guide and signature in guide
    assert body.decode() in guide


def test_a_secret_is_whsec_and_base64_of_random_bytes():
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64
    assert secret != webhooks.new_secret()


# --- Delivering ------------------------------------------------------------------------------
def test_a_choice_reaches_the_receiver_signed_with_the_feed_row(crm, receiver):
    _endpoint, secret = approved_endpoint(crm, receiver.url)
    sanne = CustomerFactory(customer_number="300001")
    grant(sanne)

    counts = deliver_due(now=timezone.now())

    assert counts == {"queued": 1, "delivered": 1, "retrying": 0, "failed": 0}
    (got,) = receiver.received
    assert verify(secret, got.headers, got.body)
    row = ConsentChange.objects.get(customer=sanne)
    document = json.loads(got.body)
    assert document["type"] == "consent.changed"
    assert document["data"]["id"] == row.pk
    assert document["data"]["customer_number"] == "300001"
    assert document["data"]["purpose"] == "offers_spending"
    assert document["data"]["may_use"] is True
    assert document["data"]["kind"] == "granted"
    assert document["data"]["effective_at"].endswith("Z")
    assert got.headers["webhook-id"] == f"consent-change-{row.pk}"
    assert got.headers["content-type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    (attempt,) = WebhookAttempt.objects.all()
    assert (attempt.status_code, attempt.number, attempt.response) == (200, 1, "ok")


def test_the_payload_is_the_feeds_row(crm, receiver, feed_client):
    approved_endpoint(crm, receiver.url)
    grant(CustomerFactory())
    deliver_due(now=timezone.now())
    from_feed = feed_client.get("/api/v1/consent-changes").json()["changes"]
    assert json.loads(receiver.received[0].body)["data"] == from_feed[-1]


def test_a_rotated_secret_signs_with_the_old_one_during_the_overlap(crm, receiver):
    endpoint, old = approved_endpoint(crm, receiver.url)
    new = rotate_secret(endpoint_id=endpoint.pk, by=privacy_officer("petra"), at=timezone.now())
    grant(CustomerFactory())
    deliver_due(now=timezone.now())
    got = receiver.received[0]
    assert len(got.headers["webhook-signature"].split()) == 2
    assert verify(new.secret, got.headers, got.body) and verify(old, got.headers, got.body)
    grant(CustomerFactory())
    deliver_due(now=timezone.now() + webhooks.ROTATION_OVERLAP)
    later = receiver.received[1]
    assert verify(new.secret, later.headers, later.body)
    assert not verify(old, later.headers, later.body)


def test_a_receiver_answering_500_gets_every_retry_on_time_then_the_delivery_fails(
    crm, receiver, _frozen_clock
):
    receiver.status = 500
    approved_endpoint(crm, receiver.url)
    grant(CustomerFactory())

    first = deliver_due(now=timezone.now())
    assert first == {"queued": 1, "delivered": 0, "retrying": 1, "failed": 0}
    for wait in RETRY_AFTER:
        delivery = WebhookDelivery.objects.get()
        last = WebhookAttempt.objects.latest("number")
        assert delivery.due_at == last.attempted_at + wait
        # Not a moment early...
        assert deliver_due(now=delivery.due_at - dt.timedelta(seconds=1))["retrying"] == 0
        # ...and sent again once due.
        _frozen_clock.move_to(delivery.due_at)
        deliver_due(now=delivery.due_at)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.due_at is None
    attempts = list(WebhookAttempt.objects.order_by("number"))
    assert [a.number for a in attempts] == list(range(1, webhooks.MAX_ATTEMPTS + 1))
    assert {a.status_code for a in attempts} == {500}
    assert len(receiver.received) == webhooks.MAX_ATTEMPTS
    for (earlier, later), wait in zip(itertools.pairwise(attempts), RETRY_AFTER, strict=True):
        assert later.attempted_at >= earlier.attempted_at + wait
    assert dt.timedelta(hours=23) < attempts[-1].attempted_at - attempts[0].attempted_at
    # Given up: nothing is sent any more.
    assert deliver_due(now=timezone.now() + dt.timedelta(days=3))["retrying"] == 0
    assert len(receiver.received) == webhooks.MAX_ATTEMPTS


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(crm, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.2)
    receiver.hold.clear()  # it reads the request and then says nothing
    approved_endpoint(crm, receiver.url)
    grant(CustomerFactory())

    assert deliver_due(now=timezone.now())["retrying"] == 1
    receiver.hold.set()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "timeout" in attempt.error
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_a_refused_connection_is_a_failed_attempt_with_the_reason(crm):
    receiver = Receiver()
    receiver.stop()  # nobody listens on its port any more
    approved_endpoint(crm, receiver.url)
    grant(CustomerFactory())
    assert deliver_due(now=timezone.now())["retrying"] == 1
    assert "Connection refused" in WebhookAttempt.objects.get().error


# --- Who gets what ---------------------------------------------------------------------------
def test_a_disabled_endpoint_receives_nothing_not_even_what_was_waiting(crm, receiver):
    endpoint, _secret = approved_endpoint(crm, receiver.url)
    grant(CustomerFactory())
    queue_new_rows(now=timezone.now())
    disable_endpoint(endpoint_id=endpoint.pk, by=privacy_officer("petra"), at=timezone.now())
    grant(CustomerFactory())
    assert deliver_due(now=timezone.now()) == {
        "queued": 0,
        "delivered": 0,
        "retrying": 0,
        "failed": 0,
    }
    assert receiver.received == []
    assert WebhookDelivery.objects.get().status == DeliveryStatus.CANCELLED


def test_an_endpoint_receives_nothing_until_a_second_officer_approves_it(crm, receiver):
    registered = register_endpoint(
        application_id=crm.pk, url=receiver.url, by=privacy_officer("petra"), at=timezone.now()
    )
    grant(CustomerFactory())
    deliver_due(now=timezone.now())
    assert receiver.received == []
    with pytest.raises(WebhookRefused, match="eigen endpoint"):
        webhooks.approve_endpoint(
            endpoint_id=registered.endpoint.pk, by=privacy_officer("petra"), at=timezone.now()
        )
    webhooks.approve_endpoint(
        endpoint_id=registered.endpoint.pk, by=privacy_officer("pieter"), at=timezone.now()
    )
    # It follows the feed from its approval on: the earlier row is in a snapshot.
    assert deliver_due(now=timezone.now())["queued"] == 0
    grant(CustomerFactory())
    assert deliver_due(now=timezone.now())["delivered"] == 1


def test_an_endpoint_of_a_client_that_may_not_follow_the_feed_receives_nothing(crm, receiver, db):
    """The bank's app may not read the feed: it cannot get an endpoint, and one that
    exists anyway (written past the domain function) gets no rows."""
    app = register_app()
    with pytest.raises(WebhookRefused, match="client credentials"):
        register_endpoint(
            application_id=app.pk, url=receiver.url, by=privacy_officer("petra"), at=timezone.now()
        )
    endpoint, _secret = approved_endpoint(crm, receiver.url)
    endpoint.pk = None
    endpoint.application = app
    endpoint.save()
    grant(CustomerFactory())
    assert deliver_due(now=timezone.now())["delivered"] == 1
    assert not WebhookDelivery.objects.filter(endpoint__application=app).exists()


def test_each_system_gets_its_own_delivery_of_a_row(crm, receiver):
    other = Receiver()
    try:
        approved_endpoint(crm, receiver.url)
        approved_endpoint(register_system("E-mail"), other.url)
        grant(CustomerFactory())
        assert deliver_due(now=timezone.now())["delivered"] == 2
        assert len(receiver.received) == len(other.received) == 1
    finally:
        other.stop()


# --- Several workers -------------------------------------------------------------------------
def _in_thread(function, **kwargs):
    outcome: dict[str, object] = {}

    def run():
        try:
            outcome["result"] = function(**kwargs)
        except Exception as error:  # the test reads it
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_delivery_once(receiver):
    approved_endpoint(register_system("CRM"), receiver.url)
    for _ in range(12):
        grant(CustomerFactory())
    start = threading.Barrier(2)
    now = timezone.now()

    def worker():
        start.wait()
        totals = {"queued": 0, "delivered": 0}
        while True:
            counts = deliver_due(now=now, limit=3)
            totals["queued"] += counts["queued"]
            totals["delivered"] += counts["delivered"]
            if not any(counts.values()):
                return totals

    threads = [_in_thread(worker) for _ in range(2)]
    for thread, _outcome in threads:
        thread.join(timeout=60)
    results = [outcome["result"] for _thread, outcome in threads]
    assert sum(r["queued"] for r in results) == 12
    assert sum(r["delivered"] for r in results) == 12
    ids = [got.headers["webhook-id"] for got in receiver.received]
    assert len(ids) == len(set(ids)) == 12
    assert WebhookAttempt.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_worker_does_not_send_what_another_is_sending(receiver):
    """The first worker holds the delivery (its lease) while the receiver is slow; a
    second worker meanwhile finds nothing due."""
    approved_endpoint(register_system("CRM"), receiver.url)
    grant(CustomerFactory())
    receiver.hold.clear()
    now = timezone.now()
    first, outcome = _in_thread(deliver_due, now=now)
    assert receiver.arrived.wait(timeout=30)
    assert deliver_due(now=now + dt.timedelta(seconds=1)) == {
        "queued": 0,
        "delivered": 0,
        "retrying": 0,
        "failed": 0,
    }
    receiver.hold.set()
    first.join(timeout=30)
    assert outcome["result"]["delivered"] == 1
    assert len(receiver.received) == 1


# --- URLs ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://crm.bank.example/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://user:pw@crm.bank.example/hook",
        "ftp://crm.bank.example/hook",
    ],
)
def test_production_refuses_what_is_not_https_to_a_public_address(settings, url):
    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    assert webhooks.url_problems(url), url


def test_registering_http_with_production_settings_is_refused_in_words(settings, crm):
    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    with pytest.raises(WebhookRefused) as refusal:
        register_endpoint(
            application_id=crm.pk,
            url="http://127.0.0.1:8000/hook",
            by=privacy_officer("petra"),
            at=timezone.now(),
        )
    assert "https" in refusal.value.message and "127.0.0.1" in refusal.value.message


def test_the_production_settings_allow_no_local_http():
    code = (
        "import django; django.setup();"
        "from api.webhooks import url_problems;"
        "print(url_problems('http://127.0.0.1:8000/hook'));"
        "print(url_problems('https://crm.bank.example/hook'))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a-long-random-test-secret-" + "k" * 40,
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    refused, allowed = result.stdout.splitlines()
    assert "https" in refused, result.stderr
    assert allowed == "[]"


def test_the_banks_internal_networks_can_be_allowed_by_name(settings):
    import ipaddress

    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    settings.WEBHOOK_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.0.0/16")]
    assert webhooks.url_problems("https://10.1.2.3/hook") == []
    assert webhooks.url_problems("https://10.2.0.1/hook")


def test_a_name_that_resolves_to_a_private_address_is_not_sent_to(settings):
    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    answer = webhooks.send("https://localhost/hook", body=b"{}", headers={})
    assert answer.status_code is None and "SSRF" in answer.error


# --- The command -----------------------------------------------------------------------------
def test_the_command_says_what_it_did_in_numbers(crm, receiver):
    approved_endpoint(crm, receiver.url)
    grant(CustomerFactory())
    grant(CustomerFactory(), "offers_balance")
    out = io.StringIO()
    call_command("deliver_webhooks", "--once", stdout=out)
    assert out.getvalue().strip() == "2 queued, 2 delivered, 0 to retry, 0 failed"


# --- The admin -------------------------------------------------------------------------------
def test_privacy_officers_read_the_delivery_log_and_nobody_else(crm, receiver, client):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    receiver.status = 503
    approved_endpoint(crm, receiver.url)
    grant(CustomerFactory())
    deliver_due(now=timezone.now())
    delivery = WebhookDelivery.objects.get()

    client.force_login(privacy_officer("paula"))
    log = client.get("/admin/api/webhookattempt/")
    assert log.status_code == 200 and "503" in log.content.decode()
    page = client.get(f"/admin/api/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and "503" in page.content.decode()
    assert client.get(f"/admin/api/webhookdelivery/{delivery.pk}/delete/").status_code == 403
    endpoint_page = client.get(f"/admin/api/webhookendpoint/{delivery.endpoint_id}/change/")
    assert endpoint_page.status_code == 200
    assert delivery.endpoint.secret not in endpoint_page.content.decode()

    desk = UserFactory(username="klantenservice-kim", is_staff=True)
    desk.groups.set([Group.objects.get(name="Klantenservice")])
    client.force_login(desk)
    for url in (
        "/admin/api/webhookattempt/",
        f"/admin/api/webhookdelivery/{delivery.pk}/change/",
        "/admin/api/webhookendpoint/",
    ):
        assert client.get(url).status_code == 403, url


def test_two_officers_register_and_approve_an_endpoint_in_the_admin(crm, receiver, client):
    client.force_login(privacy_officer("petra"))
    answer = client.post(
        "/admin/api/webhookendpoint/add/", {"application": crm.pk, "url": receiver.url}
    )
    assert answer.status_code == 200
    from api.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in answer.content.decode()  # shown once, here
    assert client.post(f"/admin/api/webhookendpoint/{endpoint.pk}/approve/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.approved_at is None  # not by who registered it
    client.force_login(privacy_officer("pieter"))
    assert client.post(f"/admin/api/webhookendpoint/{endpoint.pk}/approve/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.approved_by.username == "pieter"
    rotated = client.post(f"/admin/api/webhookendpoint/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode()
    assert endpoint.secret_rotated_by.username == "pieter"


def test_the_admin_form_refuses_http_in_production_in_words(settings, crm, client):
    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    client.force_login(privacy_officer("petra"))
    answer = client.post(
        "/admin/api/webhookendpoint/add/",
        {"application": crm.pk, "url": "http://crm.bank.example/hook"},
    )
    assert "moet https zijn" in answer.content.decode()
