"""The staff's side: Klantenservice withdraws for a customer on the phone (audited like
any choice staff record), the privacy officer suspends a data user and sees permissions
and reads, never an amount; nobody else can."""

import pytest
from django.test import Client

from access.models import DataUserStatus, Permission
from consent.models import StaffAction
from ledger.models import Channel
from tests.access.test_flow import accounts, approve_on_site, ask
from tests.staff_workflows import KLANTENSERVICE, PRIVACY, REVIEWERS, staff_in


@pytest.fixture
def approved(tpp, client, sanne):
    asked = ask(tpp)
    assert approve_on_site(client, sanne, asked["consentId"]).status_code == 302
    accounts(tpp, asked["consentId"])
    return Permission.objects.get(consent_id=asked["consentId"])


def logged_in(group):
    client = Client()
    client.force_login(staff_in(group))
    return client


def test_klantenservice_withdraws_for_a_customer_on_the_phone(approved, tpp):
    client = logged_in(KLANTENSERVICE)
    url = f"/admin/access/permission/{approved.pk}/withdraw/"
    page = client.get(url)
    assert page.status_code == 200
    # Without the identity check, nothing happens.
    refused = client.post(url, {"channel": "phone", "note": "Klant belde"})
    assert refused.status_code == 200
    approved.refresh_from_db()
    assert approved.status == "valid"
    done = client.post(
        url, {"channel": "phone", "identity_checked": "on", "note": "Klant belde: stoppen"}
    )
    assert done.status_code == 302
    approved.refresh_from_db()
    assert approved.status == "revokedByPsu" and approved.ended_by == "staff"
    action = StaffAction.objects.get(event=approved.ended_event)
    assert action.channel == Channel.PHONE and action.note == "Klant belde: stoppen"
    assert accounts(tpp, str(approved.consent_id)).status_code == 401


def test_the_privacy_officer_suspends_a_data_user_and_every_read_stops(approved, tpp):
    client = logged_in(PRIVACY)
    url = f"/admin/access/datauser/{approved.data_user_id}/suspend/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "Vergunning ingetrokken"}).status_code == 302
    approved.data_user.refresh_from_db()
    assert approved.data_user.status == DataUserStatus.SUSPENDED
    assert accounts(tpp, str(approved.consent_id)).status_code == 401


def test_the_privacy_officer_sees_permissions_and_reads_but_never_an_amount(approved):
    client = logged_in(PRIVACY)
    page = client.get(f"/admin/access/permission/{approved.pk}/change/").content.decode()
    assert "NL91TEST0000000001" in page and "rekeninggegevens" in page
    reads = client.get("/admin/access/read/").content.decode()
    for amount in ("1500,00", "1500.00", "12,50", "12.50", "80,00", "2000,00", "2000.00"):
        assert amount not in page and amount not in reads


@pytest.mark.parametrize("group", [REVIEWERS, KLANTENSERVICE])
def test_only_the_privacy_officer_suspends(approved, group):
    client = logged_in(group)
    url = f"/admin/access/datauser/{approved.data_user_id}/suspend/"
    assert client.post(url, {"reason": "x"}).status_code in (403, 302)
    approved.data_user.refresh_from_db()
    assert approved.data_user.status == DataUserStatus.ACTIVE


@pytest.mark.parametrize("group", [REVIEWERS, PRIVACY])
def test_only_klantenservice_withdraws_for_a_customer(approved, group):
    client = logged_in(group)
    url = f"/admin/access/permission/{approved.pk}/withdraw/"
    data = {"channel": "phone", "identity_checked": "on", "note": "x"}
    assert client.post(url, data).status_code in (403, 302)
    approved.refresh_from_db()
    assert approved.status == "valid"


def test_the_contact_centres_customer_page_shows_who_can_see_the_data(approved, sanne):
    client = logged_in(KLANTENSERVICE)
    page = client.get(f"/admin/consent/customer/{sanne.customer_number}/change/").content.decode()
    assert "Wie kan de gegevens van de klant zien" in page
    assert "Budgetkompas" in page
    assert f"/admin/access/permission/{approved.pk}/withdraw/" in page
    assert "1500" not in page


def test_the_data_users_page_links_its_suspension_and_its_permissions(approved):
    client = logged_in(PRIVACY)
    page = client.get(f"/admin/access/datauser/{approved.data_user_id}/change/").content.decode()
    assert f"/admin/access/datauser/{approved.data_user_id}/suspend/" in page
    assert f"data_user__id__exact={approved.data_user_id}" in page
