"""What the access app keeps about the ledger, checked when it is verified (a receiver of
`ledger.signals.audit`): every `access_granted` / `access_withdrawn` event names the
SHA-256 of the text its permission keeps, and that text still hashes to it."""

import hashlib
from typing import Any

from django.db.models import Q

from ledger.models import ACCESS_ACTIONS, ConsentEvent

from .models import Permission


def check_texts(**_kwargs: Any) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    by_event: dict[int, Permission] = {}
    permissions = Permission.objects.filter(
        Q(granted_event__isnull=False) | Q(ended_event__isnull=False)
    )
    for permission in permissions:
        for event_id in (permission.granted_event_id, permission.ended_event_id):
            if event_id is not None:
                by_event[event_id] = permission
    events = ConsentEvent.objects.filter(action__in=ACCESS_ACTIONS).select_related("customer")
    for event in events:
        number = event.customer.customer_number
        found = by_event.get(event.pk)
        if found is None:
            problems.setdefault(number, []).append(f"event {event.pk}: no permission names it")
            continue
        text_hash = hashlib.sha256(found.text.encode()).hexdigest()
        if event.notice_sha256 != found.text_sha256 or text_hash != event.notice_sha256:
            problems.setdefault(number, []).append(
                f"event {event.pk}: notice hash is not that of the text approved"
            )
    return problems
