"""The one way to record a customer's choice.

Every choice becomes one ConsentEvent (chained to the customer's previous one) and the
matching ConsentState, in one transaction, with the customer's row locked so that
concurrent choices for one customer are serialised and the chain never forks.

A grant is bound to the notice the customer read: the caller passes the version number
and the SHA-256 of the text that was on the screen, and if that is no longer the current
text nothing is written (`StaleNotice`). A withdrawal always succeeds, whatever text was
on the screen: withdrawing is never harder than granting.

A withdrawal of what is already off writes nothing and says so
(`RecordedChoice.unchanged`): a retry or a second click never makes a second event,
receipt or feed row. A grant on the version of a consent that still counts is recorded as
what it is, a renewal (`RecordedChoice.renewed`, `consent.renewals`): the customer chose
again, so the consent counts from now. (The API's `Idempotency-Key` makes a retried grant
write nothing at all.)
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from infra.effects import EffectKind, Effects, collect
from infra.languages import text_language
from ledger import chain
from ledger.models import Action, Channel, ConsentEvent

from . import signals
from .catalogue import statement_sha256
from .models import ConsentState, Customer, Purpose, PurposeVersion
from .renewals import renews
from .validity import is_consent_valid, sixteenth_birthday

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ChoiceError(Exception):
    """A choice that cannot be recorded. Nothing was written."""


class UnknownPurpose(ChoiceError):
    pass


class RequiredPurpose(ChoiceError):
    pass


class StaleNotice(ChoiceError):
    """The customer chose on a text that is no longer the current one (or never was)."""

    def __init__(self, message: str | Promise, *, current: PurposeVersion | None) -> None:
        super().__init__(message)
        self.current = current


class TooYoung(ChoiceError):
    """Nobody under 16 can consent (UAVG art. 5); `from_date` is when they can."""

    def __init__(self, message: str | Promise, *, from_date: dt.date) -> None:
        super().__init__(message)
        self.from_date = from_date


class ObjectionStands(ChoiceError):
    """The customer objected to direct marketing; they lift the objection first."""


class CustomerClosed(ChoiceError):
    """The customer left the bank: nothing is switched on for them any more."""


# What a restore that lost choices did, as the restore command reports it.
CUSTOMERS_TOLD = EffectKind(
    "customers_told",
    ngettext_lazy(
        "%(count)d klant gevraagd opnieuw te kiezen",
        "%(count)d klanten gevraagd opnieuw te kiezen",
        "count",
    ),
)
CONSENTS_WITHDRAWN = EffectKind(
    "consents_withdrawn",
    ngettext_lazy("%(count)d toestemming uitgezet", "%(count)d toestemmingen uitgezet", "count"),
)


@dataclass(frozen=True)
class RecordedChoice:
    events: list[ConsentEvent]
    effects: Effects = field(default_factory=Effects)
    # Nothing written: the choice was already what is stored (a retry, a second click).
    unchanged: bool = False
    # A grant on the version of a consent that still counted: it counts from now.
    renewed: bool = False


class NoticeOnScreen(TypedDict):
    """The text a choice was made on, as `record_choice` takes it."""

    version: int | None
    notice_sha256: str | None


# The word a choice form or the API sends, and the ledger action it records.
CHOICES = {"grant": Action.GRANTED, "withdraw": Action.WITHDRAWN}


def already_chosen_message() -> Promise:
    """What a withdrawal that was already stored says (a retry, a second click)."""
    return _("Dit stond al uit. Er is niets veranderd.")


def get_purpose(code: str) -> Purpose:
    try:
        return Purpose.objects.get(code=code)
    except Purpose.DoesNotExist:
        raise UnknownPurpose(_("Onbekend doel: %(code)s") % {"code": code}) from None


def current_version(purpose: Purpose, *, at: dt.datetime) -> PurposeVersion | None:
    """The text a customer is shown at `at`: the newest version published by then."""
    return purpose.versions.filter(published_at__lte=at).order_by("-version").first()


def notice_on_screen(*, purpose_code: str, at: dt.datetime, language: str = "nl") -> NoticeOnScreen:
    """What a channel showing the current text at `at` passes to `record_choice`:
    `{"version": n, "notice_sha256": "…"}`. For demo data, imports and tests; a
    customer's own choice sends back what their screen showed."""
    version = current_version(get_purpose(purpose_code), at=at)
    if version is None:
        return {"version": None, "notice_sha256": None}
    return {"version": version.version, "notice_sha256": version.notice_sha256(language)}


