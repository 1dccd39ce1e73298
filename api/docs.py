"""The contract: `/api/v1/schema/` (OpenAPI 3, also checked in as docs/openapi.yaml) and a
documentation page (Swagger UI, served from our static files).

The page obeys the site's strict CSP: no inline script or style. drf-spectacular's split
view sends the start-up script as a file of its own; our template drops the inline
<style> of the stock one for a stylesheet."""

import json
from pathlib import Path

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiRequest,
    OpenApiResponse,
    OpenApiWebhook,
    extend_schema,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider.models import AbstractApplication

from .oauth import AIS, SCOPES_BY_GRANT
from .serializers import WebhookPayloadSerializer


class SchemaView(SpectacularAPIView):
    throttle_classes = []


class DocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api_schema"
    title = "Mijn privacykeuzes API"
    throttle_classes = []


RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The policy (the scope) with its quota per window: `"read";q=120;w=60`.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left and when the window frees a request: `"read";r=117;t=58`.',
        "schema": {"type": "string"},
    },
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


def response_headers(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: the headers every operation's answers
    carry (api/throttling.py, api/problems.py), so the schema need not repeat them. A
    401 or 403 is refused before anything counts, so it carries no rate-limit headers."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                headers = {}
                if status not in ("401", "403", "503"):
                    headers.update(RATE_LIMIT_HEADERS)
                if status in ("429", "503"):
                    headers.update(RETRY_AFTER)
                if headers:
                    response["headers"] = {**response.get("headers", {}), **headers}
    return result


# Examples of what each operation takes and answers, as the real API gave them (lists cut
# to their first item). `tests/api/test_schema.py` validates each against its schema;
# `tests/api/test_schemathesis.py` sends the request examples to a live server, where they
# must reach real resources and succeed.
EXAMPLES_FILE = Path(__file__).with_name("openapi_examples.json")
EXAMPLE = "example"  # the name of each operation's example in the schema


def examples(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: an example for every operation's
    success, request body and path parameter (schemathesis's examples phase sends them)."""
    known = json.loads(EXAMPLES_FILE.read_text())
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            operation_id = operation["operationId"]
            for parameter in operation.get("parameters", []):
                # Path parameters, and a data user's Consent-ID header and period.
                if parameter["name"] in known["parameters"] and parameter["in"] != "cookie":
                    parameter["example"] = known["parameters"][parameter["name"]]
            if operation_id in known["requests"]:
                for content in operation["requestBody"]["content"].values():
                    content["examples"] = {EXAMPLE: {"value": known["requests"][operation_id]}}
            if operation_id in known["responses"]:
                success = min(status for status in operation["responses"] if status < "300")
                content = operation["responses"][success]["content"]["application/json"]
                content["examples"] = {EXAMPLE: {"value": known["responses"][operation_id]}}
    return result


# Each OAuth flow with the scopes it can be granted (api/oauth.py): the app's code flow
# never gets a system's scope, client credentials never a customer's, nor a refresh token.
FLOW_SCOPES = {
    "authorizationCode": SCOPES_BY_GRANT[AbstractApplication.GRANT_AUTHORIZATION_CODE],
    # The bank's systems, and data users (third parties: `psd2:ais` only, api/oauth.py).
    "clientCredentials": (*SCOPES_BY_GRANT[AbstractApplication.GRANT_CLIENT_CREDENTIALS], AIS),
}


def oauth_flows(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: per flow only its own scopes; no
    `refreshUrl` where no refresh token is issued."""
    flows = result["components"]["securitySchemes"]["oauth2"]["flows"]
    for name, scopes in FLOW_SCOPES.items():
        flows[name]["scopes"] = {scope: flows[name]["scopes"][scope] for scope in scopes}
    flows["clientCredentials"].pop("refreshUrl", None)
    return result


# The webhooks a system may receive (api/webhooks.py), in the schema's `webhooks:`.
CONSENT_CHANGE_WEBHOOK = OpenApiWebhook(
    name="consentChange",
    decorator=extend_schema(
        summary="A new row of the consent change feed, pushed to a system's endpoint",
        description=(
            "POSTed to the HTTPS endpoint a privacy officer registered for the system, for"
            " every new row of `consent-changes` after the endpoint's approval. Headers (Standard"
            " Webhooks): `webhook-id` (`consent-change-<feed id>`, the same at every attempt),"
            " `webhook-timestamp` (seconds since 1970, UTC) and `webhook-signature`"
            ' (`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">` under the'
            " base64-decoded part of the `whsec_` secret; two, space-separated, while a"
            " rotated secret still signs). Answer 2xx within 5 seconds; anything else is"
            " retried after 30 s, 2 min, 10 min, 1 h, 6 h and 16 h, then given up. At least"
            " once and not in order: dedupe by `data.id`, keep the highest per customer and"
            " purpose, and read the feed after a longer outage. See docs/integrators.md,"
            " *Webhooks*."
        ),
        request=OpenApiRequest(
            WebhookPayloadSerializer,
            examples=[
                OpenApiExample(
                    "A consent given",
                    value={
                        "type": "consent.changed",
                        "timestamp": "2026-11-02T09:30:00Z",
                        "data": {
                            "id": 4711,
                            "customer_number": "300001",
                            "purpose": "offers_spending",
                            "may_use": True,
                            "kind": "granted",
                            "effective_at": "2026-11-02T09:30:00Z",
                            "recorded_at": "2026-11-02T09:30:00Z",
                            "valid_until": "2028-11-01",
                        },
                    },
                )
            ],
        ),
        responses={
            200: OpenApiResponse(description="Received (any 2xx will do)."),
        },
    ),
)
