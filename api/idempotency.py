"""`Idempotency-Key` on the API's POSTs: a retry gets the first answer and does nothing.

A mobile app on a bad network sends a choice again when the answer got lost. With the
same key (per token holder: the client and the customer) and the same request, the
answer is the first one, with `Idempotent-Replayed: true`, and nothing is written; the
same key with another request is a 422.

The key's row is inserted first, in the transaction that does the work and stores the
answer, so both commit together: a retry can never do the work again after it was done.
A concurrent request with the same key waits on the row's unique index until the first
commits, and then gets its answer (or, if the first failed and rolled back, does the work
itself). Answers that raised (400, 404, 415, 500) rolled back and are not kept: nothing
was done, so a retry may try again.
"""

import datetime as dt
import functools
import hashlib
import json
import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.response import Response

from .models import IdempotentRequest
from .problems import CONTENT_TYPE, problem_body

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Visible ASCII, as a header carries it; a UUID is what the app sends.
KEY_PATTERN = "[!-~]{1,255}"
VALID_KEY = re.compile(KEY_PATTERN)


def idempotent(handler):
    """For a view's `post`: honour `Idempotency-Key` (after authentication, so the token
    says whose key it is)."""

    @functools.wraps(handler)
    def post(view, request, *args, **kwargs):
        return respond(request, lambda: handler(view, request, *args, **kwargs))

    return post


def respond(request, handler) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not VALID_KEY.fullmatch(key):
        return Response(
            problem_body(request, "invalid-idempotency-key"),
            status=400,
            content_type=CONTENT_TYPE,
        )
    holder = {"application_id": request.auth.application_id, "user_id": request.user.pk}
    fingerprint = {
        "method": request.method,
        "path": request.path,
        "body_sha256": hashlib.sha256(request.body).hexdigest(),
    }
    with transaction.atomic():
        claimed = _claim(key=key, at=timezone.now(), **holder, **fingerprint)
        if not claimed:
            first = IdempotentRequest.objects.get(key=key, **holder)
            if {name: getattr(first, name) for name in fingerprint} != fingerprint:
                return Response(
                    problem_body(
                        request,
                        "idempotency-key-reused",
                        reason="idempotency_key_reused",
                        code="idempotency_key_reused",
                    ),
                    status=422,
                    content_type=CONTENT_TYPE,
                )
            return Response(
                json.loads(first.response_body), status=first.status, headers={REPLAYED: "true"}
            )
        response = handler()
        IdempotentRequest.objects.filter(key=key, **holder).update(
            status=response.status_code,
            response_body=json.dumps(response.data, cls=DjangoJSONEncoder),
        )
    return response


def _claim(*, application_id, user_id, key, method, path, body_sha256, at) -> bool:
    """Insert the key's row; False if the holder already has it. While another
    transaction holds an uncommitted row with this key, PostgreSQL makes this wait."""
    table = IdempotentRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table}"
            " (application_id, user_id, key, method, path, body_sha256, response_body,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, '', %s)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [application_id, user_id, key, method, path, body_sha256, at],
        )
        return cursor.fetchone() is not None


def prune_idempotency_keys(*, at: dt.datetime) -> int:
    """Forget keys older than `IDEMPOTENCY_KEYS_KEPT_HOURS`; how many were removed."""
    kept_from = at - dt.timedelta(hours=settings.IDEMPOTENCY_KEYS_KEPT_HOURS)
    removed, _by_model = IdempotentRequest.objects.filter(created_at__lt=kept_from).delete()
    return removed