def record_choice(
    *,
    customer: Customer,
    purpose_code: str,
    action: str,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
    version: int | None = None,
    notice_sha256: str | None = None,
    language: str = "nl",
) -> RecordedChoice:
    """Record one grant or withdrawal.

    `version` and `notice_sha256` identify the text the customer had on screen; a grant
    needs both and must match the current version (in either language: the hash tells
    which one was read). A withdrawal records the version shown when it is known, else
    the current one in `language`.
    """
    if action not in (Action.GRANTED, Action.WITHDRAWN):
        raise ChoiceError(_("Onbekende keuze: %(action)s") % {"action": action})
    purpose = get_purpose(purpose_code)
    if purpose.required:
        raise RequiredPurpose(
            _("Dit is nodig om uw rekening te kunnen aanbieden en kan niet worden uitgezet.")
        )
    with transaction.atomic():
        locked = lock_customer(customer)
        shown, language = _notice_shown(
            purpose=purpose,
            action=action,
            at=at,
            version=version,
            notice_sha256=notice_sha256,
            language=language,
        )
        if action == Action.GRANTED:
            _check_may_grant(customer=locked, purpose=purpose, at=at)
        if action == Action.WITHDRAWN and not _granted(customer=locked, purpose=purpose):
            customer.choices_lost_since = locked.choices_lost_since
            return RecordedChoice(events=[], unchanged=True)
        renewed = action == Action.GRANTED and _renews(
            customer=locked, purpose=purpose, shown=shown, at=at
        )
        event, effects = append_event(
            customer=locked,
            purpose=purpose,
            version=shown,
            action=action,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
            notice_sha256=shown.notice_sha256(language),
        )
    customer.choices_lost_since = locked.choices_lost_since  # the caller's copy too
    return RecordedChoice(events=[event], effects=effects, renewed=renewed)


def stop_all_offers(
    *, customer: Customer, channel: str, actor: "User | None", at: dt.datetime, language: str = "nl"
) -> RecordedChoice:
    """'Stop all personal offers': a withdrawal for every direct-marketing purpose that is
    granted now, and the GDPR Art. 21(2) objection to direct marketing as its own event
    (unless it already stands). While it stands no offers purpose is valid."""
    with transaction.atomic():
        locked = lock_customer(customer)
        events, effects = withdraw_granted(
            locked,
            direct_marketing_only=True,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
        )
        if objection(locked) is None:
            event, objection_effects = append_event(
                customer=locked,
                purpose=None,
                version=None,
                action=Action.OBJECTED,
                channel=channel,
                actor=actor,
                at=at,
                language=language,
                notice_sha256=statement_sha256(Action.OBJECTED, language),
            )
            events.append(event)
            effects += objection_effects
    return RecordedChoice(events=events, effects=effects)


def lift_objection(
    *, customer: Customer, channel: str, actor: "User | None", at: dt.datetime, language: str = "nl"
) -> RecordedChoice:
    """The customer lifts their objection. It switches nothing back on."""
    with transaction.atomic():
        locked = lock_customer(customer)
        if objection(locked) is None:
            raise ChoiceError(_("U heeft geen bezwaar tegen direct marketing openstaan."))
        event, effects = append_event(
            customer=locked,
            purpose=None,
            version=None,
            action=Action.OBJECTION_LIFTED,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
            notice_sha256=statement_sha256(Action.OBJECTION_LIFTED, language),
        )
    return RecordedChoice(events=[event], effects=effects)


