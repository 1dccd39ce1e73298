"""Signed webhooks: the feed pushed to the bank's systems that prefer push to pull.

**Registering.** A privacy officer registers an endpoint for one of the bank's systems
(`register_endpoint`) and is shown its signing secret once; the endpoint receives nothing
until another privacy officer approves it (`approve_endpoint`: four eyes, as for a new
client, since it is a new destination for customer data). Rotating the secret
(`rotate_secret`) and disabling (`disable_endpoint`, final) take one officer. Every step
is recorded on the endpoint (who, when).

**Which URLs** (`url_problems`): https only, without credentials in it. In dev and test
settings (`WEBHOOK_ALLOW_LOCAL_HTTP`) also http to 127.0.0.1, ::1 or localhost. Against
SSRF, every address the host resolves to must be public (`ipaddress.is_global`) or in
`WEBHOOK_ALLOWED_NETWORKS` (the bank's internal receivers, named by network); an IP in
the URL is checked when registering and approving, the resolved addresses before each
send. Redirects are not followed. (The window between resolving and connecting remains:
route the workers' egress through a firewall that allows only the receivers.)

**Delivering.** An approved endpoint follows the feed like any client (`after_id`, from
its approval on; it sees what `permissions.sees_feed` lets its client see). A data
user's endpoint (a third party's, `access`) follows that data user's own feed instead
(`access.AccessChange`: its consents approved, refused, revoked, terminated, its
suspension), never the bank's. `deliver_due`
turns new feed rows into deliveries, takes the due ones one by one with SELECT … FOR
UPDATE SKIP LOCKED and moves each on by a lease before it commits, so that any number of
workers send each delivery once per due time, sends it (`TIMEOUT`, no redirects), writes the
attempt, and schedules the next (`RETRY_AFTER`) or gives up. At least once, not in
order: a worker that dies after sending leaves the delivery due again after the lease,
and a retried row arrives after later ones. Receivers dedupe by the feed id and order by
it (docs/integrators.md, *Webhooks*).

**Signing** (Standard Webhooks, https://www.standardwebhooks.com/): headers `webhook-id`,
`webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`, keyed with the base64-decoded part of `whsec_…`.
"""

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_application_model

from access.models import AccessChange

from . import changes
from .models import (
    ChangeKind,
    ConsentChange,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .oauth import is_data_user
from .permissions import sees_feed
from .serializers import ChangeSerializer

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REGISTER_PERMISSION = "api.add_webhookendpoint"
APPROVE_PERMISSION = "api.approve_webhookendpoint"
CHANGE_PERMISSION = "api.change_webhookendpoint"

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, no secret)
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64
# After a rotation the old secret signs too, this long.
ROTATION_OVERLAP = dt.timedelta(hours=24)

# The waits after each failed attempt; after the last one the delivery has failed.
# Seven attempts over about 24 hours.
RETRY_AFTER = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
    dt.timedelta(hours=16),
)
MAX_ATTEMPTS = 1 + len(RETRY_AFTER)
# A worker that takes a delivery has it for this long: time to send it (`TIMEOUT`) and
# write the attempt. If it dies meanwhile, another worker sends it again after this.
LEASE = dt.timedelta(minutes=2)
TIMEOUT = 5.0  # seconds, per connection attempt and per read
RESPONSE_KEPT = 1000  # characters of the receiver's answer kept in the log
# New feed rows turned into deliveries per endpoint per call.
QUEUE_BATCH = 1000

TYPES = {ChangeKind.RESNAPSHOT: "consent.resnapshot"}
DEFAULT_TYPE = "consent.changed"
USER_AGENT = "Voorbeeldbank-Webhooks/1"


class WebhookRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WithSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once to the officer; the receiver verifies with it


