"""Nobody under 16 can consent (UAVG art. 5): not through the form, not by waiting."""

import datetime as dt

from pytest_django.asserts import assertContains, assertNotContains

from consent.models import PurposeVersion
from ledger.models import ConsentEvent
from tests.factories import CustomerFactory
from tests.pages import choice_form, form_fields

# The frozen clock of tests/conftest.py says 2 November 2026.
FIFTEEN = dt.date(2011, 1, 15)  # 16 on 15 January 2027


def test_a_15_year_olds_grant_is_refused_with_409_and_writes_nothing(client, db):
    lotte = CustomerFactory(birth_date=FIFTEEN)
    client.force_login(lotte.user)
    # The published text's own version and hash: all a form could send.
    version = PurposeVersion.objects.get(purpose__code="offers_balance", version=1)
    response = client.post(
        "/choices/offers_balance/",
        {"choice": "grant", "version": "1", "notice_sha256": version.notice_sha256("nl")},
    )
    assertContains(response, "vanaf uw 16e verjaardag, op 15 januari 2027", status_code=409)
    assert not ConsentEvent.objects.filter(customer=lotte).exists()


def test_the_dashboard_offers_no_grant_button_under_16_and_says_from_when(client, db):
    lotte = CustomerFactory(birth_date=FIFTEEN)
    client.force_login(lotte.user)
    response = client.get("/")
    # The three offers purposes and the three contact channels.
    assertContains(response, "Vanaf 15 januari 2027 kunt u hier zelf voor kiezen", count=6)
    assertNotContains(response, 'value="grant"')
    assertNotContains(response, 'role="switch"')


def test_on_the_16th_birthday_the_switch_is_there(client, db, time_machine, database_date):
    lotte = CustomerFactory(birth_date=FIFTEEN)
    time_machine.move_to(dt.datetime(2027, 1, 15, 0, 1, tzinfo=dt.UTC))
    database_date(dt.date(2027, 1, 15))
    client.force_login(lotte.user)
    form = choice_form(client, "offers_balance", "grant")
    assert client.post("/choices/offers_balance/", form).status_code == 302
    assert ConsentEvent.objects.get(customer=lotte).action == "granted"


def test_a_stale_form_from_before_the_16th_birthday_cannot_grant(client, db):
    """The page of a 16-year-old, replayed by a 15-year-old, is still refused."""
    lotte = CustomerFactory(birth_date=FIFTEEN)
    older = CustomerFactory(birth_date=dt.date(1990, 1, 1))
    client.force_login(older.user)
    form = form_fields(client.get("/").content.decode(), "/choices/offers_spending/")
    client.force_login(lotte.user)
    response = client.post("/choices/offers_spending/", {**form, "choice": "grant"})
    assert response.status_code == 409
    assert not ConsentEvent.objects.filter(customer=lotte).exists()