def objection(customer: Customer) -> ConsentState | None:
    """The customer's standing objection to direct marketing, if any."""
    return ConsentState.objects.filter(
        customer=customer, purpose__isnull=True, state=Action.OBJECTED
    ).first()


def withdraw_granted(
    customer: Customer,
    *,
    direct_marketing_only: bool,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
    language: str,
) -> tuple[list[ConsentEvent], Effects]:
    """A withdrawal of every purpose the (locked) customer has granted now, each on the
    version they last chose on: the text they are withdrawing from."""
    granted = ConsentState.objects.filter(customer=customer, state=Action.GRANTED)
    if direct_marketing_only:
        granted = granted.filter(purpose__direct_marketing=True)
    events: list[ConsentEvent] = []
    effects = Effects()
    for state in granted.select_related("purpose", "purpose_version__purpose").order_by(
        "purpose__position", "purpose__code"
    ):
        version = state.purpose_version
        assert version is not None  # a granted state names its version (state_shape)
        event, purpose_effects = append_event(
            customer=customer,
            purpose=state.purpose,
            version=version,
            action=Action.WITHDRAWN,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
            notice_sha256=version.notice_sha256(language),
        )
        events.append(event)
        effects += purpose_effects
    return events, effects


def lock_customer(customer: Customer) -> Customer:
    """Serialise the customer's choices: the first lock every writer of a customer's
    consent takes (then the feed's, then the log's: `api.changes`). FOR NO KEY UPDATE, so
    that the foreign-key checks of other transactions' rows about the customer (FOR KEY
    SHARE, e.g. the feed job's rows at its commit) never wait for it: waiting on each
    other's locks in opposite orders is how two transactions deadlock."""
    return Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)


def _notice_shown(
    *,
    purpose: Purpose,
    action: str,
    at: dt.datetime,
    version: int | None,
    notice_sha256: str | None,
    language: str,
) -> tuple[PurposeVersion, str]:
    """The version the customer read and its language, or StaleNotice for a grant."""
    current = current_version(purpose, at=at)
    if current is None:
        raise ChoiceError(
            _("Er is nog geen tekst gepubliceerd voor dit doel (%(code)s).")
            % {"code": purpose.code}
        )
    shown = None
    if version is not None and version == current.version:
        shown = current  # the usual case: the text on the screen is the current one
    elif version is not None:
        shown = purpose.versions.filter(version=version, published_at__lte=at).first()
    read_in = shown.language_of(notice_sha256 or "") if shown else None
    if action == Action.GRANTED:
        if shown is None or shown.pk != current.pk or read_in is None:
            raise StaleNotice(
                _("De tekst is veranderd; lees hem en kies opnieuw."), current=current
            )
        return shown, read_in
    if shown is not None and read_in is not None:
        return shown, read_in
    return current, text_language(language)


def _granted(*, customer: Customer, purpose: Purpose) -> bool:
    """Whether the (locked) customer's stored choice for the purpose is a grant."""
    return ConsentState.objects.filter(
        customer=customer, purpose=purpose, state=Action.GRANTED
    ).exists()


def _renews(
    *, customer: Customer, purpose: Purpose, shown: PurposeVersion, at: dt.datetime
) -> bool:
    """Whether a grant on `shown` renews the (locked) customer's stored grant: on the same
    version, and still counting at `at` (`consent.renewals` recognises it the same way
    in the ledger afterwards)."""
    state = ConsentState.objects.filter(customer=customer, purpose=purpose).first()
    return (
        state is not None
        and renews(
            previous_action=state.state,
            previous_version_id=state.purpose_version_id,
            previous_at=state.changed_at,
            version_id=shown.pk,
            at=at,
        )
        and is_consent_valid(customer=customer, purpose_code=purpose.code, at=at)
    )


