"""The privacy officer registers the bank's systems and the app, revokes tokens, and sees
the feed and every read of it in the admin; nobody edits the feed or its log."""

import pytest
from django.contrib.auth.models import Group
from oauth2_provider.models import AccessToken, Application

from api.models import FeedRead
from tests.factories import CustomerFactory, UserFactory

from .conftest import bearer, issue_token


def staff_in(group, username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.set([Group.objects.get(name=group)])
    return user


@pytest.fixture
def privacy_officer(db, client):
    client.force_login(staff_in("Privacy officers", "petra"))
    return client


def test_the_privacy_officer_sees_who_read_the_feed(privacy_officer, crm, feed_client):
    feed_client.get("/api/v1/consent-changes")
    page = privacy_officer.get("/admin/api/feedread/")
    assert page.status_code == 200
    assert "CRM" in page.content.decode() and crm.client_id in page.content.decode()
    assert privacy_officer.get("/admin/api/consentchange/").status_code == 200


def test_the_read_log_and_the_feed_cannot_be_edited_in_the_admin(privacy_officer, feed_client):
    feed_client.get("/api/v1/consent-changes")
    read = FeedRead.objects.get()
    assert privacy_officer.get(f"/admin/api/feedread/{read.pk}/delete/").status_code == 403
    assert privacy_officer.get("/admin/api/feedread/add/").status_code == 403
    assert privacy_officer.get("/admin/api/consentchange/add/").status_code == 403


def test_two_privacy_officers_register_a_system_of_the_bank(privacy_officer, db):
    """One proposes (the direct form of django-oauth-toolkit is gone), another approves."""
    from api.models import ClientChange

    assert privacy_officer.get("/admin/oauth2_provider/application/add/").status_code == 403
    proposed = privacy_officer.post(
        "/admin/api/clientchange/add/", {"name": "E-mail marketing", "kind": "system"}
    )
    assert proposed.status_code == 200, proposed.content.decode()[:2000]
    change = ClientChange.objects.get()
    assert not Application.objects.exists()
    privacy_officer.force_login(staff_in("Privacy officers", "pieter"))
    response = privacy_officer.post(f"/admin/api/clientchange/{change.pk}/approve/")
    assert response.status_code == 302
    assert Application.objects.get(client_id=change.client_id).name == "E-mail marketing"


def test_revoking_a_token_in_the_admin_ends_it_and_its_refresh_token(privacy_officer, bank_app):
    customer = CustomerFactory()
    raw = issue_token(bank_app, user=customer.user, scope="consent:read")
    assert bearer(raw).get("/api/v1/me/purposes").status_code == 200
    token = AccessToken.objects.get(user=customer.user)
    response = privacy_officer.post(
        "/admin/oauth2_provider/accesstoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk], "index": 0},
    )
    assert response.status_code == 302
    assert bearer(raw).get("/api/v1/me/purposes").status_code == 401


def test_an_offer_reviewer_cannot_see_clients_tokens_or_the_feed(db, client, crm):
    client.force_login(staff_in("Offer reviewers", "rik"))
    for url in (
        "/admin/oauth2_provider/application/",
        "/admin/api/clientchange/",
        "/admin/api/clientchange/add/",
        "/admin/oauth2_provider/accesstoken/",
        "/admin/api/feedread/",
        "/admin/api/consentchange/",
    ):
        assert client.get(url).status_code == 403, url
