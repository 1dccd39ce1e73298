"""The customer's "Gekoppelde apps" page: the apps they let act for them through the real
OAuth flow (authorization code with PKCE, the consent screen, the token endpoint), since
when, last used and what each may do; revoking one ends every token of it at once, and
the history shows both ends. Only the customer's own apps; no change without CSRF; a stale
tab changes nothing and says so."""

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from oauthlib.oauth2 import WebApplicationClient

from api.linked_apps import note_use
from api.models import LinkedApp
from lifecycle.erasure import request_erasure
from lifecycle.leaving import close_customer
from tests.factories import CustomerFactory
from tests.pages import downloaded_json, hidden_fields
from tests.proof import checkpoint

from .conftest import APP_REDIRECT, bearer, register_app

SCOPE_READ_NL = "Uw privacykeuzes, uw geschiedenis en uw aanbiedingen lezen"
SCOPE_READ_EN = "Read your privacy choices, your history and your offers"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch):
    """The test client speaks plain HTTP; oauthlib refuses it unless told (production is
    behind TLS)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


class App:
    """The bank's app in the real flow: the customer, logged in, allows it on our consent
    screen; the app exchanges the code (PKCE) at the token endpoint."""

    def __init__(self, application):
        self.application = application
        self.oauth = WebApplicationClient(application.client_id)

    def authorise(self, browser, *, scope="consent:read consent:choose") -> dict:
        verifier = self.oauth.create_code_verifier(64)
        url = self.oauth.prepare_request_uri(
            "http://testserver/api/v1/oauth/authorize/",
            redirect_uri=APP_REDIRECT,
            scope=scope,
            state="s-1",
            code_challenge=self.oauth.create_code_challenge(verifier, "S256"),
            code_challenge_method="S256",
        )
        answer = browser.get(url)
        if answer.status_code == 200:  # the consent screen (not again while a token holds)
            form = hidden_fields(answer.content.decode())
            form["allow"] = "Authorize"
            answer = browser.post(url, form)
        assert answer.status_code == 302, answer.content
        code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
        body = self.oauth.prepare_request_body(
            code=code, redirect_uri=APP_REDIRECT, code_verifier=verifier, include_client_id=True
        )
        return self.token(body)

    def refresh(self, refresh_token: str):
        body = self.oauth.prepare_refresh_body(
            refresh_token=refresh_token, client_id=self.application.client_id
        )
        return Client().post(
            "/api/v1/oauth/token/", body, content_type="application/x-www-form-urlencoded"
        )

    def token(self, body) -> dict:
        response = Client().post(
            "/api/v1/oauth/token/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def sanne(db, choose):
    sanne = CustomerFactory(customer_number="960001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


@pytest.fixture
def browser(sanne):
    """Sanne's browser, logged in on the bank's site."""
    browser = Client()
    browser.force_login(sanne.user)
    return browser


@pytest.fixture
def app(db):
    return App(register_app("Budgetcoach"))


@pytest.fixture
def tokens(app, browser):
    """Sanne allowed the app to read and to choose for her."""
    return app.authorise(browser)


def page(browser, **headers) -> str:
    response = browser.get("/apps/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def api_status(access_token) -> int:
    return bearer(access_token).get("/api/v1/me/purposes").status_code


def last_used(html, link) -> str:
    found = re.search(rf'<dd id="last-used-{link.pk}">(.*?)</dd>', html)
    assert found, html
    return found.group(1)


def link_of(customer) -> LinkedApp:
    return LinkedApp.objects.get(customer=customer)


# --- Seeing them -------------------------------------------------------------------------------
def test_the_customer_sees_the_app_she_authorised_since_when_last_used_and_what_it_may_do(
    sanne, browser, tokens
):
    link = link_of(sanne)
    assert link.revoked_at is None and link.last_used_at is None
    html = page(browser)
    assert "Budgetcoach" in html
    assert f"{timezone.localtime(link.authorised_at):%H:%M}" in html
    assert last_used(html, link) == "nog niet"
    assert SCOPE_READ_NL in html
    assert "Namens u kiezen: toestemming geven of intrekken, bezwaar maken" in html
    assert "Toegang intrekken" in html

    assert api_status(tokens["access_token"]) == 200
    link.refresh_from_db()
    assert link.last_used_at is not None
    html = page(browser)
    assert f"{timezone.localtime(link.last_used_at):%H:%M}" in last_used(html, link)


def test_the_page_is_in_english_for_an_english_customer(sanne, browser, tokens):
    html = page(browser, HTTP_ACCEPT_LANGUAGE="en")
    assert "<h1>Linked apps</h1>" in html
    assert SCOPE_READ_EN in html and SCOPE_READ_NL not in html
    assert "Revoke access" in html


def test_a_read_only_app_says_it_may_only_read(sanne, browser, app):
    app.authorise(browser, scope="consent:read")
    html = page(browser)
    assert SCOPE_READ_NL in html and "Namens u kiezen" not in html


def test_last_used_is_written_at_most_once_a_minute(sanne, tokens, _frozen_clock):
    assert api_status(tokens["access_token"]) == 200
    first = link_of(sanne).last_used_at
    _frozen_clock.move_to(timezone.now() + dt.timedelta(seconds=30))
    assert api_status(tokens["access_token"]) == 200
    assert link_of(sanne).last_used_at == first
    _frozen_clock.move_to(timezone.now() + dt.timedelta(seconds=31))
    assert api_status(tokens["access_token"]) == 200
    assert link_of(sanne).last_used_at > first


def test_last_used_is_not_written_twice_within_a_minute_even_without_the_cache(sanne, tokens):
    from django.core.cache import cache

    at = timezone.now()
    note_use(user_id=sanne.user_id, application_id=link_of(sanne).application_id, at=at)
    cache.clear()  # another process
    later = at + dt.timedelta(seconds=20)
    note_use(user_id=sanne.user_id, application_id=link_of(sanne).application_id, at=later)
    assert link_of(sanne).last_used_at == at


def test_a_refreshed_token_is_the_same_app_since_the_first_authorisation(
    sanne, app, tokens, _frozen_clock
):
    since = link_of(sanne).authorised_at
    _frozen_clock.move_to(timezone.now() + dt.timedelta(hours=2))
    refreshed = app.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert LinkedApp.objects.filter(customer=sanne).count() == 1
    assert link_of(sanne).authorised_at == since


def test_a_system_of_the_bank_is_no_linked_app(db, crm):
    response = Client().post(
        "/api/v1/oauth/token/",
        {"grant_type": "client_credentials", "scope": "consent:feed"},
        HTTP_AUTHORIZATION=_basic(crm.client_id, "crm-secret-" + "x" * 40),
    )
    assert response.status_code == 200, response.content
    assert not LinkedApp.objects.exists()


def _basic(user, password):
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_without_apps_the_page_says_so(sanne, browser):
    assert "Er zijn geen apps met toegang tot uw gegevens." in page(browser)


def test_the_page_is_in_the_menu(sanne, browser, tokens):
    html = browser.get("/").content.decode()
    assert 'href="/apps/"' in html and "Gekoppelde apps" in html


# --- Revoking ----------------------------------------------------------------------------------
def test_revoking_asks_first_without_javascript(sanne, browser, tokens):
    link = link_of(sanne)
    question = browser.get(f"/apps/{link.pk}/revoke/")
    assert question.status_code == 200
    html = question.content.decode()
    assert "Toegang van ‘Budgetcoach’ intrekken?" in html
    assert f'action="/apps/{link.pk}/revoke/"' in html and 'method="post"' in html
    assert "Ja, toegang intrekken" in html
    # Asking revokes nothing.
    assert api_status(tokens["access_token"]) == 200
    assert link_of(sanne).revoked_at is None


def test_revoking_ends_every_token_at_once_and_the_history_shows_it(sanne, browser, app, tokens):
    link = link_of(sanne)
    second = app.authorise(browser)  # the app on a second phone: the same link
    assert LinkedApp.objects.filter(customer=sanne).count() == 1

    response = browser.post(f"/apps/{link.pk}/revoke/", follow=True)
    assert response.redirect_chain == [("/apps/", 302)]
    html = response.content.decode()
    assert "‘Budgetcoach’ heeft geen toegang meer" in html
    assert "Er zijn geen apps met toegang tot uw gegevens." in html

    for access_token in (tokens["access_token"], second["access_token"]):
        refused = bearer(access_token).get("/api/v1/me/purposes")
        assert refused.status_code == 401
        assert refused["Content-Type"].startswith(PROBLEM)
    for refresh_token in (tokens["refresh_token"], second["refresh_token"]):
        refreshed = app.refresh(refresh_token)
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"

    link.refresh_from_db()
    assert (link.revoked_at is not None, link.revoked_by) == (True, "customer")
    history = browser.get("/history/").content.decode()
    assert f'id="app-{link.pk}-authorised"' in history
    assert f'id="app-{link.pk}-revoked"' in history
    assert "toegang ingetrokken" in history and "kreeg toegang" in history
    assert "door u, op de pagina Gekoppelde apps" in history
    # The newest first: the revocation above the authorisation, above the older choice.
    assert history.index(f"app-{link.pk}-revoked") < history.index(f"app-{link.pk}-authorised")
    assert history.index(f"app-{link.pk}-authorised") < history.index('id="event-')


def test_the_history_is_in_english_too(sanne, browser, tokens):
    browser.post(f"/apps/{link_of(sanne).pk}/revoke/")
    history = browser.get("/history/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "access revoked" in history and "was given access" in history


def test_with_htmx_the_question_and_the_answer_replace_the_card(sanne, browser, tokens):
    link = link_of(sanne)
    question = browser.get(f"/apps/{link.pk}/revoke/", HTTP_HX_REQUEST="true")
    html = question.content.decode()
    assert html.lstrip().startswith(f'<article class="app-card confirming" id="app-{link.pk}"')
    assert f'hx-post="/apps/{link.pk}/revoke/"' in html
    answer = browser.post(f"/apps/{link.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert f'id="app-{link.pk}"' in html and "heeft geen toegang meer" in html
    assert 'id="announcer"' in html and 'hx-swap-oob="innerHTML"' in html
    assert api_status(tokens["access_token"]) == 401


def test_a_stale_tab_revoking_again_is_told_and_nothing_changes(sanne, browser, tokens):
    link = link_of(sanne)
    assert browser.post(f"/apps/{link.pk}/revoke/").status_code == 302
    link.refresh_from_db()
    again = browser.post(f"/apps/{link.pk}/revoke/")
    assert again.status_code == 409
    assert "‘Budgetcoach’ had al geen toegang meer" in again.content.decode()
    assert "Er is niets veranderd." in again.content.decode()
    assert LinkedApp.objects.get(pk=link.pk).revoked_at == link.revoked_at
    # The question, asked again from an old tab, says so too and asks nothing.
    question = browser.get(f"/apps/{link.pk}/revoke/").content.decode()
    assert "had al geen toegang meer" in question and "Ja, toegang intrekken" not in question
    # With htmx: the page reloads, the message on top.
    htmx = browser.post(f"/apps/{link.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert (htmx.status_code, htmx["HX-Refresh"]) == (409, "true")
    assert "had al geen toegang meer" in page(browser)


def test_authorising_again_after_revoking_is_a_new_link(sanne, browser, app, tokens):
    first = link_of(sanne)
    browser.post(f"/apps/{first.pk}/revoke/")
    again = app.authorise(browser)
    assert api_status(again["access_token"]) == 200
    second = LinkedApp.objects.get(customer=sanne, revoked_at__isnull=True)
    assert second.pk != first.pk
    # The old tab's revoke of the first link does not touch the new one.
    assert browser.post(f"/apps/{first.pk}/revoke/").status_code == 409
    assert api_status(again["access_token"]) == 200


# --- Only one's own ----------------------------------------------------------------------------
def test_another_customers_app_is_a_404_and_nothing_changes(sanne, tokens, app):
    daan = CustomerFactory(customer_number="960002")
    daans_browser = Client()
    daans_browser.force_login(daan.user)
    link = link_of(sanne)
    assert daans_browser.get(f"/apps/{link.pk}/revoke/").status_code == 404
    assert daans_browser.post(f"/apps/{link.pk}/revoke/").status_code == 404
    assert "Budgetcoach" not in page(daans_browser)
    assert link_of(sanne).revoked_at is None
    assert api_status(tokens["access_token"]) == 200


def test_a_forged_post_without_csrf_is_refused(sanne, tokens):
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(sanne.user)
    link = link_of(sanne)
    assert forged.post(f"/apps/{link.pk}/revoke/").status_code == 403
    assert link_of(sanne).revoked_at is None
    assert api_status(tokens["access_token"]) == 200


def test_the_page_is_for_logged_in_customers_only(db):
    response = Client().get("/apps/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- The end of the relationship ---------------------------------------------------------------
def test_leaving_the_bank_ends_the_link_and_its_tokens(sanne, tokens):
    close_customer(customer=sanne, on=timezone.localdate(), at=timezone.now())
    link = link_of(sanne)
    assert (link.revoked_at is not None, link.revoked_by) == (True, "left_bank")
    assert api_status(tokens["access_token"]) == 401


def test_erasure_keeps_the_links_it_promises_nothing_about(sanne, tokens):
    """Erasure on request removes what consent-based processing made (offers, the data-use
    log); which apps the customer let in, and since when, is the record of access to
    their account: it stays, like the proof, and so does the app's access."""
    request_erasure(customer=sanne, channel="web", actor=sanne.user, at=timezone.now())
    assert link_of(sanne).revoked_at is None
    assert api_status(tokens["access_token"]) == 200


