"""Advance notice (issue 25): the customer is told before a consent stops counting, at the
top of the dashboard and once by e-mail, and the history says so."""

import datetime as dt
import io
import threading

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from pytest_django.asserts import assertContains, assertNotContains

from consent.advance_notices import due_notices, remove_customer_notices, send_advance_notices
from consent.models import AdvanceNotice
from consent.validity import last_valid_day, start_of_day
from ledger.models import Action
from lifecycle import signals as lifecycle_signals
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory, publish_version_for_later

# Sixty days: a consent's last valid day is 59 days after the day it was given.
pytestmark = pytest.mark.usefixtures("short_consents")

EXPIRY_NL = "Uw toestemming voor ‘Aanbiedingen op basis van waar en hoe u betaalt’ verloopt op"
CHANGE_NL = "verandert de tekst van ‘Aanbiedingen op basis van waar en hoe u betaalt’"


@pytest.fixture
def short_consents(settings):
    settings.CONSENT_MAX_AGE_DAYS = 60


@pytest.fixture
def sanne(db, now):
    """Sanne switched on offers based on where she pays, today."""
    sanne = CustomerFactory(customer_number="330001", first_name="Sanne")
    choose_on_screen(sanne, "offers_spending", at=now)
    return sanne


def last_day(now):
    return last_valid_day(now)


def dashboard(client, customer):
    client.force_login(customer.user)
    return client.get("/")


def top_of(response):
    page = response.content.decode()
    start = page.index('id="summary"')
    return page[start : page.index("</section>", start)]


def sent_rows(customer):
    return list(
        AdvanceNotice.objects.filter(customer=customer).values_list("reason", "key", "status")
    )


# --- The top of the dashboard -------------------------------------------------------------
def test_the_dashboard_tells_thirty_days_before_the_last_valid_day_and_not_thirty_one(
    client, sanne, now, _frozen_clock
):
    end = last_day(now)
    _frozen_clock.move_to(start_of_day(end - dt.timedelta(days=31)) + dt.timedelta(hours=23))
    assert "coming-ends" not in top_of(dashboard(client, sanne))

    _frozen_clock.move_to(start_of_day(end - dt.timedelta(days=30)) + dt.timedelta(minutes=1))
    top = top_of(dashboard(client, sanne))
    assert EXPIRY_NL in top
    assert f"verloopt op {date_format(end, 'j F Y')}; daarna gebruiken wij" in top
    assert 'href="#purpose-offers_spending"' in top


def test_a_scheduled_material_text_is_told_at_once_with_its_day(client, sanne, now):
    takes_effect = timezone.localtime(now) + dt.timedelta(days=20)
    publish_version_for_later("offers_spending", at=takes_effect, now=now)
    top = top_of(dashboard(client, sanne))
    assert f"Op {takes_effect.day} november 2026 {CHANGE_NL} op een belangrijk punt" in top
    assert 'id="coming-text_change-offers_spending"' in top
    assert 'href="#purpose-offers_spending"' in top


def test_a_minor_text_change_is_not_told(client, sanne, now):
    publish_version_for_later(
        "offers_spending", at=now + dt.timedelta(days=20), now=now, material=False
    )
    assert "coming-ends" not in top_of(dashboard(client, sanne))
    assert due_notices(at=now) == []


def test_a_customer_whose_consent_is_off_is_not_told(client, sanne, now):
    daan = CustomerFactory(customer_number="330002")
    choose_on_screen(daan, "offers_spending", at=now - dt.timedelta(minutes=5))
    choose_on_screen(daan, "offers_spending", Action.WITHDRAWN, at=now - dt.timedelta(minutes=1))
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    assert "coming-ends" not in top_of(dashboard(client, daan))
    assert {due.customer_id for due in due_notices(at=now)} == {sanne.pk}


def test_the_summary_swapped_after_a_choice_keeps_the_notice(client, sanne, now):
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    client.force_login(sanne.user)
    page = client.get("/").content.decode()
    assert 'id="coming-ends"' in page
    swapped = client.get("/cards/offers_spending/", headers={"HX-Request": "true"})
    assert 'hx-swap-oob="outerHTML"' in swapped.content.decode()
    assert 'id="coming-ends"' in swapped.content.decode()


@pytest.mark.any_hour
def test_an_expiry_is_due_from_the_local_day_thirty_days_before_the_last_valid_day(sanne, now):
    end = last_day(now)
    day_before = start_of_day(end - dt.timedelta(days=30)) - dt.timedelta(microseconds=1)
    assert due_notices(at=day_before) == []
    (due,) = due_notices(at=start_of_day(end - dt.timedelta(days=30)))
    assert (due.reason, due.key, due.about_day) == ("expiry", end.isoformat(), end)


