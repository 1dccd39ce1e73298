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
                    "psd2:ais",
                }
            if method == "post" and path == "/api/v1/consents":  # a data user asks
                assert scopes == ["psd2:ais"], path
            elif method == "post":
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


def test_ids_in_paths_are_integers_the_receipt_is_typed_and_pkce_is_stated():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    receipt = schema["paths"]["/api/v1/me/history/{event_id}/receipt"]["get"]
    (event_id,) = receipt["parameters"]
    assert event_id["schema"]["type"] == "integer"
    typed = receipt["responses"]["200"]["content"]["application/json"]["schema"]
    assert typed == {"$ref": "#/components/schemas/Receipt"}
    receipt_fields = schema["components"]["schemas"]["Receipt"]["properties"]
    assert {"consentReceiptID", "ledgerHash", "proof"} <= set(receipt_fields)
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    assert scheme["flows"]["authorizationCode"]["x-pkce-methods"] == ["S256"]
    assert "PKCE" in scheme["description"]


def test_the_rate_limit_headers_are_documented():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    purposes = schema["paths"]["/api/v1/me/purposes"]["get"]["responses"]
    assert {"RateLimit", "RateLimit-Policy"} <= set(purposes["200"]["headers"])
    assert purposes["429"]["headers"]["Retry-After"]["required"] is True
    assert purposes["503"]["headers"]["Retry-After"]["required"] is True


def test_each_flow_lists_only_the_scopes_it_can_grant_and_no_refresh_where_none_is_given():
    flows = yaml.safe_load(SCHEMA_FILE.read_text())["components"]["securitySchemes"]["oauth2"][
        "flows"
    ]
    assert set(flows["authorizationCode"]["scopes"]) == {"consent:read", "consent:choose"}
    assert set(flows["clientCredentials"]["scopes"]) == {
        "consent:feed",
        "consent:check",
        "psd2:ais",
    }
    assert "refreshUrl" not in flows["clientCredentials"]


# --- Examples: every operation's, valid, and what the code answers ----------------------------
def operations():
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def examples_with_schemas():
    """(where, example, its schema) for every example of a body, sent or answered."""
    for path, method, operation in operations():
        bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
        bodies += [(status, r.get("content", {})) for status, r in operation["responses"].items()]
        for status, contents in bodies:
            for content in contents.values():  # an NDJSON example is one line, as its schema
                for name, example in content.get("examples", {}).items():
                    where = f"{method.upper()} {path} {status} {name}"
                    yield where, example["value"], content["schema"]


def test_every_operation_has_an_example_of_its_success_and_of_what_it_takes():
    for path, method, operation in operations():
        status = min(status for status in operation["responses"] if status < "300")
        if status == "204":  # no content: nothing to show
            continue
        success = operation["responses"][status]["content"]
        assert any(content.get("examples") for content in success.values()), (method, path)
        for content in operation.get("requestBody", {}).get("content", {}).values():
            assert content.get("examples"), (method, path)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert "example" in parameter, (method, path, parameter["name"])


def test_every_example_is_valid_against_its_schema():
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = _resolved_against(yaml.safe_load(SCHEMA_FILE.read_text()), "urn:openapi")
    registry = Registry().with_resource(
        "urn:openapi", Resource(contents=document, specification=DRAFT202012)
    )
    checked = 0
    for where, value, schema in examples_with_schemas():
        schema = _resolved_against(schema, "urn:openapi")
        errors = list(Draft202012Validator(schema, registry=registry).iter_errors(value))
        assert not errors, (where, [error.message for error in errors[:3]])
        checked += 1
    assert checked > 40


def _resolved_against(schema, base):
    """`#/components/...` references, pointed at the whole document in the registry."""
    if isinstance(schema, dict):
        return {
            key: (f"{base}{value}" if key == "$ref" else _resolved_against(value, base))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_resolved_against(item, base) for item in schema]
    return schema
