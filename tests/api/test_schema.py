"""The contract is the schema: docs/openapi.yaml is what the code generates, the running app
serves it, and the documentation page shows it under the site's strict CSP."""

from pathlib import Path

import yaml
from django.conf import settings
from django.core.management import call_command
from django.test import Client

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
REGENERATE = "python manage.py spectacular --file docs/openapi.yaml --validate"


def test_the_checked_in_schema_is_what_the_code_generates(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert generated.read_text() == SCHEMA_FILE.read_text(), (
        f"docs/openapi.yaml is out of date; regenerate it with: {REGENERATE}"
    )


def test_the_app_serves_the_same_schema(db):
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content) == yaml.safe_load(SCHEMA_FILE.read_text())


def test_every_operation_needs_a_token_with_a_named_scope():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            (requirement,) = operation["security"]
            (scopes,) = requirement.values()
            if path == "/api/v1/purposes":  # public to any client's token, whatever its scopes
                assert scopes == [] and method == "get"
            else:
                assert scopes and set(scopes) <= {
                    "consent:read",
                    "consent:choose",
                    "consent:feed",
                    "consent:check",
                }
            if method == "post":
                assert scopes == ["consent:choose"], path
            for status in ("401", "403", "429"):
                assert status in operation["responses"], (path, status)


def test_the_documentation_page_has_no_inline_script_or_style(db):
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html and "style=" not in html
    assert "<script>" not in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    script = Client().get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_every_error_is_documented_as_a_problem_with_an_example():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (path, status)
            for status in ("401", "429", "503"):
                assert operation["responses"][status]["content"]["application/problem+json"][
                    "examples"
                ], (path, status)


def test_ids_in_paths_are_integers_and_pkce_is_stated():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    receipt = schema["paths"]["/api/v1/me/history/{event_id}/receipt"]["get"]
    (event_id,) = receipt["parameters"]
    assert event_id["schema"]["type"] == "integer"
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    assert scheme["flows"]["authorizationCode"]["x-pkce-methods"] == ["S256"]
    assert "PKCE" in scheme["description"]


def test_the_rate_limit_headers_are_documented():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    purposes = schema["paths"]["/api/v1/me/purposes"]["get"]["responses"]
    assert {"RateLimit", "RateLimit-Policy"} <= set(purposes["200"]["headers"])
    assert purposes["429"]["headers"]["Retry-After"]["required"] is True
    assert purposes["503"]["headers"]["Retry-After"]["required"] is True
