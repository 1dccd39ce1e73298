"""A customer who leaves the bank (`close_customer`, or `closed_on` in import_customers):
at once every consent is withdrawn by the system, open offers are retracted, the engine
and the pages skip the customer, and the login is disabled."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from api.models import ChangeKind, ConsentChange
from consent.choices import (
    CustomerClosed,
    notice_on_screen,
    record_choice,
    stop_all_offers,
)
from consent.models import ConsentState, Customer
from consent.validity import CLOSED, annotate_validity, valid_consents, why_not_valid
from ledger.models import Action, Channel, ConsentEvent
from lifecycle.leaving import CannotClose, close_customer
from offers.engine import generate_offers
from offers.models import Cause, FollowUp, Offer, OfferEvent
from tests.factories import CustomerFactory, UserFactory
from tests.offers.factories import AccountFactory, make_offer


def run(command, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def saver(db, grant):
    """Noor: 12,500 on her checking account, offers based on her balance and on where she
    pays switched on, an offer waiting for review."""
    noor = CustomerFactory(customer_number="820001", first_name="Noor")
    AccountFactory(customer=noor, balance="12500.00")
    grant(noor, "offers_balance", at=timezone.now() - dt.timedelta(days=3))
    grant(noor, "offers_spending", at=timezone.now() - dt.timedelta(days=3))
    make_offer(noor, rule="savings_account", now=timezone.now() - dt.timedelta(days=2))
    return noor


def test_leaving_withdraws_every_consent_records_the_departure_and_retracts_open_offers(saver):
    today = timezone.localdate()
    closed = close_customer(customer=saver, on=today, at=timezone.now())
    *withdrawals, departure = closed.events
    assert [(e.purpose.code, e.action, e.channel, e.actor_id) for e in withdrawals] == [
        ("offers_spending", Action.WITHDRAWN, Channel.SYSTEM, None),
        ("offers_balance", Action.WITHDRAWN, Channel.SYSTEM, None),
    ]
    # Leaving is itself a ledger event, with its day: retention counts from it.
    assert (departure.action, departure.channel, departure.actor_id, departure.left_on) == (
        Action.LEFT,
        Channel.SYSTEM,
        None,
        today,
    )
    assert not ConsentState.objects.filter(customer=saver, state=Action.GRANTED).exists()
    offer = Offer.objects.get(customer=saver)
    assert offer.status == "retracted"
    assert OfferEvent.objects.filter(offer=offer, to_state="retracted").count() == 1
    assert closed.effects["offers_retracted"] == 1
    saver.refresh_from_db()
    assert saver.closed_on == today and not saver.user.is_active


def test_open_offers_that_relied_on_no_consent_are_retracted_because_the_customer_left(saver):
    # Withdrawn earlier: the savings offer was retracted then; a new one relies on nothing
    # still granted once she leaves.
    offer = make_offer(saver, rule="travel_world_cover")
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    offer.refresh_from_db()
    assert offer.status == "retracted"
    assert offer.events.last().cause in (Cause.CONSENT_WITHDRAWN, Cause.CUSTOMER_LEFT)


def test_the_engine_and_validity_skip_a_customer_who_left(saver, now):
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    assert not valid_consents(at=now).filter(customer=saver).exists()
    run_ = generate_offers(as_of=timezone.localdate(), now=timezone.now())
    assert run_.counts["savings_account"]["considered"] == 0
    assert Offer.objects.filter(customer=saver, status__in=["proposed", "approved"]).count() == 0


def test_a_consent_of_a_customer_who_left_never_counts_even_if_the_state_says_granted(
    customer_who_consented, now
):
    # Leaving withdraws every consent; were one still granted (set the date by hand), it
    # would not count, and the reason says why.
    Customer.objects.filter(pk=customer_who_consented.pk).update(closed_on=now.date())
    customer_who_consented.refresh_from_db()
    assert not valid_consents(at=now).filter(customer=customer_who_consented).exists()
    state = annotate_validity(
        ConsentState.objects.filter(customer=customer_who_consented).select_related("purpose"),
        at=now,
    ).get()
    assert why_not_valid(state, customer_who_consented, at=now) == CLOSED


def test_nothing_is_switched_on_for_a_customer_who_left(saver, now):
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    saver.refresh_from_db()
    staff = UserFactory(is_staff=True)
    with pytest.raises(CustomerClosed):
        record_choice(
            customer=saver,
            purpose_code="offers_balance",
            action=Action.GRANTED,
            channel=Channel.PHONE,
            actor=staff,
            at=timezone.now(),
            **notice_on_screen(purpose_code="offers_balance", at=timezone.now()),
        )


def test_a_customer_who_left_cannot_log_in_and_a_session_from_before_ends(client, saver):
    saver.user.set_password("demo-privacy-2026")
    saver.user.save()
    client.force_login(saver.user)
    assert client.get("/").status_code == 200
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    # The session from before: the login is disabled, so it is a visitor now.
    assert client.get("/").status_code == 302
    response = client.post(
        "/accounts/login/", {"username": "820001", "password": "demo-privacy-2026"}
    )
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated


def test_a_page_refuses_a_customer_who_left_even_if_logged_in(client, saver):
    Customer.objects.filter(pk=saver.pk).update(closed_on=timezone.localdate())
    client.force_login(saver.user)  # the login itself is still active here
    response = client.get("/")
    assert response.status_code == 403
    assert "U bent geen klant meer" in response.content.decode()


def test_the_apps_tokens_are_revoked(saver):
    application = get_application_model().objects.create(
        name="app",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="nl.voorbeeldbank.app:/cb",
    )
    get_access_token_model().objects.create(
        user=saver.user,
        application=application,
        token="t" * 30,
        expires=timezone.now() + dt.timedelta(hours=1),
        scope="consent:read",
    )
    closed = close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    assert closed.effects["tokens_revoked"] == 1
    assert not get_access_token_model().objects.filter(user=saver.user).exists()


def test_the_feed_says_the_customer_left(saver):
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    last = ConsentChange.objects.filter(customer=saver).order_by("-id")[:2]
    assert [(c.kind, c.may_use) for c in last] == [(ChangeKind.LEFT_BANK, False)] * 2


def test_the_feed_says_left_bank_for_a_consent_that_stopped_counting_because_of_it(
    customer_who_consented,
):
    from api.changes import record_consent_changes

    record_consent_changes(now=timezone.now())
    Customer.objects.filter(pk=customer_who_consented.pk).update(closed_on=timezone.localdate())
    (change,) = record_consent_changes(now=timezone.now())
    assert (change.kind, change.may_use) == (ChangeKind.LEFT_BANK, False)
    assert record_consent_changes(now=timezone.now()) == []


def test_the_follow_up_list_leaves_out_customers_who_left(client, saver, grant):
    other = CustomerFactory(phone="+31 20 123 4567")
    grant(other, "offers_spending")
    make_offer(other, status="accepted")
    make_offer(saver, rule="travel_world_cover", status="accepted")
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    assert FollowUp.objects.count() == 2
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get("/admin/offers/followup/").content.decode()
    assert other.customer_number in page and "+31 20 123 4567" in page
    assert saver.customer_number not in page


# --- The date: once, not in the future, not before the customer's own choice ---------------
def test_leaving_again_on_the_same_day_changes_nothing_and_on_another_day_is_refused(saver):
    today = timezone.localdate()
    close_customer(customer=saver, on=today, at=timezone.now())
    events = ConsentEvent.objects.filter(customer=saver).count()
    again = close_customer(customer=saver, on=today, at=timezone.now())
    assert again.already_closed and again.events == []
    assert ConsentEvent.objects.filter(customer=saver).count() == events
    with pytest.raises(CannotClose, match="al af sinds"):
        close_customer(customer=saver, on=today - dt.timedelta(days=1), at=timezone.now())


def test_a_customer_cannot_leave_in_the_future_or_before_their_own_last_choice(saver):
    today = timezone.localdate()
    with pytest.raises(CannotClose, match="moet nog komen"):
        close_customer(customer=saver, on=today + dt.timedelta(days=1), at=timezone.now())
    with pytest.raises(CannotClose, match="koos nog iets"):
        close_customer(customer=saver, on=today - dt.timedelta(days=10), at=timezone.now())
    saver.refresh_from_db()
    assert saver.closed_on is None


def test_the_database_refuses_moving_or_clearing_the_day_a_customer_left(saver):
    """Not even the runtime role's own UPDATE can backdate a departure (which would make a
    chain look old enough to remove)."""
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    for sql in (
        "UPDATE consent_customer SET closed_on = closed_on - 3650 WHERE id = %s",
        "UPDATE consent_customer SET closed_on = NULL WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="cannot change"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [saver.pk])


def test_the_database_refuses_a_departure_before_a_choice(saver):
    with (
        pytest.raises(DatabaseError, match="after"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE consent_customer SET closed_on = '2001-01-01' WHERE id = %s", [saver.pk]
        )


# --- The command and the import ------------------------------------------------------------
def test_close_customer_says_what_it_did_and_is_idempotent(saver):
    today = timezone.localdate().isoformat()
    out = run("close_customer", "820001", "--on", today)
    assert out.strip() == (
        f"customer 820001 closed on {today}: 2 consent(s) withdrawn, offers_retracted 1,"
        " tokens_revoked 0; login disabled"
    )
    assert "already closed" in run("close_customer", "820001", "--on", today)
    with pytest.raises(CommandError, match="no customer 999999"):
        run("close_customer", "999999")
    with pytest.raises(CommandError, match="not a date"):
        run("close_customer", "820001", "--on", "gisteren")


HEADER = "customer_number,first_name,last_name,email,birth_date,language"


def test_import_customers_closes_customers_with_a_closed_on_date(saver, tmp_path):
    today = timezone.localdate().isoformat()
    path = tmp_path / "customers.csv"
    path.write_text(
        f"{HEADER},closed_on,phone\n"
        f"820001,Noor,Bakker,noor@example.nl,1985-05-17,nl,{today},+31 6 1111 2222\n"
        "820002,Daan,Smit,daan@example.nl,1990-01-01,en,,\n"
    )
    assert "created: 1, updated: 1, unchanged: 0, closed: 1" in run("import_customers", str(path))
    saver.refresh_from_db()
    assert saver.closed_on is not None and saver.phone == "+31 6 1111 2222"
    assert Offer.objects.get(customer=saver).status == "retracted"
    assert not ConsentState.objects.filter(customer=saver, state="granted").exists()
    assert Customer.objects.get(customer_number="820002").closed_on is None
    # Again: nothing changes, nobody is closed twice.
    assert "unchanged: 2, closed: 0" in run("import_customers", str(path))


def test_an_import_without_the_optional_columns_keeps_phone_numbers_and_departures(saver, tmp_path):
    Customer.objects.filter(pk=saver.pk).update(phone="+31 6 1111 2222")
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    path = tmp_path / "customers.csv"
    path.write_text(f"{HEADER}\n820001,Noor,Bakker,noor@example.nl,1985-05-17,nl\n")
    run("import_customers", str(path))
    saver.refresh_from_db()
    assert saver.phone == "+31 6 1111 2222" and saver.closed_on is not None


def test_bad_departure_dates_and_phone_numbers_are_reported_per_line(saver, tmp_path, capsys):
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    path = tmp_path / "customers.csv"
    path.write_text(
        f"{HEADER},phone,closed_on\n"
        f"820003,Eva,Jansen,eva@example.nl,1980-01-01,nl,,{future}\n"
        "820004,Bas,Visser,bas@example.nl,1980-01-01,nl,bel maar,\n"
    )
    with pytest.raises(CommandError, match="2 bad row"):
        call_command("import_customers", str(path))
    err = capsys.readouterr().err
    assert "line 2: closed_on" in err and "in the future" in err
    assert "line 3: phone 'bel maar'" in err
    assert not Customer.objects.filter(customer_number="820003").exists()


def test_a_departure_cannot_move_through_an_import(saver, tmp_path, capsys):
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    path = tmp_path / "customers.csv"
    path.write_text(
        f"{HEADER},closed_on\n820001,Noor,Bakker,noor@example.nl,1985-05-17,nl,2020-01-01\n"
    )
    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_customers", str(path))
    err = capsys.readouterr().err
    assert "line 2: customer 820001 left on" in err and "cannot change" in err


def test_a_departure_before_a_choice_is_a_bad_row(saver, tmp_path, capsys):
    path = tmp_path / "customers.csv"
    path.write_text(
        f"{HEADER},closed_on\n820001,Noor,Bakker,noor@example.nl,1985-05-17,nl,2020-01-01\n"
    )
    with pytest.raises(CommandError):
        call_command("import_customers", str(path))
    assert "line 2: customer 820001 made a choice on" in capsys.readouterr().err


def test_stop_all_still_works_for_a_customer_who_left(saver):
    """Withdrawing is never refused: stopping everything after leaving changes nothing
    that counts, and is recorded."""
    close_customer(customer=saver, on=timezone.localdate(), at=timezone.now())
    recorded = stop_all_offers(customer=saver, channel=Channel.PHONE, actor=None, at=timezone.now())
    assert [e.action for e in recorded.events] == [Action.OBJECTED]
