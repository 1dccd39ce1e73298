"""Property-based tests of the contract: schemathesis generates requests
from docs/openapi.yaml, valid and invalid ones, and sends them to the running server.

With the right token: never a 5xx, every answer as the schema says (status, content type,
body). Without a token, or with a token that lacks the scope: never a 2xx, and nothing
written."""

import datetime as dt
import json
import uuid
import warnings
from pathlib import Path

import pytest
import requests
import schemathesis
from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis.errors import NonInteractiveExampleWarning

from consent.models import ConsentState
from ledger.models import ConsentEvent
from offers.models import Offer
from tests.factories import CustomerFactory
from tests.offers.factories import make_offer

from .conftest import CHECK, CHOOSE, FEED, READ, issue_token, register_app, register_system

AIS = "psd2:ais"


def register_data_user():
    from tests.access.conftest import register_data_user as register

    return register("Schemathesis-budgetapp")


schema = schemathesis.openapi.from_path(Path(django_settings.BASE_DIR) / "docs" / "openapi.yaml")
# Modest, so `make test` stays quick (one live server per operation); derandomised, so
# a run is repeatable.
EXAMPLES = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world(live_server, transactional_db, choose, settings):
    """Sanne (a consent, an open offer) with the app's token, and the CRM with the feed's;
    rate limits high enough not to be what is tested here."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "read": "100000/min",
            "choose": "100000/min",
            "feed": "100000/min",
        },
    }
    sanne = CustomerFactory(customer_number="960001")
    choose(sanne, "offers_spending", days_ago=30)
    make_offer(sanne, status="approved")
    app, crm = register_app(), register_system()
    return {
        "url": live_server.url,
        "customer": issue_token(app, user=sanne.user, scope=f"{READ} {CHOOSE}"),
        "read_only": issue_token(app, user=sanne.user, scope=READ),
        "feed": issue_token(crm, scope=FEED),
        "check": issue_token(crm, scope=CHECK),
        "ais": issue_token(register_data_user().application, scope=AIS),
    }


def scopes_of(case):
    (requirement,) = case.operation.definition.raw["security"]
    (scopes,) = requirement.values()
    return scopes


def ledger():
    return (
        ConsentEvent.objects.count(),
        sorted(ConsentState.objects.values_list("pk", "state")),
        sorted(Offer.objects.values_list("pk", "status")),
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@EXAMPLES
def test_every_operation_keeps_the_contract_and_needs_its_token(case, world):
    scopes = scopes_of(case)
    system = scopes in ([FEED], [CHECK], [AIS])
    # Without a valid token and scope: refused before anything is read or written.
    wrong = [{}, bearer("not-a-token")]
    if scopes:  # an operation for one kind of client (the purposes list is for any)
        wrong.append(bearer(world["customer"] if system else world["feed"]))
    if scopes == [CHOOSE]:
        wrong.append(bearer(world["read_only"]))
    if scopes == [CHECK]:
        wrong.append(bearer(world["feed"]))  # a system, but without the scope
    before = ledger()
    for headers in wrong:
        response = case.call(base_url=world["url"], headers=headers)
        assert response.status_code in (401, 403, 404), (headers, response.status_code)
        if response.status_code == 404:  # a path no endpoint matches: nothing behind it
            assert response.json()["type"].endswith("/api/v1/problems/not-found")
            assert response.json()["detail"] == "Niet gevonden."
        case.validate_response(response, excluded_checks=_not_for_refusals())
    assert ledger() == before

    # With it: never a 5xx, and every answer (status, content type, body) as documented.
    # A key names one action: a case that carries one gets its own (a key generated twice,
    # with another body, is rightly a 422: tests/api/test_idempotency.py).
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    token = {(FEED,): world["feed"], (CHECK,): world["check"], (AIS,): world["ais"]}.get(
        tuple(scopes), world["customer"]
    )
    excluded = []
    if case.operation.definition.raw["operationId"] in RULES_BEYOND_THE_SCHEMA:
        excluded = [_positive_data_acceptance()]
    case.call_and_validate(base_url=world["url"], headers=bearer(token), excluded_checks=excluded)


# Operations whose input has rules OpenAPI cannot state (a data user's consent: validUntil
# at most 180 days from today, the same accounts for each kind of data; a period: dateFrom
# not after dateTo, nor before what the consent allows): a schema-valid request may be a
# documented 400 there. Everything else is still checked.
RULES_BEYOND_THE_SCHEMA = {"third_party_consent_create", "third_party_transactions"}


def _positive_data_acceptance():
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    return positive_data_acceptance


def _not_for_refusals():
    from schemathesis.specs.openapi.checks import (
        ignored_auth,
        negative_data_rejection,
        positive_data_acceptance,
    )

    # Refused before the input is looked at: the input's validity decides nothing here.
    return [negative_data_rejection, positive_data_acceptance, ignored_auth]


# --- The examples phase: each operation's documented example, sent as it stands -----------------
EXAMPLE_IDS = json.loads(
    (Path(django_settings.BASE_DIR) / "api" / "openapi_examples.json").read_text()
)["parameters"]
# What a customer has done before the example makes sense (lifting needs an objection).
BEFORE = {"me_lift_objection": "/api/v1/me/stop-all"}


@pytest.fixture
def example_world(owner_connection, live_server, transactional_db, choose, settings):
    """Sanne (100001) as the examples name her: her first ledger event is the example's
    `event_id`, her approved offer the example's `offer_id`."""
    with owner_connection.cursor() as cursor:
        for table, next_id in (
            ("consent_consentevent", EXAMPLE_IDS["event_id"]),
            ("offers_offer", EXAMPLE_IDS["offer_id"]),
        ):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, next_id]
            )
    sanne = CustomerFactory(customer_number=EXAMPLE_IDS["customer_number"])
    choose(sanne, EXAMPLE_IDS["code"], days_ago=30)
    offer = make_offer(sanne, status="approved")
    # The check's second example: a customer whose consent expired.
    choose(CustomerFactory(customer_number="100002"), EXAMPLE_IDS["code"], days_ago=800)
    assert (ConsentEvent.objects.get(customer=sanne).pk, offer.pk) == (
        EXAMPLE_IDS["event_id"],
        EXAMPLE_IDS["offer_id"],
    )
    app, crm = register_app(), register_system()
    return {
        "url": live_server.url,
        "customer": issue_token(app, user=sanne.user, scope=f"{READ} {CHOOSE}"),
        "feed": issue_token(crm, scope=FEED),
        "check": issue_token(crm, scope=CHECK),
        "ais": _example_data_user(sanne),
    }


