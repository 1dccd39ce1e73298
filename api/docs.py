"""The contract: `/api/v1/schema/` (OpenAPI 3, also checked in as docs/openapi.yaml) and a
documentation page (Swagger UI, served from our static files).

The page obeys the site's strict CSP: no inline script or style. drf-spectacular's split
view sends the start-up script as a file of its own; our template drops the inline
<style> of the stock one for a stylesheet."""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


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
