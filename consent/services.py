"""The one way to record a customer's choice.

Every choice becomes one ConsentEvent (chained to the customer's previous one) and the
matching ConsentState, in one transaction, with the customer's row locked so that
concurrent choices for one customer are serialised and the chain never forks.

A grant is bound to the notice the customer read: the caller passes the version number
and the SHA-256 of the text that was on the screen, and if that is no longer the current
text nothing is written (`StaleNotice`). A withdrawal always succeeds, whatever text was
on the screen: withdrawing is never harder than granting.
"""

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from infra.languages import text_language
from ledger import chain
from ledger.models import Action, Channel, ConsentEvent

from . import hooks
from .catalogue import VERSION_FIELDS, statement_sha256
from .models import NOTICE_FORMATS, ConsentState, Customer, Purpose, PurposeVersion
from .retention import InvalidRules, describe_rules, parse_rules
from .validity import sixteenth_birthday, valid_consents

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


@dataclass(frozen=True)
class RecordedChoice:
    events: list[ConsentEvent]
    effects: Counter[str] = field(default_factory=Counter)


class NoticeOnScreen(TypedDict):
    """The text a choice was made on, as `record_choice` takes it."""

    version: int | None
    notice_sha256: str | None


# The word a choice form or the API sends, and the ledger action it records.
CHOICES = {"grant": Action.GRANTED, "withdraw": Action.WITHDRAWN}


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
        locked = _lock(customer)
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
        event, effects = _record(
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
    return RecordedChoice(events=[event], effects=effects)


def stop_all_offers(
    *, customer: Customer, channel: str, actor: "User | None", at: dt.datetime, language: str = "nl"
) -> RecordedChoice:
    """'Stop all personal offers': a withdrawal for every direct-marketing purpose that is
    granted now, and the GDPR Art. 21(2) objection to direct marketing as its own event
    (unless it already stands). While it stands no offers purpose is valid."""
    with transaction.atomic():
        locked = _lock(customer)
        events, effects = _withdraw_granted(
            locked,
            direct_marketing_only=True,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
        )
        if objection(locked) is None:
            event, _effects = _record(
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
    return RecordedChoice(events=events, effects=effects)


def lift_objection(
    *, customer: Customer, channel: str, actor: "User | None", at: dt.datetime, language: str = "nl"
) -> RecordedChoice:
    """The customer lifts their objection. It switches nothing back on."""
    with transaction.atomic():
        locked = _lock(customer)
        if objection(locked) is None:
            raise ChoiceError(_("U heeft geen bezwaar tegen direct marketing openstaan."))
        event, effects = _record(
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


def _withdraw_granted(
    customer: Customer,
    *,
    direct_marketing_only: bool,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
    language: str,
) -> tuple[list[ConsentEvent], Counter[str]]:
    """A withdrawal of every purpose the (locked) customer has granted now, each on the
    version they last chose on: the text they are withdrawing from."""
    granted = ConsentState.objects.filter(customer=customer, state=Action.GRANTED)
    if direct_marketing_only:
        granted = granted.filter(purpose__direct_marketing=True)
    events: list[ConsentEvent] = []
    effects: Counter[str] = Counter()
    for state in granted.select_related("purpose", "purpose_version__purpose").order_by(
        "purpose__position", "purpose__code"
    ):
        version = state.purpose_version
        assert version is not None  # a granted state names its version (state_shape)
        event, purpose_effects = _record(
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
        effects.update(purpose_effects)
    return events, effects


def _lock(customer: Customer) -> Customer:
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


def _record(
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
) -> tuple[ConsentEvent, Counter[str]]:
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
    if channel != Channel.SYSTEM and customer.choices_lost_since is not None:
        # They chose again after a restore lost choices: the notice has done its work.
        Customer.objects.filter(pk=customer.pk).update(choices_lost_since=None)
        customer.choices_lost_since = None
    if action in (Action.ERASURE_REQUESTED, Action.LEFT):
        # A request or a fact, not a choice: no state changes (the objection row keeps
        # mirroring the latest objection event).
        hooks.EVENT_RECORDED(event=event, at=at)
        return event, Counter()
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
    effects: Counter[str] = Counter()
    if action == Action.WITHDRAWN and purpose is not None:  # a withdrawal names its purpose
        effects = hooks.CONSENT_ENDED(
            customer_id=customer.pk, purpose_code=purpose.code, event=event, at=at
        )
    hooks.EVENT_RECORDED(event=event, at=at)
    return event, effects


# --- Leaving the bank and erasure (issue #14) --------------------------------------------------
@dataclass(frozen=True)
class ClosedCustomer:
    customer: Customer
    events: list[ConsentEvent]
    effects: Counter[str] = field(default_factory=Counter)
    already_closed: bool = False

    @property
    def withdrawals(self) -> list[ConsentEvent]:
        return [event for event in self.events if event.action == Action.WITHDRAWN]


def close_customer(*, customer: Customer, on: dt.date, at: dt.datetime) -> ClosedCustomer:
    """The customer relationship ended on `on` (`close_customer`, or a `closed_on` in
    `import_customers`). At once, in one transaction: the date is recorded (a trigger
    refuses a date in the future, before a choice the customer made, or changing it
    later), every consent that is on is withdrawn by the system (channel `system`, no
    actor), the apps behind consent undo what relied on the customer (offers retracts the
    open offers, the API revokes tokens: `consent.hooks.CUSTOMER_CLOSED`) and the login is
    disabled. From then on validity counts nothing of theirs (`consent.validity`), so the
    engine and the pages skip them, and the periods "after the relationship ends" run
    from `on` (`enforce_retention`).

    Idempotent: closing again on the same day changes nothing; on another day is an error.
    """
    with transaction.atomic():
        locked = _lock(customer)
        if locked.closed_on is not None:
            if locked.closed_on != on:
                raise ChoiceError(
                    _("Klant %(number)s is al af sinds %(date)s.")
                    % {"number": locked.customer_number, "date": locked.closed_on.isoformat()}
                )
            return ClosedCustomer(customer=locked, events=[], already_closed=True)
        _check_may_close(locked, on=on, at=at)
        locked.closed_on = on
        locked.save(update_fields=["closed_on"])
        type(locked.user).objects.filter(pk=locked.user_id).update(is_active=False)
        events, effects = _withdraw_granted(
            locked,
            direct_marketing_only=False,
            channel=Channel.SYSTEM,
            actor=None,
            at=at,
            language=locked.language,
        )
        left, _effects = _record(
            customer=locked,
            purpose=None,
            version=None,
            action=Action.LEFT,
            channel=Channel.SYSTEM,
            actor=None,
            at=at,
            language=locked.language,
            notice_sha256=statement_sha256(Action.LEFT, locked.language),
            left_on=on,
        )
        events.append(left)
        effects.update(hooks.CUSTOMER_CLOSED(customer_id=locked.pk, at=at))
    return ClosedCustomer(customer=locked, events=events, effects=effects)


def _check_may_close(customer: Customer, *, on: dt.date, at: dt.datetime) -> None:
    """What the database's trigger refuses too, said in words first."""
    if on > timezone.localdate(at):
        raise ChoiceError(
            _("Een klant kan niet vertrekken op %(date)s: die dag moet nog komen.")
            % {"date": on.isoformat()}
        )
    last_own = (
        ConsentEvent.objects.filter(customer=customer)
        .exclude(channel=Channel.SYSTEM)
        .order_by("-sequence")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if last_own is not None and timezone.localdate(last_own) > on:
        raise ChoiceError(
            _("Klant %(number)s koos nog iets op %(chosen)s, dus vertrok niet op %(date)s.")
            % {
                "number": customer.customer_number,
                "chosen": timezone.localdate(last_own).isoformat(),
                "date": on.isoformat(),
            }
        )


def stop_after_lost_choices(
    *, customer_number: str, since: dt.datetime, at: dt.datetime
) -> Counter[str]:
    """A restore of an older backup lost choices the customer made after `since`. What
    they chose is gone, so nothing may rest on what the restored ledger says: every
    consent that is on is withdrawn by the system, and the dashboard tells them why and
    asks them to choose again (until they do: `choices_lost_since`)."""
    customer = Customer.objects.filter(customer_number=customer_number).first()
    if customer is None:
        return Counter()
    with transaction.atomic():
        locked = _lock(customer)
        events, effects = _withdraw_granted(
            locked,
            direct_marketing_only=False,
            channel=Channel.SYSTEM,
            actor=None,
            at=at,
            language=locked.language,
        )
        Customer.objects.filter(pk=locked.pk).update(choices_lost_since=since)
    return Counter({"customers_told": 1, "consents_withdrawn": len(events)}) + effects


def request_erasure(
    *, customer: Customer, channel: str, actor: "User | None", at: dt.datetime, language: str = "nl"
) -> RecordedChoice:
    """The customer asks to erase what consent-based processing produced about them
    (GDPR Art. 17): offers, their answers and the data-use log. Done at once, in the
    transaction that records the request in the ledger (`erasure_requested`, with the
    SHA-256 of the statement they confirmed, `catalogue.ERASURE_NOTICES`), so the
    request and the erasure commit together. What stays: the proof of consent (this
    request included) and the banking data, both kept by law; the choices themselves
    are untouched. `effects` counts what each app erased."""
    with transaction.atomic():
        locked = _lock(customer)
        event, _effects = _record(
            customer=locked,
            purpose=None,
            version=None,
            action=Action.ERASURE_REQUESTED,
            channel=channel,
            actor=actor,
            at=at,
            language=language,
            notice_sha256=statement_sha256(Action.ERASURE_REQUESTED, language),
        )
        effects = hooks.ERASURE_REQUESTED(customer_id=locked.pk, event=event, at=at)
    return RecordedChoice(events=[event], effects=effects)


@dataclass(frozen=True)
class PublishedVersion:
    version: PurposeVersion
    consents_needing_renewal: int
    effects: Counter[str] = field(default_factory=Counter)
    takes_effect_later: bool = False


def publish_version(
    *,
    purpose_code: str,
    material: bool,
    texts: Mapping[str, Any],
    actor: "User | None",
    at: dt.datetime,
    now: dt.datetime | None = None,
) -> PublishedVersion:
    """A privacy officer publishes new texts for a purpose at `now`; they apply from `at`
    on (`published_at`), which may lie in the future (default: `now` is `at`).

    A material version makes every earlier consent for the purpose invalid from the
    moment it takes effect: the engine stops using them (validity is computed from the
    versions table, "newest material version published by then"), open offers that
    relied on them are retracted, and the customers' dashboards ask for a new choice.
    For a version that is in effect when it is published, the hooks retract at once, in
    this transaction. For one that takes effect later nothing happens now: until then the
    current text stays the one customers read and consent to, and the engine's first run
    after `at` retracts the offers whose consent lapsed (`retract_where_consent_ended`).

    Retention (issue #14): `texts["retention_rules"]` (default: the newest version's) are
    the periods `enforce_retention` applies; the version is published in the newest
    notice format, with the rules inside its hashed text and its retention sentences
    made from them (`retention_texts`; typed ones are replaced).
    """
    now = now or at
    purpose = get_purpose(purpose_code)
    texts = {**texts, **retention_texts(purpose, rules=texts.get("retention_rules"))}
    missing = [name for name in VERSION_FIELDS if not _filled(texts.get(name))]
    if missing:
        raise ChoiceError(_("Ontbrekende teksten: %(fields)s") % {"fields": ", ".join(missing)})
    with transaction.atomic():
        # Serialise publications per purpose so two officers cannot take the same number.
        Purpose.objects.select_for_update().get(pk=purpose.pk)
        latest = purpose.versions.order_by("-version").first()
        if latest is not None and at < latest.published_at:
            # Versions take effect in the order of their numbers: "the newest version
            # published by then" must be the one published last.
            raise ChoiceError(
                _(
                    "Versie %(version)d geldt pas vanaf %(date)s; een nieuwe versie kan niet"
                    " eerder gelden."
                )
                % {
                    "version": latest.version,
                    "date": date_format(timezone.localtime(latest.published_at), "j F Y H:i"),
                }
            )
        # Counted before the new version exists: the consents valid now that it ends.
        renewals = valid_consents(purpose_code=purpose.code, at=now).count() if material else 0
        version = PurposeVersion.objects.create(
            purpose=purpose,
            version=(latest.version if latest else 0) + 1,
            material=material,
            published_at=at,
            published_by=actor,
            notice_format=NOTICE_FORMATS[-1],
            retention_rules=texts["retention_rules"],
            **{name: _cleaned(texts[name]) for name in VERSION_FIELDS},
        )
        effects: Counter[str] = Counter()
        later = at > now
        if material and not later:
            effects = hooks.MATERIAL_CHANGE(purpose_code=purpose.code, version=version, at=now)
    return PublishedVersion(
        version=version,
        consents_needing_renewal=renewals,
        effects=effects,
        takes_effect_later=later,
    )


@dataclass(frozen=True)
class MaterialChangeImpact:
    """What a material version would end if it took effect at `at`."""

    valid_consents: int
    effects: Counter[str]


def material_change_impact(*, purpose_code: str, at: dt.datetime) -> MaterialChangeImpact:
    """For the privacy officer's second confirmation: how many valid consents to the
    purpose a material version would end, and what the apps behind it would undo (open
    offers retracted), counted now. Reads only."""
    purpose = get_purpose(purpose_code)
    return MaterialChangeImpact(
        valid_consents=valid_consents(purpose_code=purpose.code, at=at).count(),
        effects=hooks.MATERIAL_CHANGE_PREVIEW(purpose_code=purpose.code, at=at),
    )


class RetentionTexts(TypedDict):
    retention_rules: list[dict[str, Any]]
    retention_nl: str
    retention_en: str


def retention_texts(purpose: Purpose, *, rules: object = None) -> RetentionTexts:
    """The rules of a new version (as given, else the newest version's: retention stays as
    it was unless the privacy officer changes it) and its retention sentences, generated
    from them: what a notice says about retention is never typed twice."""
    if rules is None:
        latest = purpose.versions.order_by("-version").first()
        rules = latest.retention_rules if latest is not None else []
    try:
        parsed = parse_rules(rules)
    except InvalidRules as error:
        raise ChoiceError(_("Ongeldige bewaarregels: %(error)s") % {"error": error}) from None
    if not parsed:
        raise ChoiceError(_("Een tekst zegt hoe lang wij de gegevens bewaren: geef bewaarregels."))
    return {
        "retention_rules": [rule.as_json() for rule in parsed],
        "retention_nl": describe_rules(parsed, "nl"),
        "retention_en": describe_rules(parsed, "en"),
    }


def _filled(value: str | list[object] | tuple[object, ...] | None) -> bool:
    if isinstance(value, list | tuple):
        return any(str(item).strip() for item in value)
    return bool((value or "").strip())


def _cleaned(value: str | list[object] | tuple[object, ...]) -> str | list[str]:
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return value.strip()