def _example_data_user(customer) -> str:
    """A data user whose consent (and Sanne's account under it) the examples name; its token."""
    from access.models import Permission, PermittedAccount
    from tests.access.stories import approved_and_read
    from tests.offers.factories import AccountFactory, TransactionFactory

    account = AccountFactory(customer=customer, iban="NL91TEST0000000001")
    TransactionFactory(account=account, booked_at=timezone.now() - dt.timedelta(days=3))
    permission = approved_and_read(customer, at=timezone.now())
    Permission.objects.filter(pk=permission.pk).update(
        consent_id=EXAMPLE_IDS["consent_id"], reads_today=0
    )
    PermittedAccount.objects.filter(permission=permission, account=account).update(
        resource_id=EXAMPLE_IDS["resource_id"]
    )
    return issue_token(permission.data_user.application, scope=AIS)


def takes_input(operation):
    """An operation with a path parameter or a body: there the examples decide whether a
    request reaches anything real (the others take only optional query parameters)."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(p["in"] == "path" for p in raw.get("parameters", []))


@pytest.mark.parametrize(
    "operation",
    [result.ok() for result in schema.get_all_operations() if takes_input(result.ok())],
    ids=lambda operation: operation.label,
)
def test_each_operations_example_is_sent_and_answered_as_documented(operation, example_world):
    """schemathesis's examples phase: the request built from the schema's examples alone
    reaches the real resource (no 404) and the answer is a success as documented."""
    strategies = operation.get_strategies_from_examples()
    assert strategies, f"{operation.label} has no example to send"
    token = {(FEED,): "feed", (CHECK,): "check", (AIS,): "ais"}.get(
        tuple(operation.definition.raw["security"][0]["oauth2"]), "customer"
    )
    headers = bearer(example_world[token])
    operation_id = operation.definition.raw["operationId"]
    if operation_id in BEFORE:
        requests.post(example_world["url"] + BEFORE[operation_id], headers=headers, timeout=10)
    cases = {}
    for strategy in strategies:  # one per example; several may build the same request
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonInteractiveExampleWarning)
            case = strategy.example()
        cases[repr((case.path_parameters, case.query, case.body))] = case
    for case in cases.values():
        response = case.call(base_url=example_world["url"], headers=headers)
        documented = min(s for s in operation.definition.raw["responses"] if s < "300")
        assert response.status_code == int(documented), (
            operation.label,
            response.status_code,
            response.text,
        )
        case.validate_response(response)
