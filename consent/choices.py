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
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from infra.effects import EffectKind, Effects, collect
from infra.languages import text_language
from infra.precompiled import (
    Inputs,
    Precompiled,
    columns,
    instance,
    precompile,
    sample_moments,
    width,
)
from ledger import chain
from ledger.models import STATELESS_ACTIONS, Action, Channel, ConsentEvent

from . import signals
from .catalogue import statement_sha256
from .models import ConsentState, Customer, Purpose, PurposeVersion
from .renewals import renews
from .validity import compile_key, moments, too_young_until, valid_consents

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
    purpose, current = _purpose_and_current_version(purpose_code, at=at)
    if purpose.required:
        raise RequiredPurpose(
            _("Dit is nodig om uw rekening te kunnen aanbieden en kan niet worden uitgezet.")
        )
    with transaction.atomic():
        locked = lock_customer(customer)
        shown, language = _notice_shown(
            purpose=purpose,
            current=current,
            action=action,
            at=at,
            version=version,
            notice_sha256=notice_sha256,
            language=language,
        )
        # Everything else the choice decides on, read at once now that the lock is held.
        stored = _stored_choice(customer_id=locked.pk, purpose_id=purpose.pk, at=at)
        if action == Action.GRANTED:
            _check_may_grant(
                customer=locked, purpose=purpose, at=at, objection_stands=stored.objected
            )
        if action == Action.WITHDRAWN and stored.state != Action.GRANTED:
            customer.choices_lost_since = locked.choices_lost_since
            return RecordedChoice(events=[], unchanged=True)
        renewed = action == Action.GRANTED and _renews(stored, shown=shown, at=at)
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
            stored=stored,
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
    return _objection_states(customer.pk).first()


def _objection_states(customer_id: Any) -> QuerySet[ConsentState]:
    return ConsentState.objects.filter(
        customer_id=customer_id, purpose__isnull=True, state=Action.OBJECTED
    )


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
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_LOCK_CUSTOMER_SQL, [customer.pk])
        row = cursor.fetchone()
    if row is None:
        raise Customer.DoesNotExist(f"no customer {customer.pk}")
    locked = instance(Customer, row)
    assert locked is not None
    return locked


# What `Customer.objects.select_for_update(no_key=True).get(pk=…)` runs, written once: the
# ORM would build and compile it again on every choice.
_LOCK_CUSTOMER_SQL = (
    f"SELECT {columns(Customer, 'customer')} FROM {Customer._meta.db_table} customer"
    f' WHERE customer."{Customer._meta.pk.column}" = %s FOR NO KEY UPDATE'
)


def _notice_shown(
    *,
    purpose: Purpose,
    current: PurposeVersion | None,
    action: str,
    at: dt.datetime,
    version: int | None,
    notice_sha256: str | None,
    language: str,
) -> tuple[PurposeVersion, str]:
    """The version the customer read and its language, or StaleNotice for a grant.
    `current`: the purpose's current text at `at` (`current_version`)."""
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


# --- What a choice reads: two statements ---------------------------------------------------
# A choice read what it decides on in a query each (the purpose, its current text, the
# stored choice, the objection, whether the consent counts, the chain's newest event, the
# ledger's previous event about the purpose), each built and compiled by the ORM on every
# choice: most of a choice's CPU (issue #24). The querysets below stay the definitions;
# their SQL is compiled once per process (`infra.precompiled`) and runs as two statements:
# the purpose and its current text before the customer's lock, the customer's own rows
# after it (a statement of their own, so that a choice that waited for the lock sees
# what the choice before it wrote).
def _purpose_and_current_version(
    code: str, *, at: dt.datetime
) -> tuple[Purpose, PurposeVersion | None]:
    """`get_purpose(code)` and `current_version(purpose, at=at)`, in one query."""
    rows = _purpose_query(compile_key()).rows({"code": code, "at": at})
    if not rows:
        raise UnknownPurpose(_("Onbekend doel: %(code)s") % {"code": code})
    (row,) = rows  # purposes' codes are unique
    purpose = instance(Purpose, row[: width(Purpose)])
    assert purpose is not None
    current = instance(PurposeVersion, row[width(Purpose) :])
    if current is not None:
        current.purpose = purpose
    return purpose, current


