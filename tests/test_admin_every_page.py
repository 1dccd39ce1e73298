"""Every page of the admin, for every registered model (its list, its add form and the
page of one of its rows), speaks the staff member's language: on the demo's data, with
offers from an engine run, API clients approved with four eyes and a token issued by the
token endpoint, a Dutch page has none of the English that Django's and the third-party
apps' own strings would leave, and shows purposes and rules by their names, not codes."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from api.clients import approve_client_change, propose_client
from consent.models import Customer, Purpose
from tests.factories import UserFactory

# English that Django or a third-party app leaves where no Dutch exists, and that none of
# our Dutch pages uses: whole words or phrases, matched case-sensitively.
ENGLISH = (
    "Django OAuth Toolkit",
    "Access token",
    "Access tokens",
    "Applications",
    "Application",
    "application",
    "Refresh token",
    "Refresh tokens",
    "Grants",
    "Id tokens",
    "ID tokens",
    "Consent changes",
    "Client type",
    "Confidential",
    "Public",
    "Copy and store",
    "Authorization grant type",
    "Skip authorization",
    "Redirect uris",
    "Search",
    "Pagination",
    "Task results",
    "Database tasks",
    "Access attempts",
    "Access failures",
    "Access logs",
    "TOTP devices",
    "Created",
    "Updated",
    "Expires",
    "Token checksum",
    "User",
    "Name",
    "Priority",
    "Queue name",
    "Backend name",
    "Worker",
    "Enqueued at",
    "Finished at",
    "Started at",
    "Run after",
    "Exception",
    "Traceback",
    "Return value",
    "offers-engine",
)
# A code where a name belongs: a purpose's or a rule's (lower case with an underscore).
CODE = re.compile(r"(?<!\")\b(?:offers|travel|savings|student|account|fraud|marketing)_[a-z_]+\b")


class VisibleText(HTMLParser):
    """What a staff member reads: text and the words in titles, labels and buttons, but
    not what they typed or what the data says (form values, the published texts)."""

    SKIP = {"script", "style", "textarea", "code", "pre"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0
        self.data_depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.SKIP:
            self.skipping += 1
        # A column or field that is the code itself, next to the name (products, purposes).
        if self.data_depth or "field-code" in (attributes.get("class") or "").split():
            self.data_depth += 1
        for name in ("title", "aria-label", "placeholder", "alt"):
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.parts.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        if self.data_depth:
            self.data_depth -= 1

    def handle_data(self, data):
        if not self.skipping and not self.data_depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


# Dutch month names are lower case ("21 mei 2026"); Django's "M" capitalises them.
CAPITALISED_MONTH = re.compile(r"\b\d{1,2} (?:Jan|Feb|Mrt|Apr|Mei|Jun|Jul|Aug|Sep|Okt|Nov|Dec)\b")


def english_in(text: str) -> list[str]:
    found = [
        phrase for phrase in ENGLISH if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)
    ]
    return found + CODE.findall(text) + CAPITALISED_MONTH.findall(text)


@pytest.fixture
def demo_data(db, client):
    """The demo, an engine run, a reviewed offer the customer found interesting, two API
    clients approved by a second privacy officer, and a token from the token endpoint."""
    call_command("load_demo", verbosity=0)
    call_command("generate_offers", verbosity=0)
    privacy, privacy2 = User.objects.get(username="privacy"), User.objects.get(username="privacy2")
    now = timezone.now()
    system = propose_client(
        name="Campagnesysteem", kind="system", redirect_uris=[], by=privacy, at=now
    )
    approve_client_change(change_id=system.change.pk, by=privacy2, at=now)
    app = propose_client(
        name="App van de bank",
        kind="app",
        redirect_uris=["nl.voorbeeldbank.app:/cb"],
        by=privacy,
        at=now,
    )
    approve_client_change(change_id=app.change.pk, by=privacy2, at=now)
    response = client.post(
        "/api/v1/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": system.change.client_id,
            "client_secret": system.client_secret,
            "scope": "consent:feed",
        },
    )
    assert response.status_code == 200, response.content
    call_command("issue_staff_activation", "reviewer", stdout=io.StringIO())
    client.logout()


def admin_pages():
    """(name, URL) of every list and add page, and of one row's page per model."""
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield f"{info[0]}.{info[1]}-list", reverse("admin:{}_{}_changelist".format(*info))
        yield f"{info[0]}.{info[1]}-add", reverse("admin:{}_{}_add".format(*info))
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            # Customers are found by their number, never by an internal id.
            key = row.customer_number if model is Customer else row.pk
            yield (
                f"{info[0]}.{info[1]}-change",
                reverse("admin:{}_{}_change".format(*info), args=[key]),
            )


def workflow_pages():
    """The staff's workflows that are pages of their own."""
    purpose = Purpose.objects.order_by("pk").first()
    yield "publish-choose", "/admin/consent/purposeversion/add/"
    yield "publish-form", f"/admin/consent/purposeversion/add/?purpose={purpose.pk}"
    yield "overview", "/admin/offers/offer/overview/"
    yield "run-start", "/admin/offers/offerrun/start/"
    yield "client-propose", "/admin/api/clientchange/add/"


def test_every_admin_page_is_dutch_for_a_dutch_staff_member(client, demo_data):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    pages = [
        ("index", "/admin/"),
        *(
            (f"app-{label}", f"/admin/{label}/")
            for label in sorted({m._meta.app_label for m in admin.site._registry})
        ),
    ]
    pages += [*admin_pages(), *workflow_pages()]
    left = {}
    for name, url in pages:
        response = client.get(url, headers={"accept-language": "nl"}, follow=True)
        if response.status_code in (403, 404, 405):
            continue
        assert response.status_code == 200, (name, response.status_code)
        found = english_in(visible_text(response.content.decode()))
        if found:
            left[f"{name} {url}"] = found
    assert left == {}, "\n".join(f"{k}: {v}" for k, v in left.items())


def test_the_other_apps_names_are_english_for_an_english_staff_member(client, db):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    html = client.get("/admin/", headers={"accept-language": "en"}).content.decode()
    for name in (
        "API clients and tokens",
        "Login attempts",
        "Staff authenticators",
        "Background tasks",
        "Consent changes",
        "Refresh tokens",
    ):
        assert name in html, name
    for dutch in (
        "API-clients en tokens",
        "Inlogpogingen",
        "Achtergrondtaken",
        "vernieuwingstokens",
    ):
        assert dutch not in html, dutch
    clients = client.get(
        "/admin/oauth2_provider/application/", headers={"accept-language": "en"}
    ).content.decode()
    assert "The bank&#x27;s app" in clients and "De app van de bank" not in clients


def test_the_feeds_list_names_purposes_without_a_query_per_row(client, demo_data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/admin/api/consentchange/").content.decode()
    assert "Aanbiedingen op basis van waar en hoe u betaalt" in html
    assert html.count('class="field-purpose_title"') > 10
    assert len(queries) <= 8, len(queries)  # 5, whatever the number of rows
