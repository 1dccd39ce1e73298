"""The one way to record a customer's choice.

Every choice becomes one ConsentEvent (chained to the customer's previous one) and the
matching ConsentState, in one transaction, with the customer's row locked so that
concurrent choices for one customer are serialised and the chain never forks.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import hooks
from .catalogue import VERSION_FIELDS
from .models import (
    GENESIS_HASH,
    Action,
    ConsentEvent,
    ConsentState,
    Customer,
    Purpose,
    PurposeVersion,
)


class ChoiceError(Exception):
    """A choice that cannot be recorded. Nothing was written."""


class UnknownPurpose(ChoiceError):
    pass


class RequiredPurpose(ChoiceError):
    pass


@dataclass(frozen=True)
class RecordedChoice:
    events: list[ConsentEvent]
    effects: Counter = field(default_factory=Counter)


def get_purpose(code: str) -> Purpose:
    try:
        return Purpose.objects.get(code=code)
    except Purpose.DoesNotExist:
        raise UnknownPurpose(_("Onbekend doel: %(code)s") % {"code": code}) from None


def record_choice(
    *,
    customer: Customer,
    purpose_code: str,
    action: str,
    channel: str,
    actor,
    at: dt.datetime,
    language: str = "nl",
) -> RecordedChoice:
    purpose = get_purpose(purpose_code)
    with transaction.atomic():
        locked = _lock(customer)
        event, effects = _record(
            customer=locked,
            purpose=purpose,
            action=action,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
        )
    return RecordedChoice(events=[event], effects=effects)


def withdraw_all(*, customer: Customer, channel: str, actor, at: dt.datetime, language: str = "nl"):
    """'Stop all personal offers': one withdrawal event per consent-based purpose.

    Also serves as the GDPR Art. 21 objection to direct marketing, so it is recorded
    even for purposes the customer never switched on.
    """
    events, effects = [], Counter()
    with transaction.atomic():
        locked = _lock(customer)
        for purpose in Purpose.objects.filter(required=False):
            event, purpose_effects = _record(
                customer=locked,
                purpose=purpose,
                action=Action.WITHDRAWN,
                channel=channel,
                actor=actor,
                at=at,
                language=language,
            )
            events.append(event)
            effects.update(purpose_effects)
    return RecordedChoice(events=events, effects=effects)


def _lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _record(*, customer, purpose, action, channel, actor, at, language):
    if action not in Action.values:
        raise ChoiceError(_("Onbekende keuze: %(action)s") % {"action": action})
    if purpose.required:
        raise RequiredPurpose(
            _("‘%(code)s’ is nodig om uw rekening te kunnen aanbieden en kan niet worden uitgezet.")
            % {"code": purpose.code}
        )
    version = purpose.versions.filter(published_at__lte=at).order_by("-version").first()
    if version is None:
        raise ChoiceError(
            _("Er is nog geen tekst gepubliceerd voor %(code)s.") % {"code": purpose.code}
        )
    previous = (
        ConsentEvent.objects.filter(customer=customer)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, previous_hash = (previous[0] + 1, previous[1]) if previous else (1, GENESIS_HASH)
    event = ConsentEvent(
        customer=customer,
        purpose=purpose,
        purpose_version=version,
        action=action,
        occurred_at=at,
        channel=channel,
        actor=actor,
        notice_language=language,
        notice_sha256=version.notice_sha256(language),
        sequence=sequence,
        previous_hash=previous_hash,
    )
    event.hash = event.compute_hash(
        customer_number=customer.customer_number, purpose_code=purpose.code, version=version.version
    )
    event.save(force_insert=True)
    ConsentState.objects.bulk_create(
        [
            ConsentState(
                customer=customer,
                purpose=purpose,
                state=action,
                purpose_version=version,
                changed_at=at,
                event=event,
            )
        ],
        update_conflicts=True,
        unique_fields=["customer", "purpose"],
        update_fields=["state", "purpose_version", "changed_at", "event"],
    )
    effects = Counter()
    if action == Action.WITHDRAWN:
        effects = hooks.consent_ended(
            customer_id=customer.pk, purpose_code=purpose.code, event=event, at=at
        )
    return event, effects


@dataclass(frozen=True)
class PublishedVersion:
    version: PurposeVersion
    consents_needing_renewal: int
    effects: Counter = field(default_factory=Counter)


def publish_version(
    *, purpose_code: str, material: bool, texts: dict[str, str], actor, at: dt.datetime
) -> PublishedVersion:
    """A privacy officer publishes new texts for a purpose; they apply from `at` on.

    A material version makes every earlier consent for the purpose invalid at once: the
    engine stops using them (validity is computed from the versions table), hooks retract
    what relied on them, and the customers' dashboards ask for a new choice.
    """
    purpose = get_purpose(purpose_code)
    missing = [name for name in VERSION_FIELDS if not texts.get(name, "").strip()]
    if missing:
        raise ChoiceError(_("Ontbrekende teksten: %(fields)s") % {"fields": ", ".join(missing)})
    with transaction.atomic():
        # Serialise publications per purpose so two officers cannot take the same number.
        Purpose.objects.select_for_update().get(pk=purpose.pk)
        latest = purpose.versions.order_by("-version").values_list("version", flat=True).first()
        version = PurposeVersion.objects.create(
            purpose=purpose,
            version=(latest or 0) + 1,
            material=material,
            published_at=at,
            published_by=actor,
            **{name: texts[name].strip() for name in VERSION_FIELDS},
        )
        renewals, effects = 0, Counter()
        if material:
            renewals = ConsentState.objects.filter(purpose=purpose, state=Action.GRANTED).count()
            effects = hooks.material_change(purpose_code=purpose.code, version=version, at=at)
    return PublishedVersion(version=version, consents_needing_renewal=renewals, effects=effects)
