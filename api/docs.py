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
