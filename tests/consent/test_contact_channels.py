"""The contact channels (issue 25, consent 0013): e-mail, phone and post are purposes of
their own, so their texts are pinned and everything a purpose has applies to them with no
code of their own: `record_choice`'s rules, the history and receipts, the export, the
feed, the API, the staff's pages and the record of processing. All on data the real code
produced (the dashboard's forms, the API, `record_choice`)."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from consent.channels import CHANNELS, channel_counts, customers_reachable_by
from consent.choices import TooYoung
from consent.models import PurposeVersion
from consent.retention_rules import describe_rules
from ledger.models import Action, Channel, ConsentEvent
from tests.api.conftest import bearer, issue_token, register_app, register_system
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory, UserFactory
from tests.pages import card_html, choice_form, downloaded_json

# What customers consent to, pinned: nothing may change the texts they read.
NOTICE_SHA256 = {
    "contact_email": {
        "nl": "f4892084d462b69d1ed246d48e84d40fdc61c1fe0c366b01727a9e16493117e9",
        "en": "1dcd700c73c771d2721bd87933bf88e7ab1daf66891f8845618f3d0e0227a150",
    },
    "contact_phone": {
        "nl": "e338018d4c5661e5549aaee4682b19edc049466dfa70343e66202db58354996d",
        "en": "55a652ebd7bca1359bfb7dc7fa17f5b3e15ee7d44af2e733ec6123cd387c64dd",
    },
    "contact_post": {
        "nl": "d05ba2a7559fbaf461ac7ebd1b020e96c068fcca9dd811cfd1e2e45742415734",
        "en": "2ca2f2aa0166093191460039e08c542cff676dd18dd3bdf61a6bee10012a4e8f",
    },
}
CODES = list(NOTICE_SHA256)


@pytest.fixture
def eva(client, db):
    """Eva has never chosen anything; she is logged in."""
    eva = CustomerFactory(customer_number="620001", first_name="Eva")
    client.force_login(eva.user)
    return eva


def section(html: str, section_id: str) -> str:
    """The HTML of the dashboard's <section> that holds the element `section_id` opens."""
    start = html.rindex("<section", 0, html.index(section_id))
    return html[start : html.index("</section>", start)]


def switch_on(client, code):
    return client.post(f"/choices/{code}/", choice_form(client, code, "grant"))


# --- The texts -------------------------------------------------------------------------------
@pytest.mark.parametrize("code", CODES)
def test_each_channel_is_a_direct_marketing_consent_with_its_pinned_text(db, code):
    version = PurposeVersion.objects.select_related("purpose").get(purpose__code=code, version=1)
    purpose = version.purpose
    assert (purpose.legal_basis, purpose.required, purpose.direct_marketing) == (
        "consent",
        False,
        True,
    )
    assert (version.notice_format, version.material) == (2, True)
    assert {lang: version.notice_sha256(lang) for lang in ("nl", "en")} == NOTICE_SHA256[code]
    for language in ("nl", "en"):
        assert version.text("retention", language) == describe_rules(
            version.retention_rules, language
        )


def test_the_registry_names_the_three_channels_and_their_purposes():
    assert CHANNELS == {"email": "contact_email", "phone": "contact_phone", "post": "contact_post"}


# --- The dashboard ---------------------------------------------------------------------------
def test_the_channels_have_a_section_of_their_own_off_until_the_customer_chooses(client, eva):
    html = client.get("/").content.decode()
    channels = section(html, 'id="channels-title"')
    assert "Hoe wij contact met u mogen opnemen" in channels
    for code in CODES:
        card = card_html(html, code)
        assert card in channels
        assert 'aria-checked="false"' in card and 'role="switch"' in card
        # Not listed again under "Uw keuzes".
        assert f'id="purpose-{code}"' not in section(html, 'id="choices-title"')
        assert not channel_counts(
            customer=eva, channel=code.removeprefix("contact_"), at=timezone.now()
        )
    assert not ConsentEvent.objects.filter(customer=eva).exists()
    # The app and the website: a card that says no consent is needed, without a switch.
    app = channels[channels.index('id="channel-app"') :]
    assert "In de app en op de website" in app
    assert "daarvoor is geen aparte toestemming nodig" in app
    assert "switch" not in app[: app.index("</article>")]


def test_the_channels_read_in_english(client, eva):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    channels = section(html, 'id="channels-title"')
    assert "How we may contact you" in channels
    assert "Phone calls about offers" in channels and "Letters about offers" in channels
    assert "no separate consent is needed" in channels


