"""The contract: `/api/v1/schema/` (OpenAPI 3, also checked in as docs/openapi.yaml) and a
documentation page (Swagger UI, served from our static files).

The page obeys the site's strict CSP: no inline script or style. drf-spectacular's split
view sends the start-up script as a file of its own; our template drops the inline
<style> of the stock one for a stylesheet."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiRequest,
    OpenApiResponse,
    OpenApiWebhook,
    extend_schema,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

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