# --- The e-mail ----------------------------------------------------------------------------
def test_the_e_mail_is_in_dutch_from_the_bank_with_the_link_to_the_card(sanne, now, settings):
    at = start_of_day(last_day(now) - dt.timedelta(days=30))
    done = send_advance_notices(at=at)
    assert (done.due, done.sent) == (1, 1)
    (message,) = mail.outbox
    assert message.to == [sanne.email] and message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == (
        "Uw toestemming voor ‘Aanbiedingen op basis van waar en hoe u betaalt’ verloopt binnenkort"
    )
    assert "Beste Sanne," in message.body
    assert f"{EXPIRY_NL} {date_format(last_day(now), 'j F Y')}" in message.body
    assert f"{settings.CUSTOMER_SITE_URL}/#purpose-offers_spending" in message.body
    ((html, kind),) = message.alternatives
    assert kind == "text/html" and html.startswith('<html lang="nl">')
    assert f'<a href="{settings.CUSTOMER_SITE_URL}/#purpose-offers_spending">' in html
    assert "Uw toestemming voor &lsquo;" in html or "Uw toestemming voor ‘" in html
    assert sent_rows(sanne) == [("expiry", last_day(now).isoformat(), "sent")]
    assert send_advance_notices(at=at + dt.timedelta(days=1)).due == 0


def test_the_e_mail_is_in_english_for_a_customer_who_reads_english(db, now):
    emma = CustomerFactory(customer_number="330003", first_name="Emma", language="en")
    choose_on_screen(emma, "offers_spending", at=now)
    change = timezone.localtime(now) + dt.timedelta(days=20)
    version = publish_version_for_later("offers_spending", at=change, now=now)
    send_advance_notices(at=now)
    (message,) = mail.outbox
    assert message.subject == "The text of ‘Offers based on where and how you pay’ changes"
    assert "Dear Emma," in message.body
    assert (
        f"On {change.day} November 2026 the text of ‘Offers based on where and how you pay’"
        " changes in an important way" in message.body
    )
    assert sent_rows(emma) == [("text_change", str(version.pk), "sent")]


def test_a_second_run_sends_nothing(sanne, now):
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    assert send_advance_notices(at=now).sent == 1
    again = send_advance_notices(at=now + dt.timedelta(days=1))
    assert (again.due, again.sent, again.already_told) == (0, 0, 0)
    assert len(mail.outbox) == 1


def test_a_customer_without_an_e_mail_address_is_logged_as_not_sent(db, now):
    lex = CustomerFactory(customer_number="330004", email="")
    choose_on_screen(lex, "offers_spending", at=now)
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    done = send_advance_notices(at=now)
    assert (done.sent, done.no_address) == (0, 1) and mail.outbox == []
    (row,) = AdvanceNotice.objects.filter(customer=lex)
    assert (row.status, row.not_sent_because, row.sent_at) == (
        "no_address",
        "no e-mail address",
        None,
    )


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


def test_a_failed_send_keeps_the_log_and_is_sent_once_by_the_next_run(sanne, now, settings):
    """Our choice: a send that raises marks the row `failed` (nothing went out), and the
    next run claims it again and sends it; a sent one is never sent again."""
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingBackend"}}
    failed = send_advance_notices(at=now)
    assert (failed.sent, failed.failed) == (0, 1)
    (row,) = AdvanceNotice.objects.filter(customer=sanne)
    assert row.status == "failed" and "mail server down" in row.not_sent_because

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    retried = send_advance_notices(at=now + dt.timedelta(hours=1))
    assert (retried.sent, retried.failed) == (1, 0)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.not_sent_because) == ("sent", 2, "")
    assert send_advance_notices(at=now + dt.timedelta(hours=2)).sent == 0
    assert len(mail.outbox) == 1


def test_a_notice_a_dead_run_left_unconfirmed_is_counted_and_not_sent_again(sanne, now):
    """At most once: a run that died between claiming (or sending) and marking leaves the
    row `sending`; nobody knows whether the e-mail went, so it is not sent again."""
    version = publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    (due,) = due_notices(at=now)
    AdvanceNotice.objects.create(
        customer=sanne,
        purpose_id=due.purpose_id,
        version_id=due.version_id,
        reason=due.reason,
        key=str(version.pk),
        about_day=due.about_day,
        language="nl",
        status="sending",
        claimed_at=now - dt.timedelta(hours=2),
    )
    done = send_advance_notices(at=now)
    assert (done.due, done.sent, done.stuck) == (0, 0, 1)
    assert mail.outbox == []


class PeekingBackend(BaseEmailBackend):
    """Looks, at the moment of sending, at what another connection sees committed."""

    other = None
    seen: list = []

    def send_messages(self, email_messages):
        rows = PeekingBackend.other.execute(
            "SELECT status FROM consent_advancenotice ORDER BY id"
        ).fetchall()
        PeekingBackend.seen.append([status for (status,) in rows])
        mail.outbox.extend(email_messages)
        return len(email_messages)