# --- Secrets and signatures ------------------------------------------------------------------
def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` of the `webhook-signature` header."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signing_secrets(endpoint: WebhookEndpoint, *, at: dt.datetime) -> list[str]:
    """The current secret, and the previous one while the rotation's overlap lasts."""
    found = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and at < (endpoint.previous_secret_until)
    ):
        found.append(endpoint.previous_secret)
    return found


# --- Which URLs ------------------------------------------------------------------------------
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
HTTPS_ONLY = _(
    "Een webhook-URL moet https zijn. Alleen in ontwikkel- en testinstellingen mag ook"
    " http naar 127.0.0.1 of localhost."
)


def _address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if settings.WEBHOOK_ALLOW_LOCAL_HTTP and address.is_loopback:
        return True
    if any(address in network for network in settings.WEBHOOK_ALLOWED_NETWORKS):
        return True
    return address.is_global


def _not_public(host: str):
    return _(
        "%(host)s is geen openbaar adres en ligt niet in WEBHOOK_ALLOWED_NETWORKS"
        " (bescherming tegen SSRF)."
    ) % {"host": host}


def url_problems(url: str) -> list[str]:
    """What is wrong with this URL for a webhook, in words (nothing: it may be used)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return [str(_("Dit is geen geldige URL."))]
    if not host:
        return [str(_("Dit is geen geldige URL."))]
    local = settings.WEBHOOK_ALLOW_LOCAL_HTTP and host in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return [str(HTTPS_ONLY)]
    if parts.username or parts.password:
        return [str(_("Een webhook-URL bevat geen gebruikersnaam of wachtwoord."))]
    if parts.fragment:
        return [str(_("Een webhook-URL heeft geen fragment (#…)."))]
    if host == "localhost" and not local:
        return [str(_not_public(host))]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return []  # a name: its addresses are checked before each send
    return [] if _address_allowed(address) else [str(_not_public(host))]


def _resolved_problem(url: str) -> str | None:
    """Before sending: every address the host resolves to now must be allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return f"{host}: {error}"
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not _address_allowed(address):
            return str(_not_public(f"{host} ({address})"))
    return None


# --- Registering -----------------------------------------------------------------------------
def register_endpoint(*, application_id: int, url: str, by: "User", at: dt.datetime) -> WithSecret:
    if not by.has_perm(REGISTER_PERMISSION):
        raise WebhookRefused(_("U mag geen webhooks registreren."))
    application = get_application_model().objects.filter(pk=application_id).first()
    # The bank's systems get the bank's feed; a data user (a third party) its own.
    if application is None or not (sees_feed(application) or is_data_user(application)):
        raise WebhookRefused(
            _("Alleen een systeem van de bank (client credentials) krijgt webhooks.")
        )
    _check_url(url)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        application=application, url=url, secret=secret, registered_by=by, registered_at=at
    )
    return WithSecret(endpoint=endpoint, secret=secret)


@transaction.atomic
def approve_endpoint(*, endpoint_id: int, by: "User", at: dt.datetime) -> WebhookEndpoint:
    """Another privacy officer approves: from now on, every new feed row is pushed."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.approved_at is not None or endpoint.disabled_at is not None:
        raise WebhookRefused(_("Over dit endpoint is al besloten."))
    if by.pk == endpoint.registered_by_id:
        raise WebhookRefused(
            _("U kunt uw eigen endpoint niet goedkeuren: dat doet een andere privacy officer.")
        )
    if not by.has_perm(APPROVE_PERMISSION):
        raise WebhookRefused(_("U mag webhooks niet goedkeuren."))
    _check_url(endpoint.url)  # the settings of now count
    endpoint.approved_by, endpoint.approved_at = by, at
    # It follows the feed from here; what came before is in a snapshot (`valid-customers`).
    # A data user's endpoint follows its own feed (`access.AccessChange`), from here too.
    endpoint.after_id = (
        _access_feed_position() if is_data_user(endpoint.application) else changes.feed_position()
    )
    endpoint.save(update_fields=["approved_by", "approved_at", "after_id"])
    return endpoint


@transaction.atomic
def rotate_secret(*, endpoint_id: int, by: "User", at: dt.datetime) -> WithSecret:
    """A new secret; the old one signs too for `ROTATION_OVERLAP`, so the receiver can
    switch over without refusing a delivery."""
    endpoint = _for_change(endpoint_id, by)
    secret = new_secret()
    endpoint.previous_secret, endpoint.previous_secret_until = (
        endpoint.secret,
        at + ROTATION_OVERLAP,
    )
    endpoint.secret = secret
    endpoint.secret_rotated_by, endpoint.secret_rotated_at = by, at
    endpoint.save(
        update_fields=[
            "previous_secret",
            "previous_secret_until",
            "secret",
            "secret_rotated_by",
            "secret_rotated_at",
        ]
    )
    return WithSecret(endpoint=endpoint, secret=secret)


@transaction.atomic
def disable_endpoint(*, endpoint_id: int, by: "User", at: dt.datetime) -> WebhookEndpoint:
    """No more deliveries: those still waiting are cancelled. Final: register again."""
    endpoint = _for_change(endpoint_id, by)
    endpoint.disabled_by, endpoint.disabled_at = by, at
    endpoint.save(update_fields=["disabled_by", "disabled_at"])
    # One being sent right now (taken before this commit) may still arrive.
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED, due_at=None, finished_at=at
    )
    return endpoint


def _for_change(endpoint_id: int, by: "User") -> WebhookEndpoint:
    if not by.has_perm(CHANGE_PERMISSION):
        raise WebhookRefused(_("U mag webhooks niet wijzigen."))
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.disabled_at is not None:
        raise WebhookRefused(_("Dit endpoint is uitgeschakeld."))
    return endpoint


def _check_url(url: str) -> None:
    problems = url_problems(url)
    if problems:
        raise WebhookRefused(" ".join(problems))


# --- Delivering ------------------------------------------------------------------------------
def round_said(counts: dict[str, int]) -> str:
    """A round of `deliver_due`, in numbers (its command and the schedule say it)."""
    return "{queued} queued, {delivered} delivered, {retrying} to retry, {failed} failed".format(
        **counts
    )


def deliver_due(*, now: dt.datetime, limit: int = 100) -> dict[str, int]:
    """Queue new feed rows, then send at most `limit` due deliveries, one at a time. The
    counts: `queued` (new deliveries), `delivered`, `retrying` (failed, sent again later)
    and `failed` (given up).

    Each delivery is taken (and leased) just before it is sent, so a lease covers one
    send, however long the round takes; `now` moves on with the round's own time, so a
    late delivery is signed with the moment it is sent, not the round's start."""
    started = time.monotonic()
    counts: Counter[str] = Counter(queued=queue_new_rows(now=now))
    for _turn in range(limit):
        at = now + dt.timedelta(seconds=time.monotonic() - started)
        delivery = _take_one(due_by=now, at=at)
        if delivery is None:
            break
        counts[_attempt(delivery, now=at)] += 1
    return {key: counts[key] for key in ("queued", "delivered", "retrying", "failed")}


@transaction.atomic
def queue_new_rows(*, now: dt.datetime) -> int:
    """Each active endpoint's new feed rows become its deliveries. An endpoint another
    worker is queueing for is skipped (its rows are queued once)."""
    queued = 0
    endpoints = (
        WebhookEndpoint.objects.filter(approved_at__isnull=False, disabled_at__isnull=True)
        .select_related("application")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
    )
    for endpoint in endpoints:
        if is_data_user(endpoint.application):
            queued += _queue_access_rows(endpoint, now=now)
            continue
        if not sees_feed(endpoint.application):
            continue
        # Ids become visible in order (`api.changes`): nothing below the last is missed.
        ids = list(
            ConsentChange.objects.filter(id__gt=endpoint.after_id)
            .order_by("id")
            .values_list("id", flat=True)[:QUEUE_BATCH]
        )
        if not ids:
            continue
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(endpoint=endpoint, change_id=pk, due_at=now, created_at=now)
                for pk in ids
            ]
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(after_id=ids[-1])
        queued += len(ids)
    return queued


def _access_feed_position() -> int:
    return AccessChange.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _queue_access_rows(endpoint: WebhookEndpoint, *, now: dt.datetime) -> int:
    """A data user's endpoint: its own feed's new rows (`access.AccessChange`, ids visible
    in order like the bank's feed), never the bank's feed."""
    ids = list(
        AccessChange.objects.filter(
            data_user__application_id=endpoint.application_id, id__gt=endpoint.after_id
        )
        .order_by("id")
        .values_list("id", flat=True)[:QUEUE_BATCH]
    )
    if not ids:
        return 0
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, access_change_id=pk, due_at=now, created_at=now)
            for pk in ids
        ]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(after_id=ids[-1])
    return len(ids)


@transaction.atomic
def _take_one(*, due_by: dt.datetime, at: dt.datetime) -> WebhookDelivery | None:
    """The first delivery due by `due_by` that no other worker holds, moved on by the
    lease before commit: no other worker takes it again within the lease."""
    delivery = (
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING,
            due_at__lte=due_by,
            endpoint__approved_at__isnull=False,
            endpoint__disabled_at__isnull=True,
        )
        .order_by("due_at", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )
    if delivery is None:
        return None
    delivery.due_at, delivery.attempts = at + LEASE, delivery.attempts + 1
    delivery.save(update_fields=["due_at", "attempts"])
    return delivery


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    response: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def payload(change: ConsentChange) -> bytes:
    """The body: the feed row as the feed gives it, under `data`; `data.id` is its feed
    id. The same bytes at every attempt."""
    data = ChangeSerializer(change).data
    document = {
        "type": TYPES.get(change.kind, DEFAULT_TYPE),
        "timestamp": data["recorded_at"],
        "data": data,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def message_id(change: ConsentChange) -> str:
    return f"consent-change-{change.pk}"


def access_payload(change: AccessChange) -> bytes:
    """The body for a data user: its feed's row as `GET /api/v1/consents/changes` gives it."""
    effective_at = change.effective_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    document = {
        "type": "consent.third_party.changed",
        "timestamp": effective_at,
        "data": {
            "id": change.id,
            "consentId": str(change.permission.consent_id),
            "event": change.event,
            "consentStatus": change.consent_status,
            "effectiveAt": effective_at,
        },
    }
    return json.dumps(document, separators=(",", ":")).encode()


def _attempt(delivery: WebhookDelivery, *, now: dt.datetime) -> str:
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    if delivery.access_change_id is not None:
        access_change = (
            AccessChange.objects.select_related("permission")
            .filter(pk=delivery.access_change_id)
            .first()
        )
        if access_change is None:  # removed with its permission (retention)
            return "removed"
        body, mid = access_payload(access_change), f"access-change-{access_change.pk}"
    else:
        change = (
            ConsentChange.objects.select_related("customer", "purpose")
            .filter(pk=delivery.change_id)
            .first()
        )
        if change is None:  # removed by retention meanwhile (the delivery went with it)
            return "removed"
        body, mid = payload(change), message_id(change)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": mid,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret=secret, message_id=mid, timestamp=timestamp, body=body)
            for secret in signing_secrets(endpoint, at=now)
        ),
    }
    answer = send(endpoint.url, body=body, headers=headers)
    return _record(delivery, answer, now=now)


@transaction.atomic
def _record(delivery: WebhookDelivery, answer: Answer, *, now: dt.datetime) -> str:
    locked = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
    if locked is None:  # removed by retention while it was being sent
        return "removed"
    WebhookAttempt.objects.create(
        delivery=locked,
        number=delivery.attempts,
        attempted_at=now,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        error=answer.error,
        response=answer.response,
    )
    if answer.ok:
        locked.status, locked.due_at, locked.finished_at = DeliveryStatus.DELIVERED, None, now
        outcome = "delivered"
    elif locked.status != DeliveryStatus.PENDING:  # cancelled while it was being sent
        return "cancelled"
    elif delivery.attempts >= MAX_ATTEMPTS:
        locked.status, locked.due_at, locked.finished_at = DeliveryStatus.FAILED, None, now
        outcome = "failed"
    else:
        locked.due_at = now + RETRY_AFTER[delivery.attempts - 1]
        outcome = "retrying"
    locked.save(update_fields=["status", "due_at", "finished_at"])
    return outcome


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the receiver's answer, not somewhere to go (SSRF)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def send(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST the body; the receiver's answer, or what went wrong, in words."""
    started = time.monotonic()

    def answer(status_code=None, response=b"", error=""):
        return Answer(
            status_code=status_code,
            response=response.decode("utf-8", errors="replace")[:RESPONSE_KEPT],
            error=error[:RESPONSE_KEPT],
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    problem = _resolved_problem(url)
    if problem is not None:
        return answer(error=problem)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (https, or loopback http in dev: url_problems)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return answer(response.status, response.read(RESPONSE_KEPT * 4))
    except urllib.error.HTTPError as error:
        return answer(error.code, error.read(RESPONSE_KEPT * 4))
    except Exception as error:  # whatever went wrong is the attempt's error, in words
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            return answer(error=f"timeout after {TIMEOUT:g} s")
        return answer(error=f"{type(reason).__name__}: {reason}")
