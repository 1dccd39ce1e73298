"""What leaving the bank and retention do to third parties' access.

- Leaving (`lifecycle.signals.customer_closed`): every permission still valid ends at
  once, with its `access_withdrawn` event (ended by the bank, `left_bank`), and every
  request not yet decided ends; the data users' next read is refused.
- The permissions and their read log are the proof of what the customer approved and of
  every disclosure made under it: they are kept as long as the consent proof and go with
  it (`lifecycle.signals.proof_removed`: retention removed the customer's whole chain,
  whose `access_*` events the permissions name). An erasure request (GDPR art. 17) does
  not remove them: they are not what consent-based processing *produced* for offers but
  the record of disclosures the customer instructed, which the bank must be able to
  show (PSD2 art. 67, GDPR art. 5(2)).
"""

import datetime as dt
from typing import Any

from django.utils.translation import ngettext_lazy

from infra.effects import Effect, EffectKind

from .actions import end_for_leaver
from .models import Permission

ACCESS_ENDED = EffectKind(
    "third_party_access_ended",
    ngettext_lazy(
        "%(count)d toegang van een andere partij beëindigd",
        "%(count)d keer toegang van andere partijen beëindigd",
        "count",
    ),
)
ACCESS_REMOVED = EffectKind(
    "third_party_access_removed",
    ngettext_lazy(
        "%(count)d toegang van een andere partij verwijderd",
        "%(count)d keer toegang van andere partijen verwijderd",
        "count",
    ),
)


def end_on_closure(*, customer_id: int, at: dt.datetime, **_signal: Any) -> list[Effect]:
    ended = end_for_leaver(customer_id=customer_id, at=at)
    return [ACCESS_ENDED(ended)] if ended else []


def remove_on_proof_removed(*, customer_id: int, **_signal: Any) -> list[Effect]:
    permissions = Permission.objects.filter(customer_id=customer_id)
    removed = permissions.count()
    permissions.delete()  # their accounts and reads go along (CASCADE)
    return [ACCESS_REMOVED(removed)] if removed else []