@pytest.mark.django_db(transaction=True)
def test_the_claim_is_committed_before_the_e_mail_goes(now, owner_connection, settings):
    sanne = CustomerFactory(customer_number="330007")
    choose_on_screen(sanne, "offers_spending", at=now)
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    PeekingBackend.other, PeekingBackend.seen = owner_connection, []
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.PeekingBackend"}}
    assert send_advance_notices(at=now).sent == 1
    assert PeekingBackend.seen == [["sending"]]
    assert sent_rows(sanne)[0][2] == "sent"


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_e_mail(now):
    sanne = CustomerFactory(customer_number="330005", first_name="Sanne")
    choose_on_screen(sanne, "offers_spending", at=now)
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    start, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            start.wait()
            results.append(send_advance_notices(at=now))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(result.sent for result in results) == [0, 1]
    assert len(mail.outbox) == 1
    assert sent_rows(sanne) == [("text_change", sent_rows(sanne)[0][1], "sent")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("other_sender", ["commits", "rolls back"])
def test_a_run_waits_for_another_senders_claim_and_sends_only_if_that_one_did_not(
    now, owner_connection, other_sender
):
    """Deterministic: another sender has inserted the row and not committed yet (it is
    sending). Our run's INSERT waits for it; when it commits, ours sends nothing; when it
    rolls back (its run failed before sending), ours sends."""
    sanne = CustomerFactory(customer_number="330008")
    choose_on_screen(sanne, "offers_spending", at=now)
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    (due,) = due_notices(at=now)
    claim = [*(due.customer_id, due.purpose_id, due.version_id), due.reason, due.key]
    other = owner_connection
    other.execute("BEGIN")
    other.execute(
        "INSERT INTO consent_advancenotice (customer_id, purpose_id, version_id, reason, key,"
        " about_day, language, status, not_sent_because, attempts, claimed_at, sent_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, 'nl', 'sent', '', 1, %s, %s)",
        [*claim, due.about_day, now, now],
    )
    results = []

    def run():
        try:
            results.append(send_advance_notices(at=now))
        finally:
            connection.close()

    ours = threading.Thread(target=run)
    ours.start()
    ours.join(timeout=2)
    assert ours.is_alive(), "our run did not wait for the other sender's claim"
    other.execute("COMMIT" if other_sender == "commits" else "ROLLBACK")
    ours.join(timeout=30)
    (result,) = results
    expected = 0 if other_sender == "commits" else 1
    assert (result.sent, len(mail.outbox)) == (expected, expected)
    assert AdvanceNotice.objects.filter(customer=sanne).count() == 1


def test_choosing_who_is_due_takes_the_same_queries_for_one_customer_or_many(
    db, now, django_assert_num_queries
):
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    for n in range(1, 6):
        choose_on_screen(CustomerFactory(customer_number=f"33010{n}"), "offers_spending", at=now)
        with django_assert_num_queries(2):
            assert len(due_notices(at=now)) == n


def test_the_command_says_what_it_did_in_numbers(sanne, now):
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    out = io.StringIO()
    call_command("send_advance_notices", stdout=out)
    assert out.getvalue().startswith("1 notices due: 1 sent, 0 failed")


# --- The history and retention --------------------------------------------------------------
def test_the_history_says_the_customer_was_told(client, sanne, now):
    at = start_of_day(last_day(now) - dt.timedelta(days=30))
    send_advance_notices(at=at)
    client.force_login(sanne.user)
    response = client.get("/history/")
    assertContains(
        response,
        f"U kreeg bericht dat uw toestemming op {date_format(last_day(now), 'j F Y')} verloopt",
    )
    assertContains(response, "per e-mail")


def test_a_notice_not_sent_is_not_in_the_history(client, db, now):
    lex = CustomerFactory(customer_number="330006", email="")
    choose_on_screen(lex, "offers_spending", at=now)
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    send_advance_notices(at=now)
    client.force_login(lex.user)
    assertNotContains(client.get("/history/"), "U kreeg bericht")


def test_the_notices_go_with_the_proof_of_consent(sanne, now):
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=20), now=now)
    send_advance_notices(at=now)
    # Retention's `proof_removed` (the whole removal is tests/lifecycle's) calls this.
    live, _async = lifecycle_signals.proof_removed._live_receivers(None)
    assert remove_customer_notices in live
    (effect,) = remove_customer_notices(customer_id=sanne.pk, at=now)
    assert (effect.kind, effect.count) == ("advance_notices", 1)
    assert not AdvanceNotice.objects.filter(customer=sanne).exists()
