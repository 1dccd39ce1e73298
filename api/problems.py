"""Every error under /api/ as RFC 9457 problem details (`application/problem+json`).

One registry of problem types (`PROBLEMS`): each has a stable `type` URI under the API's
own URL, `/api/v1/problems/<slug>`, served as a short JSON description so that an
integrator who follows the link learns what it means. The DRF views answer through
`exception_handler`; Django's own 404 for unknown paths, and the 500/503 of config's
error handler, through `problem_response`. Titles and details speak the request's
language (LocaleMiddleware's, or the customer's once the view knows them)."""

import functools
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import override as language_override
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions

CONTENT_TYPE = "application/problem+json"
# A database outage: the request did nothing; the client tries again shortly.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_OUTAGE = 5


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: Promise
    description: Promise


def _types(*types: ProblemType) -> dict[str, ProblemType]:
    return {problem.slug: problem for problem in types}


PROBLEMS = _types(
    ProblemType(
        "invalid-input",
        400,
        gettext_lazy("Ongeldige invoer"),
        gettext_lazy(
            "Een of meer velden of parameters kloppen niet; `errors` noemt ze. Er is niets"
            " veranderd."
        ),
    ),
    ProblemType(
        "invalid-idempotency-key",
        400,
        gettext_lazy("Ongeldige Idempotency-Key"),
        gettext_lazy(
            "De Idempotency-Key is 1 tot 255 zichtbare tekens (bijvoorbeeld een UUID). Er is"
            " niets veranderd."
        ),
    ),
    ProblemType(
        "idempotency-key-reused",
        422,
        gettext_lazy("Idempotency-Key al gebruikt"),
        gettext_lazy(
            "Deze Idempotency-Key is al gebruikt voor een ander verzoek; er is niets"
            " veranderd. Gebruik een nieuwe sleutel."
        ),
    ),
    ProblemType(
        "malformed-body",
        400,
        gettext_lazy("Onleesbare inhoud"),
        gettext_lazy("De inhoud van het verzoek is geen geldige JSON. Er is niets veranderd."),
    ),
    ProblemType(
        "unauthorized",
        401,
        gettext_lazy("Geen geldig toegangstoken"),
        gettext_lazy(
            "Het verzoek had geen Bearer-token, of het token is onbekend, verlopen of"
            " ingetrokken. Vraag een nieuw token aan."
        ),
    ),
    ProblemType(
        "forbidden",
        403,
        gettext_lazy("Niet toegestaan met dit token"),
        gettext_lazy(
            "Het token mist de scope die nodig is, of hoort bij een ander soort client (een"
            " klant of een systeem van de bank)."
        ),
    ),
    ProblemType(
        "not-found",
        404,
        gettext_lazy("Niet gevonden"),
        gettext_lazy("Dit adres bestaat niet, of wat erachter staat is niet van deze klant."),
    ),
    ProblemType(
        "method-not-allowed",
        405,
        gettext_lazy("Methode niet toegestaan"),
        gettext_lazy("Dit adres kent deze HTTP-methode niet; de header Allow noemt ze."),
    ),
    ProblemType(
        "not-acceptable",
        406,
        gettext_lazy("Niet te leveren"),
        gettext_lazy("De API antwoordt alleen in JSON."),
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        gettext_lazy("Niet ondersteund inhoudstype"),
        gettext_lazy("Stuur de inhoud als application/json. Er is niets veranderd."),
    ),
    ProblemType(
        "stale-notice",
        409,
        gettext_lazy("De tekst is veranderd"),
        gettext_lazy(
            "De klant koos op een tekst die niet meer de huidige is. Er is niets vastgelegd;"
            " `card` is de kaart met de huidige tekst: toon die en vraag opnieuw."
        ),
    ),
    ProblemType(
        "too-young",
        409,
        gettext_lazy("Te jong om toestemming te geven"),
        gettext_lazy("Onder de 16 kan een klant geen toestemming geven. Er is niets vastgelegd."),
    ),
    ProblemType(
        "objection-stands",
        409,
        gettext_lazy("Bezwaar tegen direct marketing"),
        gettext_lazy(
            "De klant maakte bezwaar tegen persoonlijke aanbiedingen; eerst dat bezwaar"
            " opheffen. Er is niets vastgelegd."
        ),
    ),
    ProblemType(
        "required-purpose",
        409,
        gettext_lazy("Dit doel is nodig"),
        gettext_lazy(
            "Dit doel hoort bij de dienstverlening en kan niet aan of uit. Er is niets vastgelegd."
        ),
    ),
    ProblemType(
        "customer-closed",
        409,
        gettext_lazy("Klant is vertrokken"),
        gettext_lazy(
            "De klant is geen klant meer; er gaat niets meer aan. Er is niets vastgelegd."
        ),
    ),
    ProblemType(
        "no-objection",
        409,
        gettext_lazy("Er staat geen bezwaar"),
        gettext_lazy("Er is geen bezwaar om op te heffen. Er is niets veranderd."),
    ),
    ProblemType(
        "offer-not-open",
        409,
        gettext_lazy("Aanbieding niet meer open"),
        gettext_lazy("Deze aanbieding kan niet meer beantwoord worden. Er is niets veranderd."),
    ),
    ProblemType(
        "refused",
        409,
        gettext_lazy("Geweigerd"),
        gettext_lazy("Het verzoek is begrepen maar geweigerd. Er is niets vastgelegd."),
    ),
    ProblemType(
        "too-many-requests",
        429,
        gettext_lazy("Te veel verzoeken"),
        gettext_lazy(
            "Dit token (of deze klant) deed te veel verzoeken in een minuut. Wacht het"
            " aantal seconden van Retry-After; RateLimit en RateLimit-Policy tonen de"
            " limiet."
        ),
    ),
    # A data user's read (api.access_views), with the Berlin Group's message code in `code`.
    ProblemType(
        "consent-unknown",
        403,
        gettext_lazy("Onbekende toestemming"),
        gettext_lazy(
            "Deze consentId is niet van deze partij, of bestaat niet. Er is niets gelezen."
        ),
    ),
    ProblemType(
        "consent-invalid",
        401,
        gettext_lazy("Toestemming geldt niet"),
        gettext_lazy(
            "De klant heeft (nog) geen toegang gegeven, of die is ingetrokken of beëindigd,"
            " of de partij is geschorst. `consentStatus` zegt welke. Er is niets gelezen."
        ),
    ),
    ProblemType(
        "consent-expired",
        401,
        gettext_lazy("Toestemming verlopen"),
        gettext_lazy("validUntil is voorbij. Vraag de klant opnieuw. Er is niets gelezen."),
    ),
    ProblemType(
        "resource-unknown",
        404,
        gettext_lazy("Onbekende rekening"),
        gettext_lazy(
            "Deze rekening (resourceId) valt niet onder de toestemming, of niet voor deze"
            " gegevens. Er is niets gelezen."
        ),
    ),
    ProblemType(
        "period-invalid",
        400,
        gettext_lazy("Periode buiten de toestemming"),
        gettext_lazy(
            "dateFrom ligt vóór wat de toestemming toelaat, of na dateTo. Er is niets gelezen."
        ),
    ),
    ProblemType(
        "access-exceeded",
        429,
        gettext_lazy("Vaker gelezen dan afgesproken"),
        gettext_lazy(
            "Vandaag (Europe/Amsterdam) is al frequencyPerDay keer gelezen onder deze"
            " toestemming. Morgen weer. Er is niets gelezen."
        ),
    ),
    ProblemType(
        "server-error",
        500,
        gettext_lazy("Interne fout"),
        gettext_lazy("Er ging bij ons iets mis. Er is mogelijk niets vastgelegd: lees na."),
    ),
    ProblemType(
        "service-unavailable",
        503,
        gettext_lazy("Tijdelijk niet beschikbaar"),
        gettext_lazy(
            "De database is even niet bereikbaar; er is niets opgeslagen. Probeer het na"
            " Retry-After seconden opnieuw."
        ),
    ),
)