def test_retention_removes_a_leavers_links_with_their_history(
    sanne, tokens, _frozen_clock, database_date
):
    joined = timezone.localdate()
    close_customer(customer=sanne, on=joined, at=timezone.now())
    database_date(joined)
    checkpoint()
    later = joined.replace(year=joined.year + 5)
    _frozen_clock.move_to(timezone.make_aware(dt.datetime.combine(later, dt.time(12))))
    database_date(later)
    out = io.StringIO()
    call_command("enforce_retention", stdout=out)
    assert "1 linked apps" in out.getvalue()
    assert not LinkedApp.objects.filter(customer=sanne).exists()


def test_the_database_removes_the_links_with_the_customer(db):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT confdeltype FROM pg_constraint
             WHERE conrelid = 'api_linkedapp'::regclass AND contype = 'f'
               AND confrelid = 'consent_customer'::regclass
            """
        )
        assert cursor.fetchall() == [("c",)]


def test_the_runtime_role_reads_and_writes_the_links(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(current_user, 'api_linkedapp', 'SELECT, INSERT,"
            " UPDATE, DELETE'), NOT has_table_privilege(current_user, 'api_linkedapp',"
            " 'TRUNCATE')"
        )
        assert cursor.fetchone() == (True, True)


def test_the_export_holds_the_apps_ended_ones_too(sanne, browser, tokens):
    link = link_of(sanne)
    browser.post(f"/apps/{link.pk}/revoke/")
    (item,) = downloaded_json(browser.get("/export.json"))["linked_apps"]
    assert item["app"] == "Budgetcoach" and item["scopes"] == ["consent:read", "consent:choose"]
    assert item["revoked_by"] == "customer" and item["revoked_at"]
    readable = browser.get("/export/read/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'id="export-app-{link.pk}"' in readable and "revoked by you" in readable


def test_the_erasure_page_says_the_apps_keep_their_access(sanne, browser, tokens):
    html = browser.get("/erasure/").content.decode()
    assert 'id="erasure-apps"' in html and 'href="/apps/"' in html


def test_revoking_one_app_leaves_her_other_apps_alone(sanne, browser, tokens):
    other = App(register_app("Spaardoel"))
    other_tokens = other.authorise(browser, scope="consent:read")
    budget = LinkedApp.objects.get(customer=sanne, application__name="Budgetcoach")
    browser.post(f"/apps/{budget.pk}/revoke/")
    assert api_status(tokens["access_token"]) == 401
    assert api_status(other_tokens["access_token"]) == 200
    html = page(browser)
    assert "Spaardoel" in html and f'id="app-{budget.pk}"' not in html


def test_an_app_that_signed_out_is_listed_as_holding_no_token(sanne, browser, app, tokens):
    """The app revoked its own tokens (RFC 7009, signing out): still linked, until the
    customer revokes it, and the card says it can do nothing now."""
    link = link_of(sanne)
    assert f'id="signed-out-{link.pk}"' not in page(browser)
    for token in (tokens["refresh_token"], tokens["access_token"]):
        response = Client().post(
            "/api/v1/oauth/revoke_token/",
            {"token": token, "client_id": app.application.client_id},
        )
        assert response.status_code == 200
    assert api_status(tokens["access_token"]) == 401
    assert f'id="signed-out-{link.pk}"' in page(browser)
