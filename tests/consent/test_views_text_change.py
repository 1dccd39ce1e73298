"""A text published to take effect later: the card says the real last day of a consent
(the day the material version takes effect, not two years on) and tells the customer in
advance, with the new text and what changes."""

import datetime as dt

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from consent.validity import is_consent_valid, last_valid_day, start_of_day
from tests.factories import CustomerFactory, publish_version_for_later
from tests.pages import card_html, form_fields


@pytest.fixture
def sanne(db, client, choose, now):
    """Sanne switched on offers based on where she pays, a hundred days ago."""
    sanne = CustomerFactory(customer_number="630001", first_name="Sanne")
    choose(sanne, "offers_spending", at=now - dt.timedelta(days=100))
    client.force_login(sanne.user)
    return sanne


def change_on(now, days=30):
    return timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0) + (
        dt.timedelta(days=days)
    )


def card(client, code="offers_spending"):
    return card_html(client.get("/").content.decode(), code)


def test_before_any_change_the_card_says_two_years(client, sanne, now):
    assertContains(client.get("/"), "Geldig tot en met 23 juli 2028")


def test_a_material_change_for_later_ends_the_consent_on_its_day(client, sanne, now):
    monday = change_on(now)
    publish_version_for_later(
        "offers_spending", at=monday, now=now, description_nl="Een nieuwe zin over het land."
    )
    page = client.get("/").content.decode()
    assert "23 juli 2028" not in page
    day = monday.strftime("%-d")
    assert f"Geldig tot {day} december 2026, 09:00 uur" in page
    # Still on, on version 1 (what a choice on this card would be bound to), until Monday.
    shown = card(client)
    assert form_fields(shown, "/choices/offers_spending/")["version"] == "1"
    assert 'aria-checked="true"' in shown and f"Geldig tot {day} december 2026" in shown
    # The day the card names is the day validity says: valid just before, not after.
    assert is_consent_valid(
        customer=sanne, purpose_code="offers_spending", at=monday - dt.timedelta(minutes=1)
    )
    assert not is_consent_valid(customer=sanne, purpose_code="offers_spending", at=monday)
    # Told in advance, with the new text and what changes.
    assert f"Op {day} december 2026 om 09:00 uur verandert deze tekst." in page
    assert "een toestemming voor de huidige tekst geldt dan niet meer" in page
    assert "<ins>" in page and "Een nieuwe zin over het land." in page


def test_a_change_at_midnight_ends_the_day_before(sanne, now):
    midnight = start_of_day(timezone.localdate(now) + dt.timedelta(days=10))
    changed_at = now - dt.timedelta(days=100)
    assert last_valid_day(changed_at, material_change_at=midnight) == midnight.date() - (
        dt.timedelta(days=1)
    )
    assert last_valid_day(changed_at, material_change_at=None) == dt.date(2028, 7, 23)


def test_a_change_after_the_consent_expires_changes_nothing_of_its_last_day(client, sanne, now):
    publish_version_for_later("offers_spending", at=change_on(now, days=800), now=now)
    assertContains(client.get("/"), "Geldig tot en met 23 juli 2028")
    assert "dan verandert de tekst" not in card(client)


def test_a_minor_change_for_later_is_announced_and_the_consent_keeps(client, sanne, now):
    publish_version_for_later("offers_spending", at=change_on(now), now=now, material=False)
    response = client.get("/")
    assertContains(response, "Geldig tot en met 23 juli 2028")
    assertContains(response, "Uw keuze blijft dan gewoon gelden.")


def test_in_english_too(client, sanne, now):
    monday = change_on(now)
    publish_version_for_later("offers_spending", at=monday, now=now)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert f"Valid until {monday.day} December 2026, 09:00" in page
    assert "This text changes on" in page


def test_a_customer_who_never_chose_is_told_too_and_no_other_card_is(client, db, now):
    nobody = CustomerFactory(customer_number="630002")
    client.force_login(nobody.user)
    publish_version_for_later("offers_spending", at=change_on(now), now=now)
    response = client.get("/")
    assertContains(response, 'id="change-offers_spending"')
    assertNotContains(response, 'id="change-offers_income"')
    # Nothing of hers ends: she is not told that a consent will stop counting.
    assertContains(response, "Dit staat bij u uit, en dat blijft zo, tenzij u het zelf aanzet.")
    assertNotContains(response, "een toestemming voor de huidige tekst geldt dan niet meer")
