"""Safe retries: the bank's app on a bad network sends a POST again when the answer got
lost. With the same `Idempotency-Key` it gets the first answer and nothing is written
again; without one, a choice that is already stored writes nothing either."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connections

from api.idempotency import prune_idempotency_keys
from api.models import ConsentChange, IdempotentRequest
from consent.models import ConsentState
from consent.renewals import is_renewal
from ledger.models import Action, ConsentEvent
from tests.connections import runtime_connection
from tests.factories import CustomerFactory

from .conftest import CHOOSE, READ, bearer, issue_token
from .test_feed_concurrency import in_thread

concurrent = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sanne(db, choose):
    """Sanne switched on offers based on where she pays, ten days ago; income is off."""
    sanne = CustomerFactory(customer_number="820001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


@pytest.fixture
def app(sanne, app_for):
    return app_for(sanne)


def shown(app, code):
    card = app.get(f"/api/v1/me/purposes/{code}").json()
    return {"version": card["version"], "notice_sha256": card["notice_sha256"]}


def choose(app, code, choice, key=None, **on_screen):
    headers = {"Idempotency-Key": key} if key else {}
    return app.post(
        f"/api/v1/me/purposes/{code}/choice",
        {"choice": choice, **on_screen},
        format="json",
        headers=headers,
    )


def written(customer):
    return (
        ConsentEvent.objects.filter(customer=customer).count(),
        ConsentChange.objects.filter(customer=customer).count(),
    )


def test_a_retried_grant_with_its_key_gets_the_first_answer_and_writes_nothing(app, sanne):
    on_screen = shown(app, "offers_income")
    first = choose(app, "offers_income", "grant", "retry-1", **on_screen)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    after_first = written(sanne)
    again = choose(app, "offers_income", "grant", "retry-1", **on_screen)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert written(sanne) == after_first


def test_a_refusal_is_replayed_too(app, sanne):
    stale = {"version": 1, "notice_sha256": "0" * 64}
    first = choose(app, "offers_income", "grant", "stale-1", **stale)
    again = choose(app, "offers_income", "grant", "stale-1", **stale)
    assert first.status_code == again.status_code == 409
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_for_another_request_is_refused_and_changes_nothing(app, sanne):
    on_screen = shown(app, "offers_income")
    choose(app, "offers_income", "grant", "one-key", **on_screen)
    before = written(sanne)
    other = choose(app, "offers_spending", "withdraw", "one-key")
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == other.json()["reason"] == "idempotency_key_reused"
    assert other.json()["type"].endswith("/api/v1/problems/idempotency-key-reused")
    assert written(sanne) == before
    spending = ConsentState.objects.get(customer=sanne, purpose__code="offers_spending")
    assert spending.state == Action.GRANTED


def test_a_key_belongs_to_its_holder_only(app, sanne, app_for):
    """Daan's app using the key Sanne's app used gets his own answer, not hers."""
    on_screen = shown(app, "offers_income")
    choose(app, "offers_income", "grant", "shared", **on_screen)
    daan = CustomerFactory(customer_number="820002")
    daans = app_for(daan)
    answer = choose(daans, "offers_income", "grant", "shared", **on_screen)
    assert answer.status_code == 200 and "Idempotent-Replayed" not in answer.headers
    assert written(daan)[0] == 1


def test_a_retried_stop_all_and_offer_answer_are_replayed(app, sanne):
    first = app.post("/api/v1/me/stop-all", headers={"Idempotency-Key": "stop"})
    again = app.post("/api/v1/me/stop-all", headers={"Idempotency-Key": "stop"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert written(sanne)[0] == 3  # granted, withdrawn, objected


def test_a_key_that_is_no_header_value_is_refused(app, sanne):
    answer = choose(app, "offers_spending", "withdraw", "x" * 256)
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/api/v1/problems/invalid-idempotency-key")
    assert written(sanne)[0] == 1


# --- Without a key: the domain writes nothing for a choice already stored --------------------
def test_the_same_grant_sent_twice_without_a_key_is_a_grant_and_a_renewal(app, sanne):
    on_screen = shown(app, "offers_income")
    first = choose(app, "offers_income", "grant", **on_screen)
    again = choose(app, "offers_income", "grant", **on_screen)
    assert first.json()["renewed"] is False and first.json()["events"][0]["renewal"] is False
    body = again.json()
    assert again.status_code == 200 and body["unchanged"] is False and body["renewed"] is True
    assert [event["renewal"] for event in body["events"]] == [True]
    history = app.get("/api/v1/me/history").json()["events"]
    assert [(e["action"], e["renewal"]) for e in history[:2]] == [
        ("granted", True),
        ("granted", False),
    ]
    assert written(sanne) == (3, 3)


def test_withdrawing_a_purpose_never_granted_22_times_writes_nothing(app, sanne):
    for _attempt in range(22):
        answer = choose(app, "offers_income", "withdraw")
        assert answer.json()["unchanged"] is True
    assert answer.json()["detail"] == "Dit stond al uit. Er is niets veranderd."
    assert written(sanne) == (1, 1)


def test_the_answer_that_nothing_changed_is_in_english_for_an_english_app(app, sanne):
    answer = app.post(
        "/api/v1/me/purposes/offers_income/choice",
        {"choice": "withdraw"},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert answer.json()["detail"] == "This was already off. Nothing has changed."


# --- Kept at least a day, then pruned ----------------------------------------------------------
def test_keys_are_kept_a_day_and_then_pruned(app, sanne, now):
    choose(app, "offers_spending", "withdraw", "old")
    assert prune_idempotency_keys(at=now + dt.timedelta(hours=23)) == 0
    assert prune_idempotency_keys(at=now + dt.timedelta(hours=25)) == 1
    assert not IdempotentRequest.objects.exists()


def test_the_prune_command_says_what_it_removed(db, capsys):
    call_command("prune_idempotency_keys")
    assert "0 idempotency keys removed" in capsys.readouterr().out


# --- Concurrency: two real connections -------------------------------------------------------
def post_in_thread(raw_token, path, body, key=None):
    def post():
        headers = {"Idempotency-Key": key} if key else {}
        answer = bearer(raw_token).post(path, body, format="json", headers=headers)
        return answer.status_code, answer.content, answer.headers.get("Idempotent-Replayed")

    return in_thread(post)


def customer_locked_while_two_requests_wait(customer, raw_token, body, keys):
    """Hold Sanne's row on another connection, send both requests, wait until both wait
    (on her row, or on the first request's key), then let go."""
    holder, observer = runtime_connection(), runtime_connection()
    observer.autocommit = True
    path = "/api/v1/me/purposes/offers_income/choice"
    with holder.transaction():
        holder.execute("SELECT 1 FROM consent_customer WHERE id = %s FOR UPDATE", [customer.pk])
        first = post_in_thread(raw_token, path, body, keys[0])
        wait_until_waiting(observer, 1)
        second = post_in_thread(raw_token, path, body, keys[1])
        wait_until_waiting(observer, 2)
    outcomes = []
    for thread, outcome in (first, second):
        thread.join(timeout=60)
        assert "error" not in outcome, outcome.get("error")
        outcomes.append(outcome["result"])
    holder.close()
    observer.close()
    return outcomes


def wait_until_waiting(observer, sessions):
    for _ in range(2000):
        count = observer.execute(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted"
        ).fetchone()[0]
        if count >= sessions:
            return
        observer.execute("SELECT pg_sleep(0.005)")
    pytest.fail(f"never {sessions} sessions waiting")


@pytest.fixture
def token_of_sanne():
    sanne = CustomerFactory(customer_number="820003")
    from .conftest import register_app

    return sanne, issue_token(register_app(), user=sanne.user, scope=f"{READ} {CHOOSE}")


def on_screen_now():
    from django.utils import timezone

    from consent.choices import notice_on_screen

    return notice_on_screen(purpose_code="offers_income", at=timezone.now())


@concurrent
def test_two_concurrent_requests_with_one_key_execute_once(token_of_sanne):
    sanne, token = token_of_sanne
    body = {"choice": "grant", **on_screen_now()}
    first, second = customer_locked_while_two_requests_wait(sanne, token, body, ["k", "k"])
    assert first[0] == second[0] == 200
    assert second[1] == first[1]
    assert (first[2], second[2]) == (None, "true")
    assert ConsentEvent.objects.filter(customer=sanne).count() == 1
    connections.close_all()


@concurrent
def test_two_concurrent_identical_grants_without_a_key_are_a_grant_and_its_renewal(
    token_of_sanne,
):
    sanne, token = token_of_sanne
    body = {"choice": "grant", **on_screen_now()}
    first, second = customer_locked_while_two_requests_wait(sanne, token, body, [None, None])
    assert first[0] == second[0] == 200
    events = list(ConsentEvent.objects.filter(customer=sanne).order_by("sequence"))
    assert [(e.action, is_renewal(e)) for e in events] == [
        (Action.GRANTED, False),
        (Action.GRANTED, True),
    ]
    kinds = ConsentChange.objects.filter(customer=sanne).order_by("id")
    assert list(kinds.values_list("kind", flat=True)) == ["granted", "renewed"]
