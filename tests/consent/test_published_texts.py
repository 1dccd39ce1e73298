"""A version's texts and facts on its card are rendered once per version and language
(consent.published_texts), and its notice's hash computed once (PurposeVersion): both
from the stored version alone, never from the customer who happens to ask first."""

import hashlib

from django.utils import timezone, translation
from markupsafe import escape

from consent.dashboard import customer_dashboard
from consent.models import PurposeVersion
from consent.published_texts import published_facts
from ledger.models import Action
from tests.factories import CustomerFactory, publish_version
from tests.pages import card_html


def card_for(customer, code, language="nl"):
    page = customer_dashboard(customer, language=language, at=timezone.now())
    return next(card for card in page.cards if card.code == code)


def test_every_customer_gets_the_same_facts_whatever_their_own_state(db, choose_now):
    on, never = CustomerFactory(first_name="Aanzetter"), CustomerFactory()
    choose_now(on, "offers_spending")
    with translation.override("nl"):
        first = published_facts(card_for(on, "offers_spending"))
        second = published_facts(card_for(never, "offers_spending"))
    assert second is first  # rendered once, for the first customer who asked
    version = card_for(on, "offers_spending").version
    assert escape(version.description_nl) in first
    # Nothing of the customer who asked first: no state, no name, no date of a choice.
    assert "Aanzetter" not in first and "sinds" not in first.lower()


def test_each_language_and_each_new_version_has_facts_of_its_own(db):
    customer = CustomerFactory()
    with translation.override("nl"):
        dutch = published_facts(card_for(customer, "offers_spending"))
    with translation.override("en"):
        english = published_facts(card_for(customer, "offers_spending", "en"))
    assert "Welke gegevens" in dutch and "Welke gegevens" not in english
    publish_version("offers_spending", material=False, description_nl="Nieuw: alleen dit.")
    with translation.override("nl"):
        newer = published_facts(card_for(customer, "offers_spending"))
    assert "Nieuw: alleen dit." in newer and "Nieuw: alleen dit." not in dutch


def test_the_page_shows_the_facts_of_the_version_the_customer_reads(client, db, choose_now):
    customer = CustomerFactory()
    choose_now(customer, "offers_spending", days_ago=3)
    choose_now(customer, "offers_spending", Action.WITHDRAWN)
    client.force_login(customer.user)
    card = card_html(client.get("/").content.decode(), "offers_spending")
    version = card_for(customer, "offers_spending").version
    assert escape(version.description_nl) in card
    assert "Uit sinds" in card
    assert f'value="{version.notice_sha256("nl")}"' in card


def test_a_stored_versions_hash_is_the_hash_of_its_text_in_each_language(db):
    for version in PurposeVersion.objects.select_related("purpose"):
        for language in ("nl", "en"):
            text = version.notice_text(language).encode()
            assert version.notice_sha256(language) == hashlib.sha256(text).hexdigest()
            assert version.notice_sha256(language) == hashlib.sha256(text).hexdigest()  # kept
    assert version.notice_sha256("nl") != version.notice_sha256("en")