def test_switching_phone_on_binds_the_text_read_and_makes_it_count(client, eva):
    assert switch_on(client, "contact_phone").status_code == 302
    event = ConsentEvent.objects.get(customer=eva)
    assert (event.action, event.purpose.code) == ("granted", "contact_phone")
    assert event.notice_sha256 == NOTICE_SHA256["contact_phone"]["nl"]
    now = timezone.now()
    assert channel_counts(customer=eva, channel="phone", at=now)
    assert not channel_counts(customer=eva, channel="email", at=now)
    card = card_html(client.get("/").content.decode(), "contact_phone")
    assert 'aria-checked="true"' in card


def test_a_stale_text_is_refused_and_nothing_is_written(client, eva):
    form = choice_form(client, "contact_email", "grant")
    form["notice_sha256"] = "0" * 64
    response = client.post("/choices/contact_email/", form)
    assert response.status_code == 409
    assert not ConsentEvent.objects.filter(customer=eva).exists()


def test_an_under_16_customer_cannot_switch_a_channel_on(client, db, now):
    young = CustomerFactory(
        customer_number="620002", birth_date=timezone.localdate() - dt.timedelta(days=15 * 365)
    )
    client.force_login(young.user)
    card = card_html(client.get("/").content.decode(), "contact_phone")
    assert 'role="switch"' not in card and "16 jaar of ouder" in card
    # Not on the page, and not through the door either: the rule of record_choice.
    version = PurposeVersion.objects.get(purpose__code="contact_phone", version=1)
    response = client.post(
        "/choices/contact_phone/",
        {"choice": "grant", "version": 1, "notice_sha256": version.notice_sha256("nl")},
    )
    assert response.status_code == 409
    with pytest.raises(TooYoung):
        choose_on_screen(young, "contact_phone", at=now)
    assert not ConsentEvent.objects.filter(customer=young).exists()
    assert not channel_counts(customer=young, channel="phone", at=timezone.now())


def test_stopping_all_offers_switches_the_channels_off_and_keeps_them_off(client, eva):
    switch_on(client, "contact_phone")
    switch_on(client, "contact_email")
    client.post("/choices/stop-all/")
    now = timezone.now()
    assert not channel_counts(customer=eva, channel="phone", at=now)
    assert not channel_counts(customer=eva, channel="email", at=now)
    withdrawn = set(
        ConsentEvent.objects.filter(customer=eva, action=Action.WITHDRAWN).values_list(
            "purpose__code", flat=True
        )
    )
    assert withdrawn == {"contact_phone", "contact_email"}
    version = PurposeVersion.objects.get(purpose__code="contact_post", version=1)
    response = client.post(
        "/choices/contact_post/",
        {"choice": "grant", "version": 1, "notice_sha256": version.notice_sha256("nl")},
    )
    assert response.status_code == 409
    assert not ConsentEvent.objects.filter(customer=eva, purpose__code="contact_post").exists()


def test_the_set_based_variant_agrees_with_the_one_customer_check(client, eva, db, now):
    daan = CustomerFactory(customer_number="620003")
    choose_on_screen(daan, "contact_email", at=now)
    switch_on(client, "contact_phone")
    at = timezone.now()
    reachable_by_phone = customers_reachable_by(channel="phone", at=at).filter(
        customer_id__in=[eva.pk, daan.pk]
    )
    assert {row["customer_id"] for row in reachable_by_phone} == {eva.pk}
    reachable_by_email = {
        row["customer_id"] for row in customers_reachable_by(channel="email", at=at)
    }
    assert reachable_by_email == {daan.pk}


def test_a_channel_stops_counting_when_it_grows_too_old(db, now, settings):
    eva = CustomerFactory(customer_number="620004")
    choose_on_screen(eva, "contact_phone", at=now)
    later = now + dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS + 1)
    assert channel_counts(customer=eva, channel="phone", at=now + dt.timedelta(days=1))
    assert not channel_counts(customer=eva, channel="phone", at=later)


# --- History, receipts, export, feed, API ----------------------------------------------------
def test_history_receipt_and_export_carry_the_channel_choice(client, eva):
    switch_on(client, "contact_post")
    event = ConsentEvent.objects.get(customer=eva)
    assert "Post over aanbiedingen" in client.get("/history/").content.decode()
    receipt = downloaded_json(client.get(f"/history/{event.pk}/receipt.json"))
    assert receipt["piiPrincipalId"] == eva.customer_number
    assert "contact_post" in json.dumps(receipt)
    assert NOTICE_SHA256["contact_post"]["nl"] in json.dumps(receipt)
    export = json.dumps(downloaded_json(client.get("/export.json")))
    assert "contact_post" in export and NOTICE_SHA256["contact_post"]["nl"] in export