def _check_may_grant(*, customer: Customer, purpose: Purpose, at: dt.datetime) -> None:
    if customer.closed_on is not None:
        raise CustomerClosed(
            _("U bent sinds %(date)s geen klant meer; wij gebruiken uw gegevens hier niet voor.")
            % {"date": date_format(customer.closed_on, "j F Y")}
        )
    today = timezone.localdate(at)
    if customer.age_on(today) < settings.CONSENT_MIN_AGE_YEARS:
        # Only a pseudonymised profile has no date of birth, and it is closed (above).
        assert customer.birth_date is not None
        from_date = sixteenth_birthday(customer.birth_date)
        raise TooYoung(
            _(
                "U kunt hier toestemming voor geven vanaf uw 16e verjaardag, op %(date)s."
                " Tot die tijd staat het uit."
            )
            % {"date": date_format(from_date, "j F Y")},
            from_date=from_date,
        )
    if purpose.direct_marketing and objection(customer) is not None:
        raise ObjectionStands(
            _(
                "U heeft bezwaar gemaakt tegen direct marketing, dus wij doen u geen"
                " persoonlijke aanbiedingen. Wilt u dit toch aanzetten? Hef dan eerst uw"
                " bezwaar op, bovenaan de pagina Mijn privacykeuzes."
            )
        )


def append_event(
    *,
    customer: Customer,
    purpose: Purpose | None,
    version: PurposeVersion | None,
    action: str,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
    language: str,
    notice_sha256: str,
    left_on: dt.date | None = None,
) -> tuple[ConsentEvent, Effects]:
    if purpose is not None and purpose.required:
        raise RequiredPurpose(
            _("Dit is nodig om uw rekening te kunnen aanbieden en kan niet worden uitgezet.")
        )
    event = chain.append(
        customer=customer,
        purpose=purpose,
        version=version,
        action=action,
        channel=channel,
        actor=actor,
        at=at,
        notice_language=language,
        notice_sha256=notice_sha256,
        left_on=left_on,
    )
    at = event.occurred_at  # later than asked if this choice waited behind another one
    if channel != Channel.SYSTEM and customer.choices_lost_since is not None:
        # They chose again after a restore lost choices: the notice has done its work.
        Customer.objects.filter(pk=customer.pk).update(choices_lost_since=None)
        customer.choices_lost_since = None
    if action in (Action.ERASURE_REQUESTED, Action.LEFT):
        # A request or a fact, not a choice: no state changes (the objection row keeps
        # mirroring the latest objection event).
        signals.event_recorded.send(sender=None, event=event, at=at)
        return event, Effects()
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
    effects = Effects()
    if action == Action.WITHDRAWN and purpose is not None:  # a withdrawal names its purpose
        effects = collect(
            signals.consent_ended,
            customer_id=customer.pk,
            purpose_code=purpose.code,
            event=event,
            at=at,
        )
    elif action == Action.OBJECTED:
        effects = collect(signals.objected, customer_id=customer.pk, event=event, at=at)
    signals.event_recorded.send(sender=None, event=event, at=at)
    return event, effects


def stop_after_lost_choices(
    *, customer_number: str, since: dt.datetime, at: dt.datetime
) -> Effects:
    """A restore of an older backup lost choices the customer made after `since`. What
    they chose is gone, so nothing may rest on what the restored ledger says: every
    consent that is on is withdrawn by the system, and the dashboard tells them why and
    asks them to choose again (until they do: `choices_lost_since`)."""
    customer = Customer.objects.filter(customer_number=customer_number).first()
    if customer is None:
        return Effects()
    with transaction.atomic():
        locked = lock_customer(customer)
        events, effects = withdraw_granted(
            locked,
            direct_marketing_only=False,
            channel=Channel.SYSTEM,
            actor=None,
            at=at,
            language=locked.language,
        )
        Customer.objects.filter(pk=locked.pk).update(choices_lost_since=since)
    return Effects((CUSTOMERS_TOLD(1), CONSENTS_WITHDRAWN(len(events)))) + effects
