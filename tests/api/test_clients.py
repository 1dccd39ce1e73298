"""Registering an OAuth client, or changing where it may send customers back to, takes
two privacy officers (four eyes), and a redirect URI must be on the allow-list of the
settings. The attack of the insider review, end to end: one privacy officer registers a
client that sends customers' codes to https://evil.example/cb and skips the customer's
consent screen, then reads the customer's export with the token."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse
from oauth2_provider.models import Application, Grant

from tests.factories import CustomerFactory, UserFactory

from .conftest import APP_REDIRECT

EVIL = "https://evil.example/cb"
PROPOSE = "/admin/api/clientchange/add/"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGcSFY7nX0"  # any S256 challenge will do


def staff_in(group, username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.set([Group.objects.get(name=group)])
    return user


@pytest.fixture
def petra(db):
    return staff_in("Privacy officers", "petra")


@pytest.fixture
def pieter(db):
    """The second privacy officer."""
    return staff_in("Privacy officers", "pieter")


@pytest.fixture
def customer(db):
    return CustomerFactory(customer_number="930001")


def as_staff(client, user):
    client.logout()
    client.force_login(user)
    return client


def authorize(client, customer, client_id, redirect_uri):
    """The customer, logged in, is sent to our authorize URL by the client."""
    as_staff(client, customer.user)
    return client.get(
        "/api/v1/oauth/authorize/",
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "consent:read",
            "state": "s-1",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        },
    )


def sent_a_code(response, to) -> bool:
    return response.status_code == 302 and response.url.startswith(to) and "code=" in response.url


def propose_app(client, officer, redirect_uris, **extra):
    as_staff(client, officer)
    return client.post(
        PROPOSE,
        {"name": "Rekenhulp", "kind": "app", "redirect_uris": redirect_uris, **extra},
    )


def change_of(client_id):
    from api.models import ClientChange

    return ClientChange.objects.get(client_id=client_id)


def test_one_officer_cannot_send_a_customers_code_to_an_evil_client(
    client, petra, pieter, customer, settings
):
    # The finding: the officer registers the client in django-oauth-toolkit's own form,
    # with "skip authorization". Nothing is registered.
    as_staff(client, petra)
    response = client.post(
        "/admin/oauth2_provider/application/add/",
        {
            "client_id": "evil-client",
            "client_secret": "s" * 50,
            "client_type": "public",
            "authorization_grant_type": "authorization-code",
            "name": "Rekenhulp",
            "algorithm": "",
            "redirect_uris": EVIL,
            "post_logout_redirect_uris": "",
            "allowed_origins": "",
            "skip_authorization": "on",
        },
    )
    assert response.status_code == 403
    assert not Application.objects.exists()
    assert sent_a_code(authorize(client, customer, "evil-client", EVIL), EVIL) is False

    # Through the proposal form the URI is refused, with a clear error, and nothing kept.
    refused = propose_app(client, petra, EVIL, skip_authorization="on")
    assert refused.status_code == 200
    page = refused.content.decode()
    assert f"{EVIL} staat niet op de lijst van toegestane redirect-URI" in page
    assert "OAUTH_REDIRECT_URI_ALLOWLIST" in page
    assert 'name="skip_authorization"' not in page
    from api.models import ClientChange

    assert not ClientChange.objects.exists() and not Application.objects.exists()

    # Even were the URI on the allow-list (a configuration mistake), one officer's proposal
    # is not a client: the customer is sent back nowhere, with no code.
    settings.OAUTH_REDIRECT_URI_ALLOWLIST = [*settings.OAUTH_REDIRECT_URI_ALLOWLIST, EVIL]
    proposed = propose_app(client, petra, EVIL, skip_authorization="on")
    assert proposed.status_code == 200, proposed.content.decode()[:2000]
    change = ClientChange.objects.get()
    assert change.status == "pending" and not Application.objects.exists()
    response = authorize(client, customer, change.client_id, EVIL)
    assert not sent_a_code(response, EVIL) and response.status_code == 400
    assert not Grant.objects.exists()

    # She cannot approve her own proposal, whatever she posts.
    as_staff(client, petra)
    client.post(reverse("admin:api_clientchange_approve", args=[change.pk]))
    change.refresh_from_db()
    assert change.status == "pending" and not Application.objects.exists()

    # A second officer approves: the client exists, but never skips the customer's
    # consent screen (the forged "skip_authorization" was ignored).
    as_staff(client, pieter)
    client.post(reverse("admin:api_clientchange_approve", args=[change.pk]))
    evil = Application.objects.get(client_id=change.client_id)
    assert evil.skip_authorization is False
    consent_screen = authorize(client, customer, evil.client_id, EVIL)
    assert consent_screen.status_code == 200 and not sent_a_code(consent_screen, EVIL)
    assert "Rekenhulp toegang geven?" in consent_screen.content.decode()
    assert not Grant.objects.exists()


def test_the_proposer_cannot_approve_even_past_the_admin(petra):
    from api.clients import ClientChangeRefused, approve_client_change, propose_client
    from api.models import ClientChange

    proposal = propose_client(
        name="App", kind="app", redirect_uris=[APP_REDIRECT], by=petra, at=_now()
    )
    with pytest.raises(ClientChangeRefused):
        approve_client_change(change_id=proposal.change.pk, by=petra, at=_now())
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientChange.objects.filter(pk=proposal.change.pk).update(
            status="approved", decided_by=petra, decided_at=_now()
        )
    assert not Application.objects.exists()


def test_staff_without_the_permission_cannot_approve(client, petra, customer):
    proposed = propose_app(client, petra, APP_REDIRECT)
    assert proposed.status_code == 200
    change = change_of(_only_change_client_id())
    rik = staff_in("Offer reviewers", "rik")
    as_staff(client, rik)
    response = client.post(reverse("admin:api_clientchange_approve", args=[change.pk]))
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.status == "pending" and not Application.objects.exists()


def test_changed_redirect_uris_take_effect_only_when_a_second_officer_approves(
    client, petra, pieter, customer, bank_app, settings
):
    settings.OAUTH_REDIRECT_URI_ALLOWLIST = ["nl.voorbeeldbank.app:", "https://bank.example/"]
    new_uri = "https://bank.example/app/callback"
    # A forged change of the client itself is refused; the URIs stay as they were.
    as_staff(client, petra)
    forged = client.post(
        f"/admin/oauth2_provider/application/{bank_app.pk}/change/",
        {"redirect_uris": EVIL, "skip_authorization": "on", "name": bank_app.name},
    )
    assert forged.status_code == 403
    view = client.get(f"/admin/oauth2_provider/application/{bank_app.pk}/change/")
    assert 'name="skip_authorization"' not in view.content.decode()

    proposed = client.post(
        reverse("admin:api_clientchange_uris", args=[bank_app.pk]), {"redirect_uris": new_uri}
    )
    assert proposed.status_code == 302, proposed.content.decode()[:2000]
    change = change_of(bank_app.client_id)
    bank_app.refresh_from_db()
    assert bank_app.redirect_uris == APP_REDIRECT  # the old URIs stay in force
    assert not sent_a_code(authorize(client, customer, bank_app.client_id, new_uri), new_uri)
    assert authorize(client, customer, bank_app.client_id, APP_REDIRECT).status_code == 200

    as_staff(client, pieter)
    approved = client.post(reverse("admin:api_clientchange_approve", args=[change.pk]))
    assert approved.status_code == 302
    bank_app.refresh_from_db()
    assert bank_app.redirect_uris == new_uri
    assert authorize(client, customer, bank_app.client_id, new_uri).status_code == 200
    assert authorize(client, customer, bank_app.client_id, APP_REDIRECT).status_code == 400


def test_a_new_uri_outside_the_allow_list_is_refused_for_an_existing_client(
    client, petra, bank_app
):
    as_staff(client, petra)
    response = client.post(
        reverse("admin:api_clientchange_uris", args=[bank_app.pk]), {"redirect_uris": EVIL}
    )
    assert response.status_code == 200
    assert "staat niet op de lijst van toegestane redirect-URI" in response.content.decode()
    from api.models import ClientChange

    assert not ClientChange.objects.exists()


def test_a_client_registered_before_the_allow_list_sends_no_code_outside_it(client, customer, db):
    """A client already in the database with a URI the allow-list does not name (it
    predates the list, or was written past the admin): no code goes there."""
    legacy = Application.objects.create(
        name="Oud",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=EVIL,
        algorithm="",
    )
    response = authorize(client, customer, legacy.client_id, EVIL)
    assert not sent_a_code(response, EVIL) and response.status_code == 400


def test_the_database_refuses_skip_authorization_for_a_client_not_of_the_banks_app(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            name="Rekenhulp",
            client_type=Application.CLIENT_PUBLIC,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=EVIL,
            skip_authorization=True,
            algorithm="",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            name="Mixed",
            client_type=Application.CLIENT_PUBLIC,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=f"{APP_REDIRECT} {EVIL}",
            skip_authorization=True,
            algorithm="",
        )
    # The bank's own app alone may (nothing in the app sets it; an operator could).
    Application.objects.create(
        name="Voorbeeldbank app",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=APP_REDIRECT,
        skip_authorization=True,
        algorithm="",
    )


def test_a_system_of_the_bank_is_registered_by_two_officers(client, petra, pieter):
    as_staff(client, petra)
    response = client.post(PROPOSE, {"name": "E-mail marketing", "kind": "system"})
    assert response.status_code == 200
    page = response.content.decode()
    change = change_of(_only_change_client_id())
    # The secret is shown once, to the proposer, and stored only hashed.
    secret = _shown_secret(page)
    assert secret and secret not in change.client_secret_hash
    assert not Application.objects.exists()

    as_staff(client, pieter)
    client.post(reverse("admin:api_clientchange_approve", args=[change.pk]))
    system = Application.objects.get(client_id=change.client_id)
    assert system.name == "E-mail marketing"
    assert system.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert system.redirect_uris == "" and system.skip_authorization is False
    token = client.post(
        "/api/v1/oauth/token/",
        {"grant_type": "client_credentials", "scope": "consent:feed"},
        HTTP_AUTHORIZATION=_basic(system.client_id, secret),
    )
    assert token.status_code == 200, token.content


def test_a_rejected_proposal_never_takes_effect(client, petra, pieter):
    propose_app(client, petra, APP_REDIRECT)
    change = change_of(_only_change_client_id())
    as_staff(client, pieter)
    client.post(reverse("admin:api_clientchange_reject", args=[change.pk]))
    change.refresh_from_db()
    assert change.status == "rejected"
    client.post(reverse("admin:api_clientchange_approve", args=[change.pk]))
    change.refresh_from_db()
    assert change.status == "rejected" and not Application.objects.exists()


# --- The allow-list, from the environment ------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("nl.voorbeeldbank.app:/oauth/callback", True),
        ("https://bank.example/app/cb", True),
        ("https://bank.example/exact", True),
        ("https://bank.example/exact/more", False),
        ("https://bank.example.evil.example/app/cb", False),
        ("https://bank.example@evil.example/app/cb", False),
        ("https://bank.example/app/../../evil", False),
        ("https://bank.example/app/%2e%2e/evil", False),
        ("https://bank.example/app/cb#fragment", False),
        ("http://bank.example/app/cb", False),
        ("nl.voorbeeldbank.app.evil:/cb", False),
        (EVIL, False),
    ],
)
def test_a_redirect_uri_must_match_an_entry_of_the_allow_list(uri, allowed):
    from api.redirects import is_allowed

    allowlist = ["nl.voorbeeldbank.app:", "https://bank.example/app/", "https://bank.example/exact"]
    assert is_allowed(uri, allowlist) is allowed


@pytest.mark.parametrize(
    "entry",
    [
        "https:",
        "https://",
        "https://bank.example",
        "http://bank.example/",
        "https://*.bank.example/",
        "https://bank.example/cb#x",
        "https://user@bank.example/",
        "evil",
        "javascript:",
    ],
)
def test_a_bad_allow_list_entry_in_the_environment_stops_the_start(entry):
    from django.core.exceptions import ImproperlyConfigured

    from api.redirects import parse_allowlist

    with pytest.raises(ImproperlyConfigured, match="OAUTH_REDIRECT_URI_ALLOWLIST"):
        parse_allowlist(f"nl.voorbeeldbank.app: {entry}", name="OAUTH_REDIRECT_URI_ALLOWLIST")


def test_production_reads_the_allow_list_from_the_environment():
    from tests.test_settings import PRODUCTION, SETUP, run_python

    show = SETUP + "print(s.OAUTH_REDIRECT_URI_ALLOWLIST)"
    default = run_python(show, **PRODUCTION)
    assert default.stdout.strip() == "['nl.voorbeeldbank.app:']", default.stderr
    extra = run_python(
        show,
        OAUTH_REDIRECT_URI_ALLOWLIST="nl.voorbeeldbank.app:, https://bank.example/app/",
        **PRODUCTION,
    )
    assert extra.stdout.strip() == "['nl.voorbeeldbank.app:', 'https://bank.example/app/']"
    bad = run_python(show, OAUTH_REDIRECT_URI_ALLOWLIST="https://", **PRODUCTION)
    assert bad.returncode != 0 and "OAUTH_REDIRECT_URI_ALLOWLIST" in bad.stderr


# --- helpers -----------------------------------------------------------------------------
def _now():
    from django.utils import timezone

    return timezone.now()


def _only_change_client_id():
    from api.models import ClientChange

    return ClientChange.objects.get().client_id


def _shown_secret(page):
    import re

    found = re.search(r'id="client-secret">([^<]+)<', page)
    return found.group(1) if found else None


def _basic(client_id, secret):
    from base64 import b64encode

    return "Basic " + b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.mark.parametrize(
    "kind",
    ["implicit", "password", "urn:ietf:params:oauth:grant-type:device_code", "openid-hybrid"],
)
def test_only_the_two_kinds_the_api_accepts_can_be_proposed(client, petra, kind):
    from api.models import ClientChange

    as_staff(client, petra)
    page = client.get(PROPOSE).content.decode()
    assert 'value="app"' in page and 'value="system"' in page
    assert 'value="implicit"' not in page and "Implicit" not in page
    response = client.post(PROPOSE, {"name": "Oud", "kind": kind, "redirect_uris": APP_REDIRECT})
    assert response.status_code == 200
    assert (
        "form-row errors" in response.content.decode() or "errorlist" in response.content.decode()
    )
    assert not ClientChange.objects.exists()


@pytest.mark.parametrize("kind", ["implicit", "password", "device"])
def test_proposing_another_kind_of_client_is_refused_past_the_form(petra, kind):
    from django.utils import timezone

    from api.clients import ClientChangeRefused, propose_client
    from api.models import ClientChange

    with pytest.raises(ClientChangeRefused, match="wordt geweigerd"):
        propose_client(
            name="Oud", kind=kind, redirect_uris=[APP_REDIRECT], by=petra, at=timezone.now()
        )
    assert not ClientChange.objects.exists()


@pytest.mark.parametrize(
    ("client_type", "grant"),
    [
        (Application.CLIENT_PUBLIC, Application.GRANT_IMPLICIT),
        (Application.CLIENT_CONFIDENTIAL, Application.GRANT_PASSWORD),
        (Application.CLIENT_PUBLIC, Application.GRANT_DEVICE_CODE),
        (Application.CLIENT_CONFIDENTIAL, Application.GRANT_OPENID_HYBRID),
        # The right grant with the wrong type is another kind too.
        (Application.CLIENT_CONFIDENTIAL, Application.GRANT_AUTHORIZATION_CODE),
    ],
)
def test_a_proposal_of_another_kind_is_never_approved(petra, pieter, client_type, grant):
    """A proposal written into the table some other way (an old row, a script) is
    refused when a second officer approves it: no such client comes to exist."""
    from django.utils import timezone

    from api.clients import ClientChangeRefused, approve_client_change
    from api.models import ClientChange, ClientChangeKind

    change = ClientChange.objects.create(
        kind=ClientChangeKind.REGISTER,
        client_id="old-kind-client",
        name="Oud",
        client_type=client_type,
        authorization_grant_type=grant,
        redirect_uris=APP_REDIRECT,
        client_secret_hash="-",
        proposed_by=petra,
        proposed_at=timezone.now(),
    )
    with pytest.raises(ClientChangeRefused, match="wordt geweigerd"):
        approve_client_change(change_id=change.pk, by=pieter, at=timezone.now())
    assert not Application.objects.exists()


def test_the_clients_list_filters_by_the_two_kinds_only(client, db):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    page = client.get("/admin/oauth2_provider/application/").content.decode()
    assert "De app van de bank" in page and "Een systeem van de bank" in page
    for other in ("Implicit", "mpliciet", "Resource owner", "Device", "OpenID", "apparaatcode"):
        assert other not in page, other
