"""Customers and staff read a notice in words, never codes: the category codes as words,
the retention sentence once, no machine-readable rules line, no version number or
language code in what Klantenservice reads aloud. The hashed text is unchanged and shown
"voor controle", with its hash."""

import hashlib
import html
import re

import pytest
from django.contrib.auth.models import Group

from consent.catalogue import DATA_CATEGORIES
from consent.models import PurposeVersion
from consent.notices import readable_notice
from tests.factories import CustomerFactory, UserFactory, publish_version

CODES = re.compile(r"\b[a-z]+_[a-z_]+(\.[a-z_]+)?\b|=P\d+Y/")


def visible_text(page: str) -> str:
    """The page's text, without what sits in a closed "voor controle" disclosure."""
    page = re.sub(r'<details class="notice-exact[^"]*".*?</details>', "", page, flags=re.S)
    page = re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
def payments_v2(db):
    """A privacy officer published a new text for payments: its retention sentences and the
    rules line are generated from three rules with the same period."""
    return publish_version("payments", material=False)


@pytest.fixture
def klantenservice(db):
    user = UserFactory(username="kees", is_staff=True)
    user.groups.set([Group.objects.get(name="Klantenservice")])
    return user


def test_every_category_ever_published_has_words_in_both_languages(db):
    for categories in PurposeVersion.objects.values_list("data_categories", flat=True):
        for code in categories:
            assert set(DATA_CATEGORIES[code]) == {"nl", "en"}, code


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_public_notice_reads_in_words_and_keeps_the_exact_text_for_checking(
    client, db, language
):
    version = PurposeVersion.objects.get(purpose__code="offers_spending", version=1)
    before = version.notice_sha256(language)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    page = client.get("/purposes/offers_spending/v1/").content.decode()
    shown = visible_text(page)
    assert "card_payments" not in shown and "Tekstversie" not in shown
    words = DATA_CATEGORIES["card_payments.country"][language]
    assert words in shown
    # For checking: the exact hashed text and its hash, in a disclosure.
    exact = re.search(r'<details class="notice-exact[^"]*" id="exact-nl">.*?</details>', page, re.S)
    assert exact and html.escape(version.notice_text("nl")) in exact.group(0)
    assert version.notice_sha256("nl") in exact.group(0)
    assert version.notice_sha256(language) == before
    assert hashlib.sha256(version.notice_text(language).encode()).hexdigest() == before


@pytest.mark.parametrize("language", ["nl", "en"])
def test_after_publishing_customers_read_the_retention_once_and_no_rules_line(
    client, payments_v2, language
):
    exact = payments_v2.notice_text(language)
    assert "transactions=P7Y/relationship_end" in exact  # kept in the hashed text
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    page = client.get(f"/purposes/payments/v{payments_v2.version}/").content.decode()
    shown = visible_text(page)
    assert "P7Y" not in shown and "machine" not in shown.lower()
    for lang, section in re.findall(
        r'<section class="notice" lang="(..)"(.*?)</section>', page, re.S
    ):
        period = "7 jaar na het einde" if lang == "nl" else "7 years after the customer"
        assert visible_text(section).count(period) == 1, lang
    dashboard_customer = CustomerFactory(customer_number="620001")
    client.force_login(dashboard_customer.user)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    card = visible_text(client.get("/").content.decode())
    period = "7 jaar na het einde" if language == "nl" else "7 years after the customer"
    assert "P7Y" not in card
    assert card.count(period) == 1


def test_klantenservice_reads_words_aloud_and_sees_the_exact_text_for_checking(
    client, db, klantenservice
):
    customer = CustomerFactory(customer_number="620002", language="nl")
    client.force_login(klantenservice)
    url = f"/admin/consent/customer/{customer.customer_number}/act/grant/?purpose=offers_income"
    page = client.get(url).content.decode()
    aloud = html.unescape(
        re.search(r'<pre class="notice-text" id="notice-text"[^>]*>(.*?)</pre>', page, re.S).group(
            1
        )
    )
    version = PurposeVersion.objects.get(purpose__code="offers_income", version=1)
    assert "incoming_payments" not in aloud
    assert "Tekstversie" not in aloud and "(nl)" not in aloud and "Categorieën" not in aloud
    assert DATA_CATEGORIES["incoming_payments.institutional_payer"]["nl"] in aloud
    assert version.text("description", "nl") in aloud
    assert "In de taal van de klant: Nederlands" in page
    exact = re.search(r'<details class="notice-exact[^"]*".*?</details>', page, re.S).group(0)
    assert html.escape(version.notice_text("nl")) in exact
    assert version.notice_sha256("nl") in exact


def test_the_readable_notice_names_no_codes(db, payments_v2):
    for version in PurposeVersion.objects.select_related("purpose"):
        for language in ("nl", "en"):
            text = readable_notice(version, language).as_text()
            assert not CODES.search(text), (version, language, CODES.search(text))
