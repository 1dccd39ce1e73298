"""Every error under /api/ is RFC 9457 problem details: `application/problem+json` with
type, title, status, detail and instance, the type a stable URI the API itself serves."""

import pytest

from consent.models import ConsentState
from tests.factories import CustomerFactory, publish_version

from .conftest import CHOOSE, READ, bearer

PROBLEM = "application/problem+json"
BASE = "http://testserver/api/v1/problems/"


@pytest.fixture
def sanne(db, choose):
    sanne = CustomerFactory(customer_number="800002", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


@pytest.fixture
def app(sanne, app_for):
    return app_for(sanne)


def problem(response, status, slug):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == BASE + slug
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["instance"] == response.wsgi_request.path
    return body


def test_a_missing_token_is_a_401_problem_that_says_there_was_none(db):
    body = problem(bearer(None).get("/api/v1/me/purposes"), 401, "unauthorized")
    assert "geen toegangstoken" in body["detail"]


def test_a_wrong_token_is_a_401_problem_that_says_the_token_is_not_valid(db):
    response = bearer("not-a-token").get("/api/v1/me/purposes", headers={"Accept-Language": "en"})
    body = problem(response, 401, "unauthorized")
    assert body["detail"] == "The access token is unknown, expired or revoked."
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_scope_is_a_403_problem(sanne, app_for):
    response = app_for(sanne, scope=READ).post("/api/v1/me/stop-all")
    body = problem(response, 403, "forbidden")
    assert CHOOSE in body["detail"]
    assert not ConsentState.objects.filter(customer=sanne, state="objected").exists()


def test_an_unknown_purpose_is_a_404_problem(app):
    problem(app.get("/api/v1/me/purposes/no_such_purpose"), 404, "not-found")


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_is_a_404_problem_not_a_page(db, method):
    response = getattr(bearer(None), method)("/api/v1/no/such/path")
    problem(response, 404, "not-found")


def test_a_wrong_method_is_a_405_problem_with_allow(app):
    response = app.delete("/api/v1/me/purposes")
    body = problem(response, 405, "method-not-allowed")
    assert "DELETE" in body["detail"]
    assert "GET" in response["Allow"]


def test_bad_input_is_a_400_problem_listing_each_field(app, sanne):
    response = app.post(
        "/api/v1/me/purposes/offers_income/choice",
        {"choice": "GRANT", "version": "one"},
        format="json",
    )
    body = problem(response, 400, "invalid-input")
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"choice", "version"}
    assert all(error["message"] and error["code"] for error in body["errors"])


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("nl", "De inhoud van het verzoek is geen geldige JSON. Er is niets veranderd."),
        ("en", "The request's body is not valid JSON. Nothing was changed."),
    ],
)
def test_a_body_that_is_not_json_is_a_400_problem_in_one_language(app, language, detail):
    response = app.post(
        "/api/v1/me/purposes/offers_income/choice",
        "{nope",
        content_type="application/json",
        headers={"Accept-Language": language},
    )
    assert problem(response, 400, "malformed-body")["detail"] == detail


def test_a_body_of_another_type_is_a_415_problem(app):
    response = app.post(
        "/api/v1/me/purposes/offers_income/choice", "choice=grant", content_type="text/plain"
    )
    problem(response, 415, "unsupported-media-type")


def test_a_stale_text_is_a_409_problem_with_a_reason_and_the_new_card(app, sanne):
    shown = app.get("/api/v1/me/purposes/offers_income").json()
    publish_version("offers_income", material=True)
    response = app.post(
        "/api/v1/me/purposes/offers_income/choice",
        {"choice": "grant", "version": shown["version"], "notice_sha256": shown["notice_sha256"]},
        format="json",
    )
    body = problem(response, 409, "stale-notice")
    assert body["reason"] == body["code"] == "stale_notice"
    assert body["card"]["version"] == 2


def test_a_standing_objection_and_a_required_purpose_are_409_problems(app):
    app.post("/api/v1/me/stop-all")
    shown = app.get("/api/v1/me/purposes/offers_income").json()
    body = problem(
        app.post(
            "/api/v1/me/purposes/offers_income/choice",
            {
                "choice": "grant",
                "version": shown["version"],
                "notice_sha256": shown["notice_sha256"],
            },
            format="json",
        ),
        409,
        "objection-stands",
    )
    assert body["reason"] == "objection_stands"
    required = app.post(
        "/api/v1/me/purposes/payments/choice", {"choice": "withdraw"}, format="json"
    )
    assert problem(required, 409, "required-purpose")["reason"] == "required_purpose"


def test_lifting_no_objection_is_a_409_problem(app):
    body = problem(app.post("/api/v1/me/objection/lift"), 409, "no-objection")
    assert body["reason"] == "no_objection"


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"read": "1/min", "choose": "1/min", "feed": "1/min"},
    }


@pytest.mark.parametrize(
    ("language", "words"), [("en", "Too many requests; try again in"), ("nl", "Te veel")]
)
def test_a_429_is_a_problem_in_one_language_the_requests(db, app_for, low_rates, language, words):
    app = app_for(CustomerFactory())
    headers = {"Accept-Language": language}
    app.get("/api/v1/me/purposes", headers=headers)
    response = app.get("/api/v1/me/purposes", headers=headers)
    body = problem(response, 429, "too-many-requests")
    assert body["detail"].startswith(words)
    assert str(int(response["Retry-After"])) in body["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_a_503_problem_with_retry_after(app, database_down):
    database_down()
    response = app.get("/api/v1/me/purposes")
    problem(response, 503, "service-unavailable")
    assert response["Retry-After"] == "5"


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_outside_the_api_views_is_a_problem_too(crm, database_down):
    """The token endpoint is django-oauth-toolkit's view, not ours: Django's handler."""
    database_down()
    response = bearer(None).post(
        "/api/v1/oauth/token/",
        {"grant_type": "client_credentials", "client_id": crm.client_id, "client_secret": "x"},
        format="multipart",
    )
    problem(response, 503, "service-unavailable")
    assert response["Retry-After"] == "5"


@pytest.mark.parametrize("path", ["/api/", "/api/v2/me/purposes"])
def test_an_unknown_path_outside_v1_is_a_404_problem_too(db, path):
    problem(bearer(None).get(path), 404, "not-found")


def test_every_problem_type_is_served_in_both_languages(db):
    client = bearer(None)
    listing = client.get("/api/v1/problems/").json()["problems"]
    slugs = [entry["type"].removeprefix(BASE) for entry in listing]
    assert {"stale-notice", "too-young", "too-many-requests", "service-unavailable"} <= set(slugs)
    for slug in slugs:
        described = client.get(f"/api/v1/problems/{slug}").json()
        assert described["title_nl"] != described["title_en"]
        assert described["description_en"]
    problem(client.get("/api/v1/problems/no-such-problem"), 404, "not-found")


def test_the_problem_pages_are_read_only_and_say_so_as_a_problem(db):
    response = bearer(None).post("/api/v1/problems/not-found")
    problem(response, 405, "method-not-allowed")
    assert response["Allow"] == "GET, HEAD"


def test_a_client_that_takes_no_json_gets_a_406_problem_all_the_same(app):
    response = app.get("/api/v1/me/purposes", headers={"Accept": "text/html"})
    problem(response, 406, "not-acceptable")
