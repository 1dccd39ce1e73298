"""The error answers of the schema: each operation's problems (`errors`), documented as
`application/problem+json` with an example, so the views only name their statuses."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from . import problems
from . import serializers as s

PROBLEM = problems.CONTENT_TYPE


EXAMPLE_HOST = "https://privacy.bank.example"


def problem_example(slug, status, title, detail, path="/api/v1/me/purposes", **members):
    """An example of a problem answer, for the schema's documentation."""
    return OpenApiExample(
        slug,
        value={
            "type": f"{EXAMPLE_HOST}/api/v1/problems/{slug}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": path,
            **members,
        },
        response_only=True,
        status_codes=[str(status)],
    )


EXAMPLES = {
    400: [
        problem_example(
            "invalid-input",
            400,
            "Invalid input",
            "The input is not right; nothing was changed.",
            "/api/v1/me/purposes/offers_income/choice",
            errors=[
                {
                    "field": "choice",
                    "code": "invalid_choice",
                    "message": '"GRANT" is not a valid choice.',
                }
            ],
        )
    ],
    401: [
        problem_example(
            "unauthorized",
            401,
            "No valid access token",
            "The access token is unknown, expired or revoked.",
        )
    ],
    403: [
        problem_example(
            "forbidden",
            403,
            "Not allowed with this token",
            "This token may not do this; it needs: consent:read",
        )
    ],
    404: [problem_example("not-found", 404, "Not found", "Not found.")],
    415: [
        problem_example(
            "unsupported-media-type",
            415,
            "Unsupported media type",
            "Send the body as application/json. Nothing was changed.",
        )
    ],
    422: [
        problem_example(
            "idempotency-key-reused",
            422,
            "Idempotency-Key already used",
            "This Idempotency-Key was already used for another request; nothing was changed."
            " Use a new key.",
            "/api/v1/me/purposes/offers_income/choice",
            reason="idempotency_key_reused",
            code="idempotency_key_reused",
        )
    ],
    429: [
        problem_example(
            "too-many-requests",
            429,
            "Too many requests",
            "Too many requests; try again in 12 seconds.",
        )
    ],
    503: [
        problem_example(
            "service-unavailable",
            503,
            "Temporarily unavailable",
            "The database cannot be reached for a moment; nothing was saved. Try again"
            " after Retry-After seconds.",
        )
    ],
}


def problem(serializer, description, examples=()):
    return OpenApiResponse(serializer, description=description, examples=list(examples))


def errors(*statuses, **described):
    """The documented error answers of an operation, each `application/problem+json`."""
    texts = {
        400: ("Invalid input; nothing was changed.", s.ValidationProblemSerializer),
        401: ("No valid access token (missing, unknown, expired).", s.ProblemSerializer),
        403: ("The token lacks the scope or is not of this kind of client.", s.ProblemSerializer),
        404: ("Not found (or not yours).", s.ProblemSerializer),
        415: ("The body is not JSON; nothing was changed.", s.ProblemSerializer),
        422: (
            "This Idempotency-Key was used before for another request; nothing was changed.",
            s.ProblemSerializer,
        ),
        429: ("Too many requests for this token; see Retry-After.", s.ProblemSerializer),
        503: (
            "The database is unavailable; nothing was saved; see Retry-After.",
            s.ProblemSerializer,
        ),
    }
    responses = {}
    for status in (401, 403, 429, 503, *statuses):
        text, serializer = texts[status]
        responses[(status, PROBLEM)] = problem(
            serializer, described.get(status, text), EXAMPLES.get(status, ())
        )
    return responses
