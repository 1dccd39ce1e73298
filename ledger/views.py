"""The log's public face: what a monitor, a witness or an auditor reads, without logging in.

- `/ledger/checkpoint`: the newest signed checkpoint (a C2SP signed note, with the
  witnesses' cosignatures), as plain text;
- `/ledger/consistency?from=M&to=N`: the RFC 9162 consistency proof between two sizes
  the log has signed, as JSON `{"from": M, "to": N, "proof": [base64, ...]}`;
- `/ledger/public-key`: the log's verifier key (compare it with the one you pinned).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import checkpoints, log, note
from .keys import public_key
from .models import Checkpoint

TEXT = "text/plain; charset=utf-8"


@require_GET
@never_cache
def checkpoint(request: HttpRequest) -> HttpResponse:
    newest = checkpoints.newest()
    if newest is None:
        return HttpResponse("no checkpoint yet\n", status=404, content_type=TEXT)
    return HttpResponse(newest.note, content_type=TEXT)


@require_GET
def consistency(request: HttpRequest) -> HttpResponse:
    try:
        old, new = int(request.GET["from"]), int(request.GET["to"])
    except (KeyError, ValueError):
        return JsonResponse({"error": "give from=<size> and to=<size>, whole numbers"}, status=400)
    signed = set(Checkpoint.objects.filter(size__in=[old, new]).values_list("size", flat=True))
    if not 0 <= old <= new or new not in signed or (old and old not in signed):
        return JsonResponse(
            {"error": "both sizes must be sizes of signed checkpoints, from <= to"}, status=404
        )
    proof = log.consistency_proof(old, new) if 0 < old < new else []
    return JsonResponse({"from": old, "to": new, "proof": [note.b64encode(h) for h in proof]})


@require_GET
def public_key_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(public_key() + "\n", content_type=TEXT)