@functools.lru_cache(maxsize=8)
def _purpose_query(_compile_key: tuple[object, ...]) -> Precompiled:
    def current(inputs: Inputs) -> QuerySet[Any, Any]:
        # `current_version`, of the purpose with this code.
        return (
            PurposeVersion.objects.filter(
                purpose__code=inputs["code"], published_at__lte=inputs["at"]
            )
            .order_by("-version")
            .values("pk")[:1]
        )

    first, second = sample_moments()
    version = precompile(
        current, ({"code": "-sample-a-", "at": first}, {"code": "-sample-b-", "at": second})
    )
    sql = f"""
        SELECT {columns(Purpose, "purpose")}, {columns(PurposeVersion, "version")}
          FROM {Purpose._meta.db_table} purpose
          LEFT JOIN {PurposeVersion._meta.db_table} version ON version.id = ({version.sql})
         WHERE purpose.code = %s
    """
    return Precompiled(sql=sql, slots=(*version.slots, ("code", None)))


@dataclass(frozen=True)
class StoredChoice:
    """What the (locked) customer's rows say about one purpose, read in one statement."""

    # The stored choice (`ConsentState`): its state, version and time; None: never chosen.
    state: str | None
    version_id: int | None
    changed_at: dt.datetime | None
    objected: bool  # an objection to direct marketing stands (`objection`)
    counts: bool  # the consent counts at the moment of the choice (`is_consent_valid`)
    # The chain's newest event (`ledger.chain.newest_of_chain`), None for an empty chain.
    tail: chain.Tail | None
    # The ledger's previous event about the purpose (action, version id, occurred_at),
    # as `consent.renewals.with_previous` annotates an event; all None for none.
    previous: tuple[str | None, int | None, dt.datetime | None]


def _stored_choice(*, customer_id: int, purpose_id: int, at: dt.datetime) -> StoredChoice:
    inputs = {"customer_id": customer_id, "purpose_id": purpose_id, **moments(at)}
    (row,) = _stored_query(compile_key()).rows(inputs)  # one row, whatever is stored
    state, version_id, changed_at, objected, counts, sequence, hash_, newest_at, *previous = row
    return StoredChoice(
        state=state,
        version_id=version_id,
        changed_at=changed_at,
        objected=objected,
        counts=counts,
        tail=None if sequence is None else (sequence, hash_, newest_at),
        previous=(previous[0], previous[1], previous[2]),
    )


@functools.lru_cache(maxsize=8)
def _stored_query(_compile_key: tuple[object, ...]) -> Precompiled:
    def stored(inputs: Inputs) -> QuerySet[Any, Any]:
        return ConsentState.objects.filter(
            customer_id=inputs["customer_id"], purpose_id=inputs["purpose_id"]
        ).values_list("state", "purpose_version_id", "changed_at")

    def objected(inputs: Inputs) -> QuerySet[Any, Any]:
        return _objection_states(inputs["customer_id"]).values("pk")

    def counting(inputs: Inputs) -> QuerySet[Any, Any]:
        # `is_consent_valid`, for the purpose.
        return (
            valid_consents(at=inputs["at"])
            .filter(customer_id=inputs["customer_id"], purpose_id=inputs["purpose_id"])
            .values("pk")
        )

    def newest(inputs: Inputs) -> QuerySet[Any, Any]:
        return chain.newest_of_chain_query(inputs["customer_id"])

    def previous(inputs: Inputs) -> QuerySet[Any, Any]:
        # The previous event about the purpose: what `is_renewal` reads from the ledger.
        return (
            ConsentEvent.objects.filter(
                customer_id=inputs["customer_id"], purpose_id=inputs["purpose_id"]
            )
            .order_by("-sequence")
            .values_list("action", "purpose_version_id", "occurred_at")[:1]
        )

    first, second = sample_moments()
    samples: tuple[Inputs, Inputs] = (
        {"customer_id": -7_000_001, "purpose_id": -8_000_001, **moments(first)},
        {"customer_id": -7_000_002, "purpose_id": -8_000_002, **moments(second)},
    )
    stored_q, objected_q, counting_q, newest_q, previous_q = (
        precompile(build, samples) for build in (stored, objected, counting, newest, previous)
    )
    sql = f"""
        SELECT stored.state, stored.version_id, stored.changed_at,
               EXISTS ({objected_q.sql}), EXISTS ({counting_q.sql}),
               newest.sequence, newest.hash, newest.occurred_at,
               previous.action, previous.version_id, previous.occurred_at
          FROM (SELECT 1) one
          LEFT JOIN ({stored_q.sql}) stored (state, version_id, changed_at) ON true
          LEFT JOIN ({newest_q.sql}) newest (sequence, hash, occurred_at) ON true
          LEFT JOIN ({previous_q.sql}) previous (action, version_id, occurred_at) ON true
    """
    slots = objected_q.slots + counting_q.slots + stored_q.slots + newest_q.slots
    return Precompiled(sql=sql, slots=slots + previous_q.slots)


