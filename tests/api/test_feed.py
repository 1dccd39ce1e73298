"""The consent change feed: every change in whether the bank may use a
customer for a purpose, in order, including the changes that are not events."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from api.changes import DERIVED_CHANGES, record_consent_changes, record_event
from api.models import ChangeKind, ConsentChange, FeedRead
from consent.choices import (
    StaleNotice,
    lift_objection,
    notice_on_screen,
    record_choice,
    stop_all_offers,
)
from consent.models import Customer
from consent.signals import event_recorded
from consent.validity import last_valid_day
from ledger.models import Action, Channel, ConsentEvent
from tests.factories import CustomerFactory, publish_version
from tests.legacy import legacy_grant
from tests.receivers import silenced

from .conftest import bearer, issue_token, register_system
from .follower import Follower, ndjson_lines, truth
from .follower import snapshot as snapshot_of

OFFERS = ("offers_spending", "offers_income", "offers_balance")
# Every direct-marketing purpose: the offers and the contact channels (consent 0013).
DIRECT_MARKETING = (*OFFERS, "contact_email", "contact_phone", "contact_post")


def feed(customer=None):
    rows = ConsentChange.objects.select_related("purpose").order_by("id")
    if customer is not None:
        rows = rows.filter(customer=customer)
    return [(row.purpose.code, row.kind, row.may_use) for row in rows]


# --- Rows written with the ledger --------------------------------------------------------------
def test_a_grant_and_a_withdrawal_are_in_the_feed_in_order(db, choose):
    sanne = CustomerFactory()
    choose(sanne, "offers_spending", days_ago=3)
    choose(sanne, "offers_spending", Action.WITHDRAWN, days_ago=1)
    assert feed(sanne) == [
        ("offers_spending", "granted", True),
        ("offers_spending", "withdrawn", False),
    ]


def test_a_change_row_names_the_event_and_when_it_took_effect(db, choose, now):
    sanne = CustomerFactory()
    (event,) = choose(sanne, "offers_income", days_ago=2).events
    row = ConsentChange.objects.get(event=event)
    assert row.customer == sanne and row.purpose.code == "offers_income"
    assert row.effective_at == event.occurred_at == now - dt.timedelta(days=2)
    assert row.valid_until == last_valid_day(event.occurred_at)


def test_an_objection_ends_every_offers_purpose_in_the_feed(db, choose, now):
    daan = CustomerFactory()
    choose(daan, "offers_balance")
    stop_all_offers(customer=daan, channel=Channel.APP, actor=daan.user, at=now)
    assert feed(daan) == [
        ("offers_balance", "granted", True),
        ("offers_balance", "withdrawn", False),
        *((code, "objected", False) for code in DIRECT_MARKETING),
    ]


def test_lifting_the_objection_switches_nothing_on_in_the_feed(db, now):
    daan = CustomerFactory()
    stop_all_offers(customer=daan, channel=Channel.APP, actor=daan.user, at=now)
    lift_objection(customer=daan, channel=Channel.APP, actor=daan.user, at=now)
    assert feed(daan)[-6:] == [(code, "objection_lifted", False) for code in DIRECT_MARKETING]


def test_a_refused_choice_writes_nothing_to_the_feed(db, choose, now):
    sanne = CustomerFactory()
    shown = notice_on_screen(purpose_code="offers_spending", at=now)
    publish_version("offers_spending", material=True)
    with pytest.raises(StaleNotice):
        record_choice(
            customer=sanne,
            purpose_code="offers_spending",
            action=Action.GRANTED,
            channel=Channel.APP,
            actor=sanne.user,
            at=timezone.now(),
            **shown,
        )
    assert feed(sanne) == []


def test_a_grant_recorded_under_16_is_in_the_feed_as_not_usable(db, now):
    teenager = CustomerFactory(birth_date=dt.date(2010, 11, 20))  # 16 on 20 November
    legacy_grant(teenager, "offers_spending", at=now - dt.timedelta(days=30))
    assert feed(teenager) == [("offers_spending", "granted", False)]


# --- Changes that are not events ----------------------------------------------------------------
def test_every_derived_kind_is_a_kind_of_change():
    assert {entry.kind for entry in DERIVED_CHANGES} <= set(ChangeKind.values)
    assert {"expired", "material_version", "turned_16"} <= {e.kind for e in DERIVED_CHANGES}


def test_an_expiry_is_recorded_once_it_has_taken_effect(db, choose, now, _frozen_clock):
    sanne = CustomerFactory()
    (event,) = choose(sanne, "offers_spending").events
    last_day = last_valid_day(event.occurred_at)

    _frozen_clock.move_to(timezone.make_aware(dt.datetime.combine(last_day, dt.time(23, 59))))
    assert record_consent_changes(now=timezone.now()) == []  # still valid on its last day

    _frozen_clock.move_to(
        timezone.make_aware(dt.datetime.combine(last_day, dt.time(23, 59)))
        + dt.timedelta(minutes=2)
    )
    (expiry,) = record_consent_changes(now=timezone.now())
    assert (expiry.kind, expiry.may_use, expiry.valid_until) == ("expired", False, None)
    assert expiry.effective_at == timezone.make_aware(
        dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min)
    )
    assert expiry.event is None


def test_rerunning_the_command_writes_nothing_twice(db, choose, now, _frozen_clock):
    sanne = CustomerFactory()
    choose(sanne, "offers_spending", days_ago=800)
    call_command("record_consent_changes", stdout=(out := _Out()))
    assert "1 changes recorded (expired 1)" in out.text
    call_command("record_consent_changes", stdout=(out := _Out()))
    assert "0 changes recorded" in out.text
    assert [kind for _code, kind, _may in feed(sanne)] == ["granted", "expired"]


def test_a_material_version_ends_earlier_consents_in_the_feed(db, choose, now):
    sanne, daan = CustomerFactory(), CustomerFactory()
    choose(sanne, "offers_spending", days_ago=5)
    choose(daan, "offers_income", days_ago=5)
    version = publish_version("offers_spending", material=True, at=now - dt.timedelta(hours=1))
    (change,) = record_consent_changes(now=timezone.now())
    assert (change.customer, change.purpose.code) == (sanne, "offers_spending")
    assert (change.kind, change.may_use) == ("material_version", False)
    assert change.effective_at == version.published_at


def test_a_non_material_version_changes_nothing_in_the_feed(db, choose, now):
    sanne = CustomerFactory()
    choose(sanne, "offers_spending", days_ago=5)
    publish_version("offers_spending", material=False, at=now - dt.timedelta(hours=1))
    assert record_consent_changes(now=timezone.now()) == []


def test_a_version_published_for_later_ends_nothing_until_it_applies(db, choose, now):
    sanne = CustomerFactory()
    choose(sanne, "offers_spending", days_ago=5)
    publish_version("offers_spending", material=True, at=now + dt.timedelta(days=1))
    assert record_consent_changes(now=timezone.now()) == []
    (change,) = record_consent_changes(now=now + dt.timedelta(days=1, seconds=1))
    assert change.kind == "material_version"


def test_turning_16_does_not_make_a_grant_given_under_16_count(db, now, _frozen_clock):
    teenager = CustomerFactory(birth_date=dt.date(2010, 11, 20))
    legacy_grant(teenager, "offers_spending", at=now - dt.timedelta(days=30))
    _frozen_clock.move_to(timezone.make_aware(dt.datetime(2026, 11, 20, 9, 0)))
    assert record_consent_changes(now=timezone.now()) == []
    assert feed(teenager) == [("offers_spending", "granted", False)]


def test_consents_recorded_before_the_feed_existed_are_put_right(db, choose):
    sanne = CustomerFactory()
    with silenced(event_recorded, record_event):  # the ledger before this app
        choose(sanne, "offers_balance", days_ago=10)
    (row,) = record_consent_changes(now=timezone.now())
    assert (row.kind, row.may_use, row.purpose.code) == ("reconciled", True, "offers_balance")
    assert record_consent_changes(now=timezone.now()) == []


# --- The downstream system's guarantee ----------------------------------------------------------
def test_a_follower_never_holds_a_consent_that_has_ended(db, choose, now, _frozen_clock, crm):
    """Withdrawal, objection, a material version, turning 16 and expiry, one after the
    other; after each (and the scheduled run that follows it) the follower holds exactly the
    consents that count."""
    follower = Follower(lambda: bearer(issue_token(crm, scope="consent:feed")), page_size=2)
    sanne = CustomerFactory(customer_number="700001")
    daan = CustomerFactory(customer_number="700002")
    teen = CustomerFactory(customer_number="700003", birth_date=dt.date(2010, 11, 20))

    def step():
        record_consent_changes(now=timezone.now())  # the schedule's job
        follower.catch_up()
        assert follower.holds(at=timezone.now()) == truth(at=timezone.now())

    choose(sanne, "offers_spending", days_ago=1)
    choose(sanne, "offers_income", days_ago=1)
    choose(daan, "offers_balance", days_ago=1)
    legacy_grant(teen, "offers_spending", at=now - dt.timedelta(days=1))
    step()
    assert follower.holds(at=timezone.now()) == {
        ("700001", "offers_spending"),
        ("700001", "offers_income"),
        ("700002", "offers_balance"),
    }

    choose(sanne, "offers_income", Action.WITHDRAWN)  # withdrawal
    step()
    stop_all_offers(customer=daan, channel=Channel.APP, actor=daan.user, at=timezone.now())
    step()
    lift_objection(customer=daan, channel=Channel.APP, actor=daan.user, at=timezone.now())
    step()
    choose(daan, "offers_balance", at=timezone.now())
    step()

    publish_version("offers_spending", material=True)  # ends Sanne's consent
    step()
    assert ("700001", "offers_spending") not in follower.holds(at=timezone.now())
    choose(sanne, "offers_spending", at=timezone.now())  # she chooses again, on v2
    step()

    _frozen_clock.move_to(timezone.make_aware(dt.datetime(2026, 11, 20, 8, 0)))  # teen is 16
    step()
    choose(teen, "offers_income", at=timezone.now())
    step()
    assert ("700003", "offers_income") in follower.holds(at=timezone.now())

    # Two years on: every consent has expired. `valid_until` already says so before the
    # scheduled job has run; its rows then say it in the feed.
    _frozen_clock.move_to(timezone.now() + dt.timedelta(days=800))
    assert follower.holds(at=timezone.now()) == truth(at=timezone.now()) == set()
    step()
    assert {row.kind for row in ConsentChange.objects.filter(id__gt=0)} >= {
        "granted",
        "withdrawn",
        "objected",
        "objection_lifted",
        "material_version",
        "expired",
    }
    assert follower.pages > 10  # it really followed page by page


def test_a_snapshot_and_the_feed_after_its_cursor_give_the_same_state(db, choose, crm):
    client = bearer(issue_token(crm, scope="consent:feed"))
    sanne, daan = CustomerFactory(), CustomerFactory()
    choose(sanne, "offers_spending", days_ago=2)
    choose(daan, "offers_spending", days_ago=2)
    first_load = Follower(client)
    first_load.load_snapshot("offers_spending")
    choose(daan, "offers_spending", Action.WITHDRAWN)
    first_load.catch_up()
    assert first_load.holds(at=timezone.now()) == truth(at=timezone.now())


# --- The feed endpoint ------------------------------------------------------------------------
def test_pages_are_bounded_and_the_cursor_continues_where_it_left_off(db, choose, feed_client):
    for _ in range(5):
        choose(CustomerFactory(), "offers_income", days_ago=1)
    first = feed_client.get("/api/v1/consent-changes", {"limit": 2}).json()
    assert len(first["changes"]) == 2 and first["has_more"]
    second = feed_client.get("/api/v1/consent-changes", {"after": first["next"], "limit": 2}).json()
    assert [c["id"] for c in second["changes"]] > [c["id"] for c in first["changes"]]
    rest = feed_client.get("/api/v1/consent-changes", {"after": second["next"]}).json()
    assert len(rest["changes"]) == 1 and not rest["has_more"]
    empty = feed_client.get("/api/v1/consent-changes", {"after": rest["next"]}).json()
    assert empty == {"changes": [], "next": rest["next"], "has_more": False}


def test_a_page_never_holds_more_than_the_maximum(db, choose, feed_client, settings):
    response = feed_client.get("/api/v1/consent-changes", {"limit": settings.API_FEED_PAGE_MAX + 1})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]


@pytest.mark.parametrize("after", ["-1", "abc", "1.5", str(2**63)])
def test_a_bad_cursor_is_a_clear_400(db, feed_client, after):
    response = feed_client.get("/api/v1/consent-changes", {"after": after})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["after"]


def test_a_change_says_who_what_and_whether_the_bank_may_use_it(db, choose, feed_client):
    sanne = CustomerFactory(customer_number="710001")
    choose(sanne, "offers_income", days_ago=1)
    (change,) = feed_client.get("/api/v1/consent-changes").json()["changes"]
    assert change["customer_number"] == "710001"
    assert change["purpose"] == "offers_income"
    assert change["kind"] == "granted" and change["may_use"] is True
    assert set(change) == {
        "id",
        "customer_number",
        "purpose",
        "may_use",
        "kind",
        "effective_at",
        "recorded_at",
        "valid_until",
    }


def test_every_read_is_logged_with_the_client_and_what_it_read(db, choose, crm, feed_client):
    choose(CustomerFactory(), "offers_income", days_ago=1)
    choose(CustomerFactory(), "offers_income", days_ago=1)
    feed_client.get("/api/v1/consent-changes", {"limit": 1})
    feed_client.get("/api/v1/purposes/offers_income/valid-customers")
    changes_read, snapshot = FeedRead.objects.order_by("id")
    assert (changes_read.client_id, changes_read.client_name) == (crm.client_id, "CRM")
    assert (changes_read.endpoint, changes_read.after_id, changes_read.rows) == (
        "consent-changes",
        0,
        1,
    )
    assert changes_read.last_id == ConsentChange.objects.order_by("id")[0].id
    assert (snapshot.endpoint, snapshot.purpose) == ("valid-customers", "offers_income")
    assert snapshot.last_id == ConsentChange.objects.order_by("-id")[0].id


def test_reads_are_logged_per_client(db, choose):
    crm, mail = register_system("CRM"), register_system("E-mail", secret="mail-" + "y" * 40)
    bearer(issue_token(crm, scope="consent:feed")).get("/api/v1/consent-changes")
    bearer(issue_token(mail, scope="consent:feed")).get("/api/v1/consent-changes")
    assert sorted(FeedRead.objects.values_list("client_name", flat=True)) == ["CRM", "E-mail"]


# --- The snapshot endpoint --------------------------------------------------------------------
def test_the_snapshot_lists_only_customers_whose_consent_counts_now(db, choose, feed_client):
    counts = CustomerFactory(customer_number="720001")
    expired = CustomerFactory(customer_number="720002")
    withdrawn = CustomerFactory(customer_number="720003")
    choose(counts, "offers_balance", days_ago=3)
    choose(expired, "offers_balance", days_ago=800)
    choose(withdrawn, "offers_balance", days_ago=3)
    choose(withdrawn, "offers_balance", Action.WITHDRAWN, days_ago=1)
    response = feed_client.get("/api/v1/purposes/offers_balance/valid-customers")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    body = Follower(feed_client).load_snapshot("offers_balance")
    assert [row["customer_number"] for row in body["customers"]] == ["720001"]
    assert body["cursor"] == ConsentChange.objects.order_by("-id")[0].id


@pytest.fixture
def five_customers(db, choose):
    """Five customers whose consent for the balance purpose counts."""
    for number in range(730001, 730006):
        choose(CustomerFactory(customer_number=str(number)), "offers_balance", days_ago=3)


def test_a_snapshot_is_one_json_object_per_line_and_ends_with_its_count(
    five_customers, feed_client
):
    response = feed_client.get(
        "/api/v1/purposes/offers_balance/valid-customers",
        headers={"Accept": "application/x-ndjson"},
    )
    lines = ndjson_lines(response)
    assert [line["type"] for line in lines] == ["snapshot", *["customer"] * 5, "end"]
    assert lines[-1]["customers"] == 5


def test_a_broken_snapshot_resumes_after_the_last_customer_received(
    five_customers, choose, feed_client
):
    """The stream broke after two customers; meanwhile the fourth withdrew and a sixth
    granted. The resumed part, then the feed from the first part's cursor, hold exactly
    what counts."""
    url = "/api/v1/purposes/offers_balance/valid-customers"
    first, *received, _end = ndjson_lines(feed_client.get(url))
    received = received[:2]  # the connection dropped here
    choose(Customer.objects.get(customer_number="730004"), "offers_balance", Action.WITHDRAWN)
    choose(CustomerFactory(customer_number="730006"), "offers_balance")
    resume = f"{first['cursor']}:{received[-1]['customer_number']}"
    resumed = snapshot_of(feed_client.get(url, {"resume": resume}))
    assert (resumed["cursor"], resumed["after"]) == (first["cursor"], "730002")
    follower = Follower(feed_client, cursor=first["cursor"])
    for row in received + resumed["customers"]:
        follower.latest[(row["customer_number"], "offers_balance")] = {
            "may_use": True,
            "valid_until": row["valid_until"],
        }
    follower.catch_up()
    holds = sorted(number for (number, _), last in follower.latest.items() if last["may_use"])
    assert holds == ["730001", "730002", "730003", "730005", "730006"]


@pytest.mark.parametrize("resume", ["", "730002", "1:", ":730002", "1:73-02", "1:730002:2"])
def test_a_resume_that_is_not_cursor_colon_customer_is_a_400(five_customers, feed_client, resume):
    response = feed_client.get(
        "/api/v1/purposes/offers_balance/valid-customers", {"resume": resume}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_resume_from_a_position_the_feed_never_reached_starts_from_the_feeds(
    five_customers, feed_client
):
    """A made-up cursor ahead of the feed would let a follower skip changes: the snapshot
    says the feed's own position instead."""
    position = ConsentChange.objects.order_by("-id")[0].id
    response = feed_client.get(
        "/api/v1/purposes/offers_balance/valid-customers", {"resume": "9999999:730003"}
    )
    body = snapshot_of(response)
    assert body["cursor"] == position
    assert [row["customer_number"] for row in body["customers"]] == ["730004", "730005"]


@pytest.mark.parametrize("code", ["payments", "nonsense", "offers_spending.json"])
def test_a_snapshot_of_a_purpose_without_consents_is_404(db, feed_client, code):
    response = feed_client.get(f"/api/v1/purposes/{code}/valid-customers")
    assert response.status_code == 404
    assert FeedRead.objects.count() == 0


# The runtime role may not UPDATE or DELETE it at all (`append_only` in api/apps.py).
def test_the_feed_is_append_only(db, choose):
    import django.db

    choose(CustomerFactory(), "offers_income", days_ago=1)
    with (
        pytest.raises(django.db.ProgrammingError, match="permission denied"),
        django.db.transaction.atomic(),
    ):
        ConsentChange.objects.update(may_use=False)
    with (
        pytest.raises(django.db.ProgrammingError, match="permission denied"),
        django.db.transaction.atomic(),
    ):
        ConsentChange.objects.all().delete()
    assert ConsentEvent.objects.count() == ConsentChange.objects.count() == 1


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass
