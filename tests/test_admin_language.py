"""The admin speaks Dutch, and English: every model, field, action and
message of the bank's apps has a Dutch name and an English translation; the header shows
the bank; the purposes list shows titles and no error-like crosses."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db.models import CompositePrimaryKey
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import capfirst

from tests.factories import UserFactory

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


def english_catalogue() -> dict[str, str]:
    """msgid → msgstr (singular) of every entry in the English .po file."""
    text = PO.read_text(encoding="utf-8")
    catalogue = {}
    for block in text.split("\n\n")[1:]:
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr:
            catalogue[_joined(msgid.group(1))] = _joined(msgstr.group(1))
    return catalogue


def _joined(quoted: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', quoted)).replace('\\"', '"')


def our_models():
    return [m for label in ("consent", "offers") for m in apps.get_app_config(label).get_models()]


def test_the_english_catalogue_has_no_fuzzy_or_empty_entry():
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    empty = [msgid for msgid, msgstr in english_catalogue().items() if msgid and not msgstr]
    assert empty == []


@pytest.mark.parametrize("model", our_models(), ids=lambda m: m.__name__)
def test_every_model_and_field_has_a_dutch_name_with_an_english_translation(model):
    catalogue = english_catalogue()
    names = [model._meta.verbose_name, model._meta.verbose_name_plural]
    names += [
        field.verbose_name
        for field in model._meta.get_fields()
        if hasattr(field, "verbose_name")
        and not field.auto_created
        and not isinstance(field, CompositePrimaryKey)
    ]
    for name in names:
        assert isinstance(name, Promise), f"{model.__name__}: {name!r} is not translatable"
        assert str(name) in catalogue, f"{model.__name__}: {name!r} has no English"
    assert str(apps.get_app_config(model._meta.app_label).verbose_name) in catalogue


def test_every_admin_action_is_translated():
    catalogue = english_catalogue()
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("consent", "offers"):
            continue
        for action in model_admin.actions or ():
            if isinstance(action, str):
                description = getattr(type(model_admin), action).short_description
                assert str(description) in catalogue, description


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_the_header_shows_the_bank_not_django(client, superuser):
    client.force_login(superuser)
    html = client.get("/admin/").content.decode()
    assert "Voorbeeldbank" in html
    assert "Django-beheer" not in html and "Django administration" not in html


@pytest.mark.parametrize(
    ("language", "expected", "never"),
    [
        (
            "nl",
            ["Runs van de engine", "Aanbiedingen", "Tekstversies", "Terugbellijst", "Klanten"],
            ["Offer runs", "Purpose versions", "Follow ups", "Consent events"],
        ),
        (
            "en",
            ["Engine runs", "Offers", "Text versions", "Call-back list", "Customers"],
            ["Offer runs", "Runs van de engine", "Tekstversies", "Follow ups"],
        ),
    ],
)
def test_the_front_page_names_everything_in_the_staff_members_language(
    client, superuser, language, expected, never
):
    client.force_login(superuser)
    html = client.get("/admin/", headers={"accept-language": language}).content.decode()
    for text in expected:
        assert text in html, text
    for text in never:
        assert text not in html, text


@pytest.mark.parametrize(
    ("language", "raw_names"),
    [
        ("nl", ["Explanation nl", "Created at", "Staff evidence", "Status changed at", "As of"]),
        ("en", ["Explanation nl", "Explanation en", "Staff evidence nl", "As of"]),
    ],
)
def test_the_offer_page_has_no_raw_field_names(client, superuser, language, raw_names, choose):
    from tests.factories import CustomerFactory
    from tests.offers.factories import make_offer

    customer = CustomerFactory()
    choose(customer, "offers_spending", days_ago=3)
    offer = make_offer(customer)
    client.force_login(superuser)
    url = f"/admin/offers/offer/{offer.pk}/change/"
    html = client.get(url, headers={"accept-language": language}).content.decode()
    for raw in raw_names:
        assert raw not in html, raw
    with translation.override(language):
        assert capfirst(translation.gettext("uitleg voor de klant (Nederlands)")) in html


def test_the_purposes_list_shows_titles_and_optional_is_not_an_error(client, superuser):
    client.force_login(superuser)
    html = client.get("/admin/consent/purpose/").content.decode()
    assert "Aanbiedingen op basis van waar en hoe u betaalt" in html
    assert "keuze van de klant" in html and "nodig voor de rekening" in html
    assert "icon-no.svg" not in html and "icon-yes.svg" not in html
