"""Ledger rows as older code wrote them, before today's refusals existed.

`record_choice` now refuses a grant under 16 or while an objection stands, but a bank's
ledger also holds history from before: those rows must never count. This writes them
through the ledger's own low-level writer (`consent.services.append_event`: the same event,
chain and state as any choice), skipping only the checks that older code did not make.
"""

from django.db import transaction

from consent import choices as services
from ledger.models import Action, Channel


def legacy_grant(customer, purpose_code, *, at):
    purpose = services.get_purpose(purpose_code)
    version = services.current_version(purpose, at=at)
    with transaction.atomic():
        locked = services.lock_customer(customer)
        event, _effects = services.append_event(
            customer=locked,
            purpose=purpose,
            version=version,
            action=Action.GRANTED,
            channel=Channel.IMPORT,
            actor=None,
            at=at,
            language="nl",
            notice_sha256=version.notice_sha256("nl"),
        )
    return event
