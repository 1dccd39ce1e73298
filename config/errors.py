"""Error pages. A database outage is a 503 that says the choice was not saved, not a 500."""

import sys

from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

from api import problems


@requires_csrf_token
def server_error(request):
    # Django calls this while handling the exception, so it is still current.
    if request.path.startswith("/api/"):
        # The API's clients read problem details, not pages.
        return problems.error_response(
            request, database_down=isinstance(sys.exception(), problems.DATABASE_DOWN)
        )
    if isinstance(sys.exception(), problems.DATABASE_DOWN):
        return service_unavailable(request)
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({}, request))


def service_unavailable(request):
    template = loader.get_template("503.html")
    response = HttpResponse(template.render({}, request), status=503)
    response["Retry-After"] = str(problems.RETRY_AFTER_OUTAGE)
    return response


def page_not_found(request, exception):
    # Under /api/ but outside /api/v1/ (whose own catch-all answers the rest): a problem.
    if request.path.startswith("/api/"):
        return problems.not_found(request)
    return defaults.page_not_found(request, exception)
