"""Informed consent, in the demo (`load_demo`, the real command): every purpose based on
consent says, inside the hashed text of its newest version, that consent can always be
withdrawn and how, and names every kind of data the offers rules running under it read
(their features, `offers.features`); the required purposes say why they keep data in plain
words. The new texts are published as a privacy officer would (`consent.demo_notices`)."""

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.db.models import Max
from django.utils import formats, timezone, translation

from consent.catalogue import DATA_CATEGORIES, WITHDRAWAL_SENTENCE, category_words
from consent.dashboard import current_versions
from consent.demo import DEMO_PASSWORD
from consent.demo_notices import publish_demo_versions
from consent.models import Customer, PurposeVersion
from consent.notices import readable_notice
from consent.validity import is_consent_valid
from ledger.models import ConsentEvent
from offers.features import FEATURE_CATEGORIES, FEATURE_PURPOSES
from offers.rules import RULES
from tests.pages import card_html, form_fields

# What customers consent to, pinned: the demo's new texts (nothing may change them).
NOTICE_SHA256 = {
    ("offers_spending", "nl"): "ca201ab5dc9fd6c578d141fcd0e1ed5b53e6edecbc7bff9e59a900004fe6bb29",
    ("offers_spending", "en"): "05070376bdb35408b8d86c4318d30f91d87a3fe8128981fa3205386f450f3d4c",
    ("offers_income", "nl"): "88435d1941455c61818cb10d31ae3de81151015cc946a9a1a3ba62b8b1aed0c5",
    ("offers_income", "en"): "5f01e7474529b1b8ff75c01b6cdc390a1cc5c5692ebabe251e3d17cdc3ebdad9",
    ("offers_balance", "nl"): "ef5611da39442b79f9865d2b78ed4da32bd8db20ba98e18fc2ad2acc70da2794",
    ("offers_balance", "en"): "bd5a902020b9cdff2edf6cc09a55cf8b454c8a8b34e3b0e72622dfa0de59f83f",
    ("payments", "nl"): "034afc597d56579a55a5f0b3d40ed903981b0c9c695568c5f5d838b3e1f0e3fd",
    ("payments", "en"): "c67dd90116d967ee3b1106ffdf6abfac1741d78b540c3abf30af8fd71dde1e83",
    ("fraud_prevention", "nl"): "16bbbaef9cc79b1fe8f84274282149f86a9e9f3a723d90352b6678b84e485c83",
    ("fraud_prevention", "en"): "c289ef80edf4657d4319af8301f68dad9572f31e18ffb08dd84e9acac14615ac",
}
OFFERS = ("offers_spending", "offers_income", "offers_balance")
REQUIRED = ("payments", "fraud_prevention")
# "Wwft" only where the words say what the law is for.
WWFT_EXPLAINED = {
    "nl": "de wet tegen witwassen en terrorismefinanciering, de Wwft",
    "en": "the Dutch law against money laundering and terrorist financing, the Wwft",
}


@pytest.fixture
def demo(db):
    """The demo as `make run` loads it, today."""
    call_command("load_demo", stdout=io.StringIO())


@pytest.fixture
def newest(demo):
    """Every purpose's text once every version published so far is in effect."""
    last = PurposeVersion.objects.aggregate(last=Max("published_at"))["last"]
    return {version.purpose.code: version for version in current_versions(at=last)}


@pytest.fixture
def income_v2(demo):
    return PurposeVersion.objects.get(purpose__code="offers_income", version=2)


def test_every_feature_has_its_categories_and_their_words():
    assert set(FEATURE_CATEGORIES) == set(FEATURE_PURPOSES)
    for categories in FEATURE_CATEGORIES.values():
        for category in categories:
            assert set(DATA_CATEGORIES[category]) == {"nl", "en"}
            assert category_words([category], "nl") != category


def test_every_consent_notice_says_how_to_withdraw(newest):
    consent_based = [v for v in newest.values() if v.purpose.legal_basis == "consent"]
    assert {v.purpose.code for v in consent_based} >= set(OFFERS)
    for version in consent_based:
        for language in ("nl", "en"):
            assert WITHDRAWAL_SENTENCE[language] in version.notice_text(language), (
                version,
                language,
            )


def test_every_rules_notice_names_all_the_data_its_features_read(newest):
    for rule in RULES:
        read = {category for feature in rule.features for category in FEATURE_CATEGORIES[feature]}
        for purpose in rule.purposes:
            version = newest[purpose]
            assert read <= set(version.data_categories), (rule.code, purpose, version)
            for language in ("nl", "en"):
                # In the hashed text (the codes), and in words where people read it.
                notice = version.notice_text(language)
                assert all(category in notice for category in read)
                words = category_words(version.data_categories, language)
                assert all(DATA_CATEGORIES[category][language] in words for category in read)


def test_the_new_texts_are_the_ones_whose_hashes_are_pinned(demo):
    new = PurposeVersion.objects.filter(version=2).select_related("purpose")
    hashes = {
        (version.purpose.code, language): version.notice_sha256(language)
        for version in new
        for language in ("nl", "en")
    }
    assert hashes == NOTICE_SHA256
    assert {v.published_by.username for v in new} == {"privacy"}
    assert {v.notice_format for v in new} == {2}


