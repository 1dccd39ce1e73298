import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission

from consent.catalogue import VERSION_TEXT_FIELDS
from consent.models import ConsentState, PurposeVersion
from consent.signals import material_change
from consent.validity import is_consent_valid
from ledger.models import Action, ConsentEvent
from offers.receivers import OFFERS_RETRACTED
from tests.factories import UserFactory
from tests.pages import form_fields
from tests.receivers import receiving


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def privacy_officer(db):
    officer = UserFactory(username="officer", is_staff=True)
    officer.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="consent",
            codename__in=[
                "view_privacy_overview",
                "view_purpose",
                "view_purposeversion",
                "add_purposeversion",
                "view_consentevent",
                "view_consentstate",
            ],
        )
    )
    return officer


def test_nobody_can_change_the_ledger_through_the_admin_not_even_a_superuser(
    client, superuser, customer_who_consented
):
    client.force_login(superuser)
    event = ConsentEvent.objects.get()
    state = ConsentState.objects.get()
    assert client.get(f"/admin/ledger/consentevent/{event.pk}/change/").status_code == 200
    for url in (
        "/admin/ledger/consentevent/add/",
        f"/admin/ledger/consentevent/{event.pk}/delete/",
        "/admin/consent/consentstate/add/",
        f"/admin/consent/consentstate/{state.pk}/delete/",
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        f"/admin/ledger/consentevent/{event.pk}/change/", {"action": "withdrawn"}
    )
    assert response.status_code == 403
    response = client.post(
        "/admin/ledger/consentevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    event.refresh_from_db()
    assert event.action == "granted" and ConsentEvent.objects.count() == 1


def test_published_texts_cannot_be_changed_or_deleted_in_the_admin(client, superuser):
    client.force_login(superuser)
    version = PurposeVersion.objects.first()
    response = client.post(
        f"/admin/consent/purposeversion/{version.pk}/change/", {"title_nl": "anders"}
    )
    assert response.status_code == 403
    assert client.get(f"/admin/consent/purposeversion/{version.pk}/delete/").status_code == 403


ADD_VERSION = "/admin/consent/purposeversion/add/"


def publish(client, *, material, **extra):
    """What the privacy officer does in the browser: the prefilled form, edited; the
    preview; publish; for a material version, the second confirmation."""
    version = PurposeVersion.objects.get(purpose__code="offers_spending", version=1)
    texts = {
        "data_categories": ",".join(version.data_categories),
        **{
            name: getattr(version, name) + " Nu ook met de naam van de winkel."
            for name in VERSION_TEXT_FIELDS
        },
    }
    data = {"purpose": version.purpose_id, **({"material": "on"} if material else {}), **texts}
    preview = client.post(ADD_VERSION, {**data, **extra, "_preview": "1"})
    assert preview.templates[0].name == "admin/consent/purposeversion/preview.html"
    step = client.post(ADD_VERSION, walk_on(preview), follow=True)
    if material:
        assert step.templates[0].name == "admin/consent/purposeversion/confirm_material.html"
        step = client.post(ADD_VERSION, walk_on(step), follow=True)
    return step


def walk_on(response):
    """The fields the page's publish button sends (not its "back" button)."""
    fields = form_fields(response.content.decode(), ADD_VERSION, _publish="1")
    fields.pop("_edit")
    return fields


def test_a_privacy_officer_publishes_a_material_version_and_consents_need_renewal(
    client, privacy_officer, customer_who_consented, now
):
    seen = []

    def retract(**kwargs):
        seen.append(kwargs)
        return [OFFERS_RETRACTED(3)]

    with receiving(material_change, retract):
        client.force_login(privacy_officer)
        response = publish(client, material=True)

    assert response.status_code == 200
    content = response.content.decode()
    assert "1 toestemming moet opnieuw worden gegeven." in content
    assert "3 open aanbiedingen zijn ingetrokken." in content
    new = PurposeVersion.objects.get(purpose__code="offers_spending", version=2)
    assert new.material and new.published_by == privacy_officer
    assert [kw["version"] for kw in seen] == [new]
    assert not is_consent_valid(
        customer=customer_who_consented, purpose_code="offers_spending", at=new.published_at
    )


def test_a_non_material_version_keeps_consents_valid_and_calls_no_hook(
    client, privacy_officer, customer_who_consented
):
    calls = []
    with receiving(material_change, lambda **kwargs: calls.append(kwargs)):
        client.force_login(privacy_officer)
        publish(client, material=False)
    new = PurposeVersion.objects.get(purpose__code="offers_spending", version=2)
    assert calls == []
    assert is_consent_valid(
        customer=customer_who_consented, purpose_code="offers_spending", at=new.published_at
    )


def test_the_record_of_processing_comes_from_the_catalogue_as_csv_and_json(client, privacy_officer):
    client.force_login(privacy_officer)
    response = client.get("/admin/consent/purpose/record-of-processing.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('record-of-processing.csv"')
    rows = {row["purpose"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert set(rows) == {
        "payments",
        "fraud_prevention",
        "offers_spending",
        "offers_income",
        "offers_balance",
        "contact_email",
        "contact_phone",
        "contact_post",
    }
    spending = rows["offers_spending"]
    assert spending["legal_basis"] == "your consent (GDPR Article 6(1)(a))"
    assert spending["data_categories"] == "card_payments.country; card_payments.merchant_category"
    assert spending["transfers_outside_eea"] == "none"
    assert spending["dpia_reference"] == "DPIA-2026-07"

    record = json.loads(client.get("/admin/consent/purpose/record-of-processing.json").content)
    payments = next(r for r in record["processing_activities"] if r["purpose"] == "payments")
    assert payments["required"] is True and payments["retention_en"].startswith("7 years")


def test_the_record_of_processing_reads_the_fields_the_customer_reads(client, privacy_officer):
    """Art. 30(1)(a) and (g): controller, DPO and security measures, from the notice."""
    version = PurposeVersion.objects.get(purpose__code="offers_balance", version=1)
    client.force_login(privacy_officer)
    record = json.loads(client.get("/admin/consent/purpose/record-of-processing.json").content)
    row = next(r for r in record["processing_activities"] if r["purpose"] == "offers_balance")
    assert row["controller"] == version.controller_en
    assert row["dpo_contact"] == version.dpo_contact_en
    assert row["recipients"] == version.recipients_en
    assert row["retention_nl"] == version.retention_nl
    assert row["data_categories"] == version.data_categories
    assert "append-only" in row["security_measures"]
    for text in (version.controller_en, version.dpo_contact_en, version.recipients_en):
        assert text in version.notice_text("en")  # part of what the customer's hash covers


def test_staff_without_the_privacy_permission_cannot_download_the_record(client, db):
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get("/admin/consent/purpose/record-of-processing.csv").status_code == 403


def test_withdrawals_in_the_ledger_list_are_searchable_by_customer_number(
    client, superuser, customer_who_consented, customer_who_did_not, choose
):
    choose(customer_who_did_not, "offers_income")
    choose(customer_who_consented, "offers_spending", Action.WITHDRAWN)
    client.force_login(superuser)
    response = client.get("/admin/ledger/consentevent/", {"q": "300001"})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2