def type_uri(request, slug: str) -> str:
    return request.build_absolute_uri(f"/api/v1/problems/{slug}")


def problem_body(request, slug: str, *, detail=None, status: int | None = None, **members):
    problem = PROBLEMS[slug]
    body = {
        "type": type_uri(request, slug),
        "title": str(problem.title),
        "status": status or problem.status,
        "detail": str(detail if detail is not None else problem.description),
        "instance": request.path,
    }
    body.update(members)
    return body


def problem_response(request, slug: str, *, detail=None, headers=None, **members) -> JsonResponse:
    body = problem_body(request, slug, detail=detail, **members)
    response = JsonResponse(body, status=body["status"], content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_errors(detail, prefix="") -> list[dict[str, str]]:
    """DRF's nested error detail, flattened: one member per problem with its field path."""
    if isinstance(detail, dict):
        return [
            error
            for field, value in detail.items()
            for error in _field_errors(value, f"{prefix}.{field}" if prefix else str(field))
        ]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [
                {"field": prefix or "non_field_errors", "code": item.code, "message": str(item)}
                for item in detail
            ]
        return [
            error
            for index, value in enumerate(detail)
            for error in _field_errors(value, f"{prefix}[{index}]")
        ]
    return [{"field": prefix or "non_field_errors", "code": detail.code, "message": str(detail)}]


def _unauthorized_detail(request) -> str:
    if not request.META.get("HTTP_AUTHORIZATION"):
        return _("Er is geen toegangstoken meegestuurd (Authorization: Bearer …).")
    if not request.META["HTTP_AUTHORIZATION"].startswith("Bearer "):
        return _("De header Authorization is geen Bearer-token.")
    return _("Het toegangstoken is onbekend, verlopen of ingetrokken.")


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: each error as its problem type."""
    request = context["request"]
    headers = {}
    members = {}
    if isinstance(exc, DATABASE_DOWN):
        slug, detail = "service-unavailable", None
        headers["Retry-After"] = str(RETRY_AFTER_OUTAGE)
    elif isinstance(exc, Http404 | exceptions.NotFound):
        slug, detail = "not-found", _("Niet gevonden.")
    elif isinstance(exc, exceptions.ParseError):
        slug, detail = "malformed-body", None  # DRF's parser message is English only
    elif isinstance(exc, exceptions.ValidationError):
        slug, detail = "invalid-input", _("De invoer klopt niet; er is niets veranderd.")
        members["errors"] = _field_errors(exc.detail)
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        slug, detail = "unauthorized", _unauthorized_detail(request)
    elif isinstance(exc, exceptions.PermissionDenied):
        slug, detail = "forbidden", str(exc.detail)
    elif isinstance(exc, exceptions.MethodNotAllowed):
        slug = "method-not-allowed"
        detail = _("Methode %(method)s is hier niet toegestaan.") % {"method": request.method}
    elif isinstance(exc, exceptions.NotAcceptable):
        slug, detail = "not-acceptable", None
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        slug, detail = "unsupported-media-type", None
    elif isinstance(exc, exceptions.Throttled):
        slug = "too-many-requests"
        wait = max(int(exc.wait or 0), 1)
        headers["Retry-After"] = str(wait)
        detail = _("Te veel verzoeken; probeer het over %(seconds)d seconden opnieuw.") % {
            "seconds": wait
        }
    elif isinstance(exc, exceptions.APIException):
        slug, detail = "server-error", str(exc.detail)
        members["status"] = exc.status_code
    else:
        return None  # Django's handler500 (config.errors) answers, as a problem too
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    return problem_response(request, slug, detail=detail, headers=headers, **members)


def error_response(request, *, database_down: bool) -> JsonResponse:
    """For config's handler500: an error under /api/ the views did not catch."""
    if database_down:
        return problem_response(
            request, "service-unavailable", headers={"Retry-After": str(RETRY_AFTER_OUTAGE)}
        )
    return problem_response(request, "server-error")


@csrf_exempt  # no cookie authenticates here: a POST to a wrong path is a 404, not a 403
def not_found(request, *args, **kwargs):
    """Any other path under /api/v1/: the API's 404 problem."""
    return problem_response(request, "not-found", detail=_("Niet gevonden."))


def _describe(request, problem: ProblemType) -> dict[str, object]:
    described: dict[str, object] = {"type": type_uri(request, problem.slug)}
    described["status"] = problem.status
    for language in ("nl", "en"):
        with language_override(language):
            described[f"title_{language}"] = str(problem.title)
            described[f"description_{language}"] = str(problem.description)
    return described


def read_only(view):
    """GET and HEAD only; any other method a 405 problem (not Django's empty page, nor a
    CSRF page: no cookie authenticates here)."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            detail = _("Methode %(method)s is hier niet toegestaan.") % {"method": request.method}
            return problem_response(
                request, "method-not-allowed", detail=detail, headers={"Allow": "GET, HEAD"}
            )
        return view(request, *args, **kwargs)

    return wrapped


@read_only
def problem_types(request):
    """`/api/v1/problems/`: every problem type the API answers with."""
    return JsonResponse(
        {"problems": [_describe(request, problem) for problem in PROBLEMS.values()]}
    )


@read_only
def problem_type(request, slug):
    """`/api/v1/problems/<slug>`: what one problem type means, in Dutch and English."""
    if slug not in PROBLEMS:
        return not_found(request)
    return JsonResponse(_describe(request, PROBLEMS[slug]))