def test_spending_and_balance_are_in_force_and_income_is_announced_for_later(demo, now):
    current = {v.purpose.code: v for v in current_versions(at=timezone.now())}
    for code in ("offers_spending", "offers_balance", *REQUIRED):
        assert current[code].version == 2 and not current[code].material
        assert current[code].published_at < now
    assert current["offers_income"].version == 1
    # Naming the age is material: announced, in effect later.
    income = PurposeVersion.objects.get(purpose__code="offers_income", version=2)
    assert income.material and income.published_at > now


def test_the_demo_customers_consents_behave_as_the_new_texts_say(demo, income_v2, now):
    customers = {c.customer_number: c for c in Customer.objects.all()}
    # Not material: consents to version 1 keep counting; a later grant is on version 2.
    emma, noor, sanne = customers["100003"], customers["100005"], customers["100001"]
    assert is_consent_valid(customer=emma, purpose_code="offers_spending", at=now)
    assert is_consent_valid(customer=noor, purpose_code="offers_balance", at=now)
    sanne_spending = ConsentEvent.objects.filter(
        customer=sanne, purpose__code="offers_spending"
    ).order_by("-sequence")
    assert [e.purpose_version.version for e in sanne_spending] == [2, 1, 1]
    # Material: every income consent counts until the new text takes effect, not after.
    before = income_v2.published_at - dt.timedelta(minutes=1)
    with_income = [customers[number] for number in ("100004", "100005", "100006", "100007")]
    for customer in with_income:
        assert is_consent_valid(customer=customer, purpose_code="offers_income", at=before)
        assert not is_consent_valid(
            customer=customer, purpose_code="offers_income", at=income_v2.published_at
        )


def log_in(client, number: str) -> str:
    client.post("/accounts/login/", {"username": number, "password": DEMO_PASSWORD})
    return client.get("/").content.decode()


def test_the_dashboard_announces_the_income_change_with_its_date(client, income_v2):
    """Lucas consented to the income text: his card says when it changes, that his
    consent ends then, and lets him read the new text."""
    page = log_in(client, "100004")
    takes_effect = timezone.localtime(income_v2.published_at)
    with translation.override("nl"):
        day = formats.date_format(takes_effect, "j F Y")
    hour = takes_effect.strftime("%H:%M")
    announcement = page[page.index('id="change-offers_income"') :]
    assert f"Op {day} om {hour} uur verandert deze tekst." in announcement
    assert "een toestemming voor de huidige tekst geldt dan niet meer" in announcement
    assert f"Geldig tot {day}, {hour} uur" in page
    # The new text, readable before it applies: the age it names, how to withdraw.
    new_text = announcement[: announcement.index("</details>")]
    assert "uw leeftijd (uit uw geboortedatum)" in new_text
    assert "met één klik op de pagina Mijn privacykeuzes" in new_text
    income = card_html(client.get("/").content.decode(), "offers_income")
    # Still on, on version 1, until the day version 2 takes effect, which it announces.
    assert 'aria-checked="true"' in income and "dan verandert de tekst" in income
    assert form_fields(income, "/choices/offers_income/")["version"] == "1"
    assert f"Op {day} om {hour} uur verandert deze tekst." in income


def test_the_new_texts_are_on_an_english_customers_dashboard(demo, client):
    """Tess reads the spending text in force, with how to withdraw and the products it
    reads; the income change is announced to her as well."""
    page = log_in(client, "100007")
    assert WITHDRAWAL_SENTENCE["en"] in page
    assert "which products you already have with us" in page.lower()
    assert 'id="change-offers_income"' in page
    assert 'id="change-offers_spending"' not in page


def jargon(text: str, language: str) -> list[str]:
    """The legal shorthand a customer would have to look up."""
    found = re.findall(r"fiscale bewaarplicht|tax record-keeping", text, flags=re.IGNORECASE)
    explained = text.replace(WWFT_EXPLAINED[language], "")
    return found + re.findall(r"Wwft", explained)


def test_the_required_purposes_say_why_they_keep_data_in_plain_words(demo, client, now):
    current = {v.purpose.code: v for v in current_versions(at=now)}
    for code in REQUIRED:
        for language in ("nl", "en"):
            version = current[code]
            assert jargon(version.notice_text(language), language) == [], (code, language)
            assert jargon(readable_notice(version, language).as_text(), language) == []
    assert "witwassen en terrorismefinanciering" in current["fraud_prevention"].notice_text("nl")
    assert "de belastingwet verplicht ons" in current["payments"].notice_text("nl")
    assert jargon(log_in(client, "100002"), "nl") == []


def test_publishing_the_demo_texts_again_publishes_nothing(demo, capsys, now):
    versions = PurposeVersion.objects.count()
    call_command("load_demo", "--if-empty")
    assert "nothing loaded" in capsys.readouterr().out
    assert publish_demo_versions(officer=None, now=now) == []
    assert PurposeVersion.objects.count() == versions
