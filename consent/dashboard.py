"""What the customer's pages show: read-only views of the catalogue and the ledger.

Each function runs a fixed number of queries, however many purposes or events there are
(DESIGN §12), and decides validity only through `consent.validity`.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import Action, ConsentEvent, ConsentState, Customer, Purpose, PurposeVersion
from .validity import annotate_validity

# Why a granted consent no longer counts; the template words each one.
MATERIAL_CHANGE = "material_change"
EXPIRED = "expired"
TOO_YOUNG = "too_young"


@dataclass(frozen=True)
class Card:
    """One purpose on the dashboard, with its texts already in the customer's language."""

    purpose: Purpose
    version: PurposeVersion  # the text the customer reads now
    state: ConsentState | None  # None: the customer never chose
    is_valid: bool
    language: str
    invalid_because: str | None = None

    @property
    def code(self) -> str:
        return self.purpose.code

    @property
    def title(self) -> str:
        return self.version.text("title", self.language)

    @property
    def description(self) -> str:
        return self.version.text("description", self.language)

    @property
    def data_used(self) -> str:
        return self.version.text("data_used", self.language)

    @property
    def retention(self) -> str:
        return getattr(self.purpose, "retention_en" if self.language == "en" else "retention_nl")

    @property
    def is_on(self) -> bool:
        """The switch position: on only while the consent actually counts."""
        return self.is_valid

    @property
    def needs_choice(self) -> bool:
        """Granted once, but no longer valid: the customer is asked to choose again."""
        return self.invalid_because is not None

    @property
    def max_age_days(self) -> int:
        return settings.CONSENT_MAX_AGE_DAYS

    @property
    def valid_until(self) -> dt.datetime | None:
        if not self.is_valid:
            return None
        return self.state.changed_at + dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS)


def current_versions(*, at: dt.datetime, code: str | None = None) -> QuerySet:
    """The newest published version of every purpose (one query, purposes joined)."""
    versions = (
        PurposeVersion.objects.filter(published_at__lte=at)
        .select_related("purpose")
        .order_by("purpose_id", "-version")
        .distinct("purpose_id")
    )
    if code is not None:
        versions = versions.filter(purpose__code=code)
    return versions


def purpose_cards(
    customer: Customer, *, language: str, at: dt.datetime, code: str | None = None
) -> list[Card]:
    """Every purpose (or only `code`) as the customer's card. Two queries."""
    today = timezone.localdate(at)
    states = annotate_validity(
        ConsentState.objects.filter(customer=customer).select_related("purpose_version"),
        on=today,
    )
    if code is not None:
        states = states.filter(purpose__code=code)
    by_purpose = {state.purpose_id: state for state in states}
    cards = []
    for version in current_versions(at=at, code=code):
        state = by_purpose.get(version.purpose_id)
        is_valid = bool(state and state.is_valid)
        cards.append(
            Card(
                purpose=version.purpose,
                version=version,
                state=state,
                is_valid=is_valid,
                language=language,
                invalid_because=_invalid_because(state, customer, today) if not is_valid else None,
            )
        )
    cards.sort(key=lambda card: (card.purpose.position, card.code))
    return cards


def _invalid_because(state: ConsentState | None, customer: Customer, today: dt.date) -> str | None:
    """Explains an invalid *granted* consent. Validity itself was decided in SQL."""
    if state is None or state.state != Action.GRANTED:
        return None
    if state.purpose_version.version < (state._material_version or 1):
        return MATERIAL_CHANGE
    if customer.age_on(today) < settings.CONSENT_MIN_AGE_YEARS:
        return TOO_YOUNG
    return EXPIRED


def customer_history(customer: Customer) -> QuerySet:
    """Every event of the customer, newest first, with what the page shows joined in."""
    return (
        ConsentEvent.objects.filter(customer=customer)
        .select_related("purpose", "purpose_version")
        .order_by("-sequence")
    )


def get_event_for_customer(customer: Customer, event_id: int) -> ConsentEvent:
    """The customer's own event, or 404: another customer's event does not exist for them."""
    return get_object_or_404(
        ConsentEvent.objects.select_related("customer", "purpose", "purpose_version"),
        pk=event_id,
        customer=customer,
    )


def get_published_version(code: str, version: int, *, at: dt.datetime) -> PurposeVersion:
    """A version's texts, once published (texts prepared for later are not shown yet)."""
    return get_object_or_404(
        PurposeVersion.objects.select_related("purpose"),
        purpose__code=code,
        version=version,
        published_at__lte=at,
    )
