"""What the consent app does after a restore of an older backup lost choices (a receiver of
`ledger.signals.restored`): each customer whose choices were lost has every consent that
is on withdrawn by the system and is told on the dashboard, until they choose again."""

from typing import Any

from django.utils import timezone

from consent.choices import stop_after_lost_choices
from infra.effects import Effects
from ledger.models import Restore


def stop_processing_after_restore(*, restore: Restore, **_kwargs: Any) -> dict[str, int]:
    since = restore.backup_taken_at or restore.checkpoint_at
    effects = Effects()
    for lost in restore.lost:
        effects += stop_after_lost_choices(
            customer_number=lost["customer_number"], since=since, at=timezone.now()
        )
    return effects.as_counts()
