"""Publishing a purpose version is safe: it starts from the current
text, is previewed in both languages next to a word-level comparison, a material version
asks a second confirmation that says what it ends, and it may take effect later."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from consent.dashboard import current_versions
from consent.models import PurposeVersion
from consent.textdiff import Piece, word_diff
from consent.validity import is_consent_valid
from offers import engine
from offers.models import Offer
from tests.factories import CustomerFactory, UserFactory, publish_version
from tests.offers.factories import make_offer
from tests.pages import card_html, form_fields

ADD = "/admin/consent/purposeversion/add/"


@pytest.fixture
def officer(db):
    user = UserFactory(username="petra", is_staff=True)
    user.groups.set([Group.objects.get(name="Privacy officers")])
    return user


@pytest.fixture
def two_consents_one_offer(db, choose):
    """Two customers switched on offers based on where they pay; one has an approved
    offer resting on it, one a proposed offer; a third chose something else."""
    first, second, other = (CustomerFactory(customer_number=f"54000{n}") for n in (1, 2, 3))
    for customer in (first, second):
        choose(customer, "offers_spending", days_ago=5)
    choose(other, "offers_balance", days_ago=5)
    make_offer(first, status="approved")
    make_offer(other, rule="savings_account")
    return first, second


def spending():
    return PurposeVersion.objects.get(purpose__code="offers_spending", version=1)


def the_form(client):
    """The prefilled form, as the browser would send it back, with one sentence added."""
    version = spending()
    response = client.get(ADD, {"purpose": version.purpose_id})
    form = response.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data["data_categories"] = ",".join(data["data_categories"])
    data["purpose"] = version.purpose_id
    data["takes_effect_at"] = ""
    data["description_nl"] += " Wij kijken nu ook naar de naam van de winkel."
    data["description_en"] += " We now also look at the name of the shop."
    return {k: v for k, v in data.items() if k != "material"}


def submit(response, button):
    fields = form_fields(response.content.decode(), ADD)
    for other in ("_publish", "_edit"):
        if other != button:
            fields.pop(other, None)
    return fields


def test_a_new_version_starts_from_the_current_text(client, officer):
    client.force_login(officer)
    purpose_page = client.get(f"/admin/consent/purpose/{spending().purpose_id}/change/")
    assert f'href="{ADD}?purpose={spending().purpose_id}"' in purpose_page.content.decode()
    form = client.get(ADD, {"purpose": spending().purpose_id}).context["adminform"].form
    for name in ("title_nl", "description_en", "dpo_contact_nl", "data_categories"):
        assert form.initial[name] == getattr(spending(), name)
    assert "_save" not in client.get(ADD, {"purpose": spending().purpose_id}).content.decode()


def test_the_preview_shows_both_languages_next_to_a_word_level_comparison(client, officer):
    client.force_login(officer)
    response = client.post(ADD, {**the_form(client), "_preview": "1"})
    assert response.templates[0].name == "admin/consent/purposeversion/preview.html"
    html = response.content.decode()
    assert 'id="preview-nl"' in html and 'id="preview-en"' in html
    assert "Aanbiedingen op basis van waar en hoe u betaalt" in html
    assert "Offers based on where and how you pay" in html
    nl = html[html.index('id="diff-nl"') : html.index('id="preview-en"')]
    assert "<ins>Wij kijken nu ook naar de naam van de winkel.</ins>" in nl
    # The version number, and the first version's hand-written retention sentence: from
    # now on it is made from the version's rules, which are in the text too.
    assert nl.count("<del>") == 3
    assert "Bewaarregels (machineleesbaar): offers=P1Y/offer_closed" in nl
    assert "Tekstversie: <del>1</del><ins>2</ins>" in nl
    assert "style=" not in html and "<script>" not in html
    assert PurposeVersion.objects.filter(purpose__code="offers_spending").count() == 1


def test_a_non_material_version_is_published_from_the_preview(client, officer):
    client.force_login(officer)
    preview = client.post(ADD, {**the_form(client), "_preview": "1"})
    response = client.post(ADD, submit(preview, "_publish"), follow=True)
    assert "Versie 2 van" in response.content.decode()
    new = PurposeVersion.objects.get(purpose__code="offers_spending", version=2)
    assert not new.material and new.published_by == officer
    assert new.description_nl.endswith("Wij kijken nu ook naar de naam van de winkel.")


def test_a_material_version_asks_a_second_confirmation_saying_what_it_ends(
    client, officer, two_consents_one_offer
):
    first, second = two_consents_one_offer
    client.force_login(officer)
    preview = client.post(ADD, {**the_form(client), "material": "on", "_preview": "1"})
    confirm = client.post(ADD, submit(preview, "_publish"))

    assert confirm.templates[0].name == "admin/consent/purposeversion/confirm_material.html"
    html = confirm.content.decode()
    assert "2 geldige toestemmingen vervallen" in html
    assert "1 open aanbieding die erop steunt wordt ingetrokken." in html
    assert PurposeVersion.objects.filter(purpose__code="offers_spending").count() == 1
    assert Offer.objects.get(customer=first).status == "approved"

    done = client.post(ADD, submit(confirm, "_publish"), follow=True)
    message = done.content.decode()
    assert "2 toestemmingen moeten opnieuw worden gegeven." in message
    assert "1 open aanbieding is ingetrokken." in message
    assert Offer.objects.get(customer=first).status == "retracted"
    assert not is_consent_valid(customer=second, purpose_code="offers_spending", at=timezone.now())


def test_going_back_from_the_confirmation_keeps_the_text_and_publishes_nothing(client, officer):
    client.force_login(officer)
    preview = client.post(ADD, {**the_form(client), "material": "on", "_preview": "1"})
    confirm = client.post(ADD, submit(preview, "_publish"))
    back = client.post(ADD, submit(confirm, "_edit"))
    form = back.context["adminform"].form
    assert form.data["description_en"].endswith("We now also look at the name of the shop.")
    assert form.data["material"] == "on"
    assert PurposeVersion.objects.filter(purpose__code="offers_spending").count() == 1


def test_a_version_for_a_future_date_takes_effect_on_that_date(
    client, officer, two_consents_one_offer
):
    first, second = two_consents_one_offer
    monday = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(
        days=7
    )
    client.force_login(officer)
    form = {
        **the_form(client),
        "material": "on",
        "takes_effect_at": monday.strftime("%Y-%m-%dT%H:%M"),
    }
    preview = client.post(ADD, {**form, "_preview": "1"})
    confirm = client.post(ADD, submit(preview, "_publish"))
    assert "Dat gebeurt vanaf" in confirm.content.decode()
    client.post(ADD, submit(confirm, "_publish"))

    new = PurposeVersion.objects.get(purpose__code="offers_spending", version=2)
    assert new.published_at == monday
    # Until Monday: the old text is the one customers read, their consent counts, the
    # approved offer stays.
    assert is_consent_valid(customer=first, purpose_code="offers_spending", at=timezone.now())
    assert Offer.objects.get(customer=first).status == "approved"
    client.force_login(second.user)
    card = card_html(client.get("/").content.decode(), "offers_spending")
    # On, counting, and a choice on it is bound to version 1.
    assert 'aria-checked="true"' in card and "Kies opnieuw" not in card
    assert form_fields(card, "/choices/offers_spending/")["version"] == "1"

    with time_machine.travel(monday + dt.timedelta(minutes=1), tick=False):
        assert not is_consent_valid(
            customer=first, purpose_code="offers_spending", at=timezone.now()
        )
        run = engine.generate_offers(as_of=timezone.localdate(), now=timezone.now())
        offer = Offer.objects.get(customer=first, rule="travel_world_cover")
        assert (run.retracted, offer.status) == (1, "retracted")
        assert offer.events.get(to_state="retracted").run == run
        client.force_login(second.user)  # a week later: a new session
        card = card_html(client.get("/").content.decode(), "offers_spending")
        assert "Kies opnieuw: de tekst is veranderd." in card
        assert form_fields(card, "/choices/offers_spending/")["version"] == "2"


def test_a_version_cannot_take_effect_in_the_past_or_before_the_newest_one(client, officer, now):
    client.force_login(officer)
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    form = {**the_form(client), "takes_effect_at": yesterday.strftime("%Y-%m-%dT%H:%M")}
    response = client.post(ADD, {**form, "_preview": "1"})
    assert "Kies een moment in de toekomst" in response.content.decode()

    from tests.factories import publish_version_for_later

    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=30), now=now)
    soon = timezone.localtime() + dt.timedelta(days=2)
    form = {**the_form(client), "takes_effect_at": soon.strftime("%Y-%m-%dT%H:%M")}
    preview = client.post(ADD, {**form, "_preview": "1"})
    refused = client.post(ADD, submit(preview, "_publish"))
    assert "een nieuwe versie kan niet eerder gelden" in refused.content.decode()
    assert PurposeVersion.objects.filter(purpose__code="offers_spending").count() == 2


def test_nobody_but_a_privacy_officer_publishes(client, db):
    reviewer = UserFactory(username="rik", is_staff=True)
    reviewer.groups.set([Group.objects.get(name="Offer reviewers")])
    client.force_login(reviewer)
    assert client.get(ADD, {"purpose": spending().purpose_id}).status_code == 403
    assert client.post(ADD, {"purpose": spending().purpose_id, "_publish": "1"}).status_code == 403


# --- The word-level comparison -----------------------------------------------------------------
def test_the_comparison_marks_whole_words_and_keeps_line_breaks():
    pieces = word_diff(
        "Wij kijken naar het land.\nVersie 1", "Wij kijken naar de winkel.\nVersie 2"
    )
    assert pieces == [
        Piece("same", "Wij kijken naar "),
        Piece("deleted", "het land."),
        Piece("inserted", "de winkel."),
        Piece("same", "\nVersie "),
        Piece("deleted", "1"),
        Piece("inserted", "2"),
    ]


def test_the_comparison_of_a_first_version_is_all_new():
    assert word_diff("", "Nieuw doel") == [Piece("inserted", "Nieuw doel")]


def test_the_comparison_is_escaped_on_the_page(client, officer):
    client.force_login(officer)
    form = {**the_form(client), "description_nl": "Wij <b>kijken</b> & zo"}
    html = client.post(ADD, {**form, "_preview": "1"}).content.decode()
    assert "&lt;b&gt;kijken&lt;/b&gt; &amp; zo" in html
    assert re.search(r"<b>kijken</b>", html) is None


def required_purpose():
    return PurposeVersion.objects.filter(purpose__required=True).order_by("purpose_id").first()


def test_a_required_purposes_form_does_not_offer_a_material_version(client, officer):
    """A purpose the account or the law needs rests on no consent: nothing to end."""
    version = required_purpose()
    client.force_login(officer)
    response = client.get(ADD, {"purpose": version.purpose_id})
    html = response.content.decode()
    assert 'type="checkbox" name="material"' not in html
    assert 'type="hidden" name="material"' in html
    optional = client.get(ADD, {"purpose": spending().purpose_id}).content.decode()
    assert 'type="checkbox" name="material"' in optional


def test_a_material_version_of_a_required_purpose_is_refused(client, officer):
    version = required_purpose()
    client.force_login(officer)
    form = client.get(ADD, {"purpose": version.purpose_id}).context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data["data_categories"] = ",".join(data["data_categories"])
    data.update(purpose=version.purpose_id, takes_effect_at="", material="on")
    for button in ("_preview", "_publish"):
        response = client.post(ADD, {**data, button: "1", "confirmed": "yes"})
        assert response.status_code == 200
        assert "geen toestemmingen te beëindigen" in response.content.decode()
        assert "beëindig 0 toestemmingen" not in response.content.decode()
    assert PurposeVersion.objects.filter(purpose=version.purpose).count() == 1


def test_publishing_refuses_a_material_version_of_a_required_purpose(db, officer):
    from consent.publishing import PublishError, publish_version

    version = required_purpose()
    with pytest.raises(PublishError, match="niet materieel"):
        publish_version(
            purpose_code=version.purpose.code,
            material=True,
            texts={},
            actor=officer,
            at=timezone.now(),
        )
    assert PurposeVersion.objects.filter(purpose=version.purpose).count() == 1


@pytest.mark.parametrize("order", [(), ("-purpose__position",), ("version",)])
def test_the_current_versions_are_the_newest_whatever_order_the_caller_asks(db, order):
    publish_version("offers_income", material=True)
    # A DISTINCT ON whose ORDER BY a caller cleared (the API's purpose list) picks any row.
    versions = {
        v.purpose.code: v.version for v in current_versions(at=timezone.now()).order_by(*order)
    }
    assert versions["offers_income"] == 2
    assert versions["offers_spending"] == 1