def test_the_feed_tells_the_banks_systems_of_a_channel_choice(client, eva):
    switch_on(client, "contact_email")
    systems = bearer(issue_token(register_system(), scope="consent:feed"))
    changes = systems.get("/api/v1/consent-changes").json()["changes"]
    assert [
        (change["purpose"], change["kind"], change["may_use"])
        for change in changes
        if change["customer_number"] == "620001"
    ] == [("contact_email", "granted", True)]


def test_the_customer_api_shows_and_records_a_channel(eva):
    app = bearer(issue_token(register_app(), user=eva.user, scope="consent:read consent:choose"))
    shown = app.get("/api/v1/me/purposes/contact_phone").json()
    assert shown["version"] == 1
    assert shown["notice_sha256"] == NOTICE_SHA256["contact_phone"]["nl"]
    body = {"choice": "grant", "version": 1, "notice_sha256": shown["notice_sha256"]}
    response = app.post("/api/v1/me/purposes/contact_phone/choice", body, format="json")
    assert response.status_code in (200, 201)
    event = ConsentEvent.objects.get(customer=eva)
    assert (event.channel, event.purpose.code) == (Channel.APP, "contact_phone")
    assert channel_counts(customer=eva, channel="phone", at=timezone.now())


# --- Staff ------------------------------------------------------------------------------------
@pytest.fixture
def petra(db):
    officer = UserFactory(username="petra", is_staff=True)
    officer.groups.set([Group.objects.get(name="Privacy officers")])
    return officer


def test_the_record_of_processing_lists_the_channels(client, petra):
    client.force_login(petra)
    record = json.loads(client.get("/admin/consent/purpose/record-of-processing.json").content)
    rows = {row["purpose"]: row for row in record["processing_activities"]}
    assert {code: rows[code]["contact_channel"] for code in CODES} == {
        "contact_email": "email",
        "contact_phone": "phone",
        "contact_post": "post",
    }
    assert rows["offers_spending"]["contact_channel"] == ""
    assert rows["contact_phone"]["data_categories"] == [
        "profile.name",
        "profile.phone",
        "profile.language",
    ]
    assert [c["channel"] for c in record["contact_channels"]] == ["email", "phone", "post", "app"]
    assert record["contact_channels"][-1]["purpose"] is None
    table = client.get("/admin/consent/purpose/record-of-processing.csv").content.decode()
    by_purpose = {row["purpose"]: row for row in csv.DictReader(io.StringIO(table))}
    assert by_purpose["contact_post"]["contact_channel"] == "post"


def test_the_privacy_overview_counts_per_channel(client, eva, petra, db, now):
    switch_on(client, "contact_phone")
    choose_on_screen(CustomerFactory(customer_number="620005"), "contact_email", at=now)
    client.force_login(petra)
    html = client.get("/admin/offers/offer/overview/").content.decode()
    table = html[
        html.index('id="channel-figures"') : html.index(
            "</table>", html.index('id="channel-figures"')
        )
    ]
    granted = dict(
        re.findall(
            r'id="channel-figures-(\w+)">.*?<td class="number granted">(\d+)</td>', table, re.S
        )
    )
    assert granted == {"email": "1", "phone": "1", "post": "0"}
    # Not counted again among the purposes' table.
    consent_table = html[
        html.index('id="consent-figures"') : html.index(
            "</table>", html.index('id="consent-figures"')
        )
    ]
    assert "contact_phone" not in consent_table


def test_the_customer_page_shows_the_channel_choices_as_such(client, eva, db):
    switch_on(client, "contact_phone")
    kees = UserFactory(username="kees", is_staff=True)
    kees.groups.set([Group.objects.get(name="Klantenservice")])
    client.force_login(kees)
    html = client.get(f"/admin/consent/customer/{eva.customer_number}/change/").content.decode()
    channels = html[
        html.index('id="channel-states"') : html.index(
            "</table>", html.index('id="channel-states"')
        )
    ]
    purposes = html[
        html.index('id="purpose-states"') : html.index(
            "</table>", html.index('id="purpose-states"')
        )
    ]
    assert "Contact over aanbiedingen, per kanaal" in html
    for code in CODES:
        assert f'id="purpose-{code}"' in channels and f'id="purpose-{code}"' not in purposes
    phone = channels[channels.index('id="purpose-contact_phone"') :]
    assert "aangezet" in phone[: phone.index("</tr>")]