def _renews(stored: StoredChoice, *, shown: PurposeVersion, at: dt.datetime) -> bool:
    """Whether a grant on `shown` renews the (locked) customer's stored grant: on the same
    version, and still counting at `at` (`consent.renewals` recognises it the same way
    in the ledger afterwards)."""
    return (
        stored.state is not None
        and renews(
            previous_action=stored.state,
            previous_version_id=stored.version_id,
            previous_at=stored.changed_at,
            version_id=shown.pk,
            at=at,
        )
        and stored.counts
    )


def _check_may_grant(
    *, customer: Customer, purpose: Purpose, at: dt.datetime, objection_stands: bool
) -> None:
    if customer.closed_on is not None:
        raise CustomerClosed(
            _("U bent sinds %(date)s geen klant meer; wij gebruiken uw gegevens hier niet voor.")
            % {"date": date_format(customer.closed_on, "j F Y")}
        )
    from_date = too_young_until(customer, on=timezone.localdate(at))
    if from_date is not None:
        raise TooYoung(
            _(
                "U kunt hier toestemming voor geven vanaf uw 16e verjaardag, op %(date)s."
                " Tot die tijd staat het uit."
            )
            % {"date": date_format(from_date, "j F Y")},
            from_date=from_date,
        )
    if purpose.direct_marketing and objection_stands:
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
    stored: "StoredChoice | None" = None,
) -> tuple[ConsentEvent, Effects]:
    """Append the event to the (locked) customer's chain and mirror it in their state.
    `stored`: what `record_choice` read about the purpose under the lock, so that
    neither the chain's newest event nor the previous event about the purpose is read
    again."""
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
        tail=chain.UNREAD if stored is None else stored.tail,
    )
    # What the event is about, as the caller holds it: the signal's receivers and the
    # caller's message read them without a query each.
    event.customer = customer
    event.purpose = purpose
    event.purpose_version = version
    if stored is not None:
        # The previous event about the purpose, as `consent.renewals.with_previous`
        # annotates it: `is_renewal` (the feed's kind) decides from the ledger's own rows,
        # read under the lock just before this event.
        annotated: Any = event  # what `with_previous` annotates is not in the model's type
        annotated.previous_action, annotated.previous_version_id, annotated.previous_occurred_at = (
            stored.previous
        )
    at = event.occurred_at  # later than asked if this choice waited behind another one
    if channel != Channel.SYSTEM and customer.choices_lost_since is not None:
        # They chose again after a restore lost choices: the notice has done its work.
        Customer.objects.filter(pk=customer.pk).update(choices_lost_since=None)
        customer.choices_lost_since = None
    if action in STATELESS_ACTIONS:
        # A request or a fact, not a choice about a purpose: no state changes (the
        # objection row keeps mirroring the latest objection event). A third party's
        # access has its own state, the permission (written by its caller).
        signals.event_recorded.send(sender=None, event=event, at=at)
        return event, Effects()
    # The state mirrors the event: its row for the purpose (the objection's: no purpose)
    # inserted or replaced.
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            _UPSERT_STATE_SQL,
            [
                customer.pk,
                purpose.pk if purpose else None,
                action,
                version.pk if version else None,
                at,
                event.pk,
            ],
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


# What `ConsentState.objects.bulk_create([state], update_conflicts=True, unique_fields=
# ["customer", "purpose"], update_fields=[…])` runs, written once instead of compiled on
# every choice (the unique constraint treats the objection's NULL purpose as one value).
_UPSERT_STATE_SQL = f"""
    INSERT INTO {ConsentState._meta.db_table}
           (customer_id, purpose_id, state, purpose_version_id, changed_at, event_id)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (customer_id, purpose_id) DO UPDATE
       SET state = EXCLUDED.state, purpose_version_id = EXCLUDED.purpose_version_id,
           changed_at = EXCLUDED.changed_at, event_id = EXCLUDED.event_id
"""


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
