"""What the customer's pages show: read-only views of the catalogue and the ledger.

Each function runs a fixed number of queries, however many purposes or events there are,
and decides validity only through `consent.validity`.
"""

import datetime as dt
import functools
import heapq
import itertools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from infra.effects import answers
from infra.precompiled import Precompiled, columns, instance, precompile, sample_moments, width
from ledger.models import Action, ConsentEvent

from . import signals
from .catalogue import statement_sha256, statement_text
from .models import LEGAL_BASIS_TEXT, ConsentState, Customer, Purpose, PurposeVersion
from .notices import readable_notice, readable_retention
from .renewals import with_previous
from .retention_rules import periods
from .textdiff import word_diff
from .validity import (
    EXPIRED,
    GIVEN_UNDER_16,
    MATERIAL_CHANGE,
    annotate_validity,
    compile_key,
    ends_by_material_change,
    last_valid_day,
    moments,
    too_young_until,
    why_not_valid,
)


@dataclass(frozen=True)
class Card:
    """One purpose on the dashboard, with its texts already in the customer's language."""

    purpose: Purpose
    version: PurposeVersion  # the text the customer reads now
    state: ConsentState | None  # None: the customer never chose
    is_valid: bool
    language: str
    invalid_because: str | None = None
    too_young_until: dt.date | None = None  # under 16: the day they may choose
    objection: ConsentState | None = None  # the standing objection, for offers purposes
    # The next version of the text, published to take effect later, and the moment the
    # first material one of those takes effect (when consents to the current text end).
    upcoming: PurposeVersion | None = None
    material_change_at: dt.datetime | None = None

    @property
    def code(self) -> str:
        return self.purpose.code

    def _text(self, field: str) -> str:
        return self.version.text(field, self.language)

    @property
    def title(self) -> str:
        return self._text("title")

    @property
    def description(self) -> str:
        return self._text("description")

    @property
    def data_used(self) -> str:
        return self._text("data_used")

    @property
    def retention(self) -> str:
        """Once, in words (`consent.notices`): never the rules line of the hashed text."""
        return readable_retention(self.version, self.language)

    @property
    def recipients(self) -> str:
        return self._text("recipients")

    @property
    def controller(self) -> str:
        return self._text("controller")

    @property
    def dpo_contact(self) -> str:
        return self._text("dpo_contact")

    @property
    def notice_sha256(self) -> str:
        """The hash of the text on this card: the choice form sends it back."""
        return self.version.notice_sha256(self.language)

    @property
    def is_on(self) -> bool:
        """The switch position: on only while the consent actually counts."""
        return self.is_valid

    @property
    def needs_choice(self) -> bool:
        """Granted once, but no longer valid: the customer is asked to choose again."""
        return self.invalid_because in (MATERIAL_CHANGE, EXPIRED, GIVEN_UNDER_16)

    @property
    def max_age_years(self) -> int | None:
        """The maximum age in whole years ("2 jaar", not "730 dagen"), if it is that."""
        days = settings.CONSENT_MAX_AGE_DAYS
        return days // 365 if days % 365 == 0 else None

    @property
    def max_age_days(self) -> int:
        return settings.CONSENT_MAX_AGE_DAYS

    @property
    def may_grant(self) -> bool:
        """Whether the dashboard offers a grant button at all."""
        return self.too_young_until is None and self.blocked_by_objection is False

    @property
    def blocked_by_objection(self) -> bool:
        return self.objection is not None and self.purpose.direct_marketing

    @property
    def legal_basis_text(self) -> str:
        """The legal basis with its article, for the details (never the main text)."""
        return LEGAL_BASIS_TEXT[self.purpose.legal_basis][self.language]

    @property
    def valid_until(self) -> dt.date | None:
        """The last day the consent counts (the same arithmetic as the validity SQL): the
        day a material version published for later takes effect, if that comes first."""
        if not self.is_valid or self.state is None:
            return None
        return last_valid_day(self.state.changed_at, material_change_at=self.material_change_at)

    @property
    def ends_by_change(self) -> bool:
        """The consent counts now, and stops at `material_change_at`, before it expires."""
        return (
            self.is_valid
            and self.state is not None
            and ends_by_material_change(
                self.state.changed_at, material_change_at=self.material_change_at
            )
        )

    @property
    def upcoming_takes_effect_at(self) -> dt.datetime | None:
        return self.upcoming.published_at if self.upcoming is not None else None

    @property
    def upcoming_diff(self) -> dict[str, Any]:
        """The next text as the customer will read it, and word by word what changes
        against the text they read now (both in words, as `consent.notices` renders them)."""
        if self.upcoming is None:
            return {}
        now = readable_notice(self.version, self.language).as_text()
        later = readable_notice(self.upcoming, self.language).as_text()
        return {"text": later, "diff": word_diff(now, later)}


@dataclass(frozen=True)
class Objection:
    """The customer's standing objection to direct marketing (GDPR Art. 21(2))."""

    state: ConsentState
    language: str

    @property
    def since(self) -> dt.datetime:
        return self.state.changed_at

    @property
    def lift_text(self) -> str:
        return statement_text(Action.OBJECTION_LIFTED, self.language)

    @property
    def lift_sha256(self) -> str:
        return statement_sha256(Action.OBJECTION_LIFTED, self.language)


@dataclass(frozen=True)
class Dashboard:
    cards: list[Card]
    objection: Objection | None
    language: str
    # A restore of an older backup lost choices made after this moment: asked to choose
    # again (`consent.services.stop_after_lost_choices`).
    choices_lost_since: dt.datetime | None = None

    @property
    def stop_all_text(self) -> str:
        return statement_text(Action.OBJECTED, self.language)

    @property
    def choices(self) -> list[Card]:
        """The optional purposes: what the customer decides."""
        return [card for card in self.cards if not card.purpose.required]

    @property
    def on_count(self) -> int:
        return sum(1 for card in self.choices if card.is_on)

    @property
    def needing_choice(self) -> list[Card]:
        """Cards that ask for a new choice (expired, a new version, given under 16)."""
        return [card for card in self.choices if card.needs_choice]


def current_versions(*, at: dt.datetime, code: str | None = None) -> QuerySet:
    """The newest published version of every purpose (one query, purposes joined).

    The newest is chosen in a subquery of its own, so a caller that orders the result
    differently (or clears its order, as the API's purpose list does) still gets the
    newest version: a DISTINCT ON whose ORDER BY was cleared picks any row."""
    newest = (
        PurposeVersion.objects.filter(published_at__lte=at)
        .order_by("purpose_id", "-version")
        .distinct("purpose_id")
    )
    if code is not None:
        newest = newest.filter(purpose__code=code)
    return (
        PurposeVersion.objects.filter(pk__in=newest.values("pk"))
        .select_related("purpose")
        .order_by("purpose_id")
    )


# --- The dashboard's one query -----------------------------------------------------------
# Every page that shows cards (the dashboard, a choice's card, the export, the API) asks
# for the customer's states with their validity and the purposes' current texts. That is
# one SQL statement: the two querysets below, compiled once per process by
# `consent.precompiled` (they stay the definition: `consent.validity` decides), joined
# to the rows the cards show. Nothing is cached but SQL text: every row is read anew.
_STATE_ANNOTATIONS = ("is_valid", "_objected", "_material_version", "_may_consent_from")


def _states_for_cards(inputs) -> QuerySet:
    states = annotate_validity(
        ConsentState.objects.filter(customer_id=inputs["customer_id"]), at=inputs["at"]
    )
    if "code" in inputs:
        states = states.filter(Q(purpose__code=inputs["code"]) | Q(purpose__isnull=True))
    return states.values_list("pk", *_STATE_ANNOTATIONS)


def _versions_for_cards(inputs) -> QuerySet:
    return current_versions(at=inputs["at"], code=inputs.get("code")).values_list("pk")


def _card_inputs(*, customer_id: int, at: dt.datetime, code: str | None) -> dict[str, Any]:
    inputs: dict[str, Any] = {"customer_id": customer_id, **moments(at)}
    if code is not None:
        inputs["code"] = code
    return inputs


@functools.lru_cache(maxsize=16)
def _cards_query(by_code: bool, _compile_key: tuple) -> Precompiled:
    """The SQL for `customer_dashboard`; compiled again when `compile_key()` changes."""
    first, second = sample_moments()
    samples = (
        _card_inputs(customer_id=-7_000_001, at=first, code="-sample-a-" if by_code else None),
        _card_inputs(customer_id=-7_000_002, at=second, code="-sample-b-" if by_code else None),
    )

    states = precompile(_states_for_cards, samples)
    versions = precompile(_versions_for_cards, samples)
    judged = ", ".join(f"judged.{name}" for name in _STATE_ANNOTATIONS)
    sql = f"""
        WITH current_version (id) AS ({versions.sql}),
             judged (id, {", ".join(_STATE_ANNOTATIONS)}) AS ({states.sql})
        SELECT {columns(Purpose, "purpose")}, {columns(PurposeVersion, "version")},
               {columns(ConsentState, "state")}, {judged},
               {columns(PurposeVersion, "chosen")},
               {columns(PurposeVersion, "upcoming")}, material_change.at
          FROM (current_version
                JOIN {PurposeVersion._meta.db_table} version ON version.id = current_version.id
                JOIN {Purpose._meta.db_table} purpose ON purpose.id = version.purpose_id
                LEFT JOIN LATERAL (
                    SELECT * FROM {PurposeVersion._meta.db_table} next
                     WHERE next.purpose_id = version.purpose_id AND next.published_at > %s
                     ORDER BY next.version LIMIT 1) upcoming ON true
                LEFT JOIN LATERAL (
                    SELECT min(later.published_at) AS at
                      FROM {PurposeVersion._meta.db_table} later
                     WHERE later.purpose_id = version.purpose_id AND later.material
                       AND later.published_at > %s) material_change ON true)
          FULL JOIN (judged
                     JOIN {ConsentState._meta.db_table} state ON state.id = judged.id
                     LEFT JOIN {PurposeVersion._meta.db_table} chosen
                       ON chosen.id = state.purpose_version_id)
            ON state.purpose_id = version.purpose_id
    """
    # The two LATERAL joins read the moment of reading (`at`), after both CTEs' parameters.
    return Precompiled(sql=sql, slots=versions.slots + states.slots + (("at", None),) * 2)


def _row_parts() -> list[tuple[int, int]]:
    """Where each part of a row starts and ends: purpose, version, state, the state's
    annotations, the state's chosen version (the query's SELECT, in that order)."""
    widths = [
        width(Purpose),
        width(PurposeVersion),
        width(ConsentState),
        len(_STATE_ANNOTATIONS),
        width(PurposeVersion),
        width(PurposeVersion),
        1,
    ]
    ends = list(itertools.accumulate(widths))
    return list(zip([0, *ends[:-1]], ends, strict=True))


_ROW_PARTS = _row_parts()


def _card_rows(customer: Customer, *, at: dt.datetime, code: str | None):
    """(current version, the customer's state or None) per purpose, the version's purpose
    and the state's chosen version joined, the state annotated as by `annotate_validity`;
    and the objection's state as (None, state). One query."""
    query = _cards_query(code is not None, compile_key())
    rows = query.rows(_card_inputs(customer_id=customer.pk, at=at, code=code))
    for row in rows:
        purpose, version, state, annotations, chosen, upcoming, (material_change_at,) = (
            row[start:end] for start, end in _ROW_PARTS
        )
        version = instance(PurposeVersion, version)
        upcoming = instance(PurposeVersion, upcoming)
        state = instance(ConsentState, state)
        if version is not None:
            version.purpose = instance(Purpose, purpose)
            if upcoming is not None:
                upcoming.purpose = version.purpose
        if state is not None:
            for name, value in zip(_STATE_ANNOTATIONS, annotations, strict=True):
                setattr(state, name, value)
            # The objection has no purpose; a state for a purpose without a published
            # text has no card: neither needs what is joined for a card.
            if state.purpose_id is not None and version is not None:
                # A granted or withdrawn state names its version (`state_shape`); mostly
                # the current one, already made (its texts decoded once, not twice).
                if chosen[0] == version.pk:
                    chosen = version
                else:
                    chosen = instance(PurposeVersion, chosen)
                    assert chosen is not None
                    chosen.purpose = version.purpose
                state.purpose = version.purpose
                state.purpose_version = chosen
        yield version, state, upcoming, material_change_at


def customer_dashboard(
    customer: Customer, *, language: str, at: dt.datetime, code: str | None = None
) -> Dashboard:
    """Every purpose (or only `code`) as the customer's card, and the objection. One
    query, however many purposes."""
    by_purpose, objection, current, later = {}, None, [], {}
    for version, state, upcoming, material_change_at in _card_rows(customer, at=at, code=code):
        if state is not None and state.purpose_id is None:
            objection = state if state.state == Action.OBJECTED else None
            continue
        if version is None:  # a state for a purpose without a published text (yet)
            continue
        current.append(version)
        later[version.purpose_id] = (upcoming, material_change_at)
        if state is not None:
            by_purpose[version.purpose_id] = state
    today = timezone.localdate(at)
    under_16_until = too_young_until(customer, on=today)
    cards = []
    for version in current:
        state = by_purpose.get(version.purpose_id)
        cards.append(
            Card(
                purpose=version.purpose,
                version=version,
                state=state,
                is_valid=bool(state and state.is_valid),
                language=language,
                invalid_because=why_not_valid(state, customer, at=at),
                too_young_until=under_16_until,
                objection=objection,
                upcoming=later[version.purpose_id][0],
                material_change_at=later[version.purpose_id][1],
            )
        )
    cards.sort(key=lambda card: (card.purpose.position, card.code))
    return Dashboard(
        cards=cards,
        objection=Objection(state=objection, language=language) if objection else None,
        language=language,
        choices_lost_since=customer.choices_lost_since,
    )


def customer_history(customer: Customer) -> QuerySet:
    """Every event of the customer, newest first, with what the page shows joined in
    (objection events have no purpose and no version) and what tells a renewal
    (`consent.renewals`)."""
    return with_previous(
        ConsentEvent.objects.filter(customer=customer)
        .select_related("purpose", "purpose_version")
        .order_by("-sequence")
    )


def customer_events(customer: Customer) -> list[ConsentEvent]:
    """Every event of the customer, oldest first (the chain's order), with its customer,
    purpose and version: what `customer_history` joins, in one statement written once
    (the ORM would build and compile the query, and make a purpose and a version
    instance for every event; here each purpose and version is made once). For the
    export, which reads every event whatever the history's length."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_EVENTS_SQL, [customer.pk])
        rows = cursor.fetchall()
    purposes: dict[Any, Any] = {None: None}  # by id: Purpose, or None for no purpose
    versions: dict[Any, Any] = {None: None}
    events = []
    event_end, purpose_end = width(ConsentEvent), width(ConsentEvent) + width(Purpose)
    # Joined instances are set as select_related sets them (`Field.set_cached_value`),
    # not through the attribute, whose checks were about 4% of the history's CPU with a
    # long history (issue #24).
    for row in rows:
        event = instance(ConsentEvent, row[:event_end])
        assert event is not None
        if event.purpose_id not in purposes:
            purposes[event.purpose_id] = instance(Purpose, row[event_end:purpose_end])
        if event.purpose_version_id not in versions:
            version = instance(PurposeVersion, row[purpose_end:])
            assert version is not None
            _VERSIONS_PURPOSE(version, purposes[event.purpose_id])
            versions[event.purpose_version_id] = version
        _EVENTS_CUSTOMER(event, customer)
        _EVENTS_PURPOSE(event, purposes[event.purpose_id])
        _EVENTS_VERSION(event, versions[event.purpose_version_id])
        events.append(event)
    return events


_EVENTS_CUSTOMER = ConsentEvent._meta.get_field("customer").set_cached_value
_EVENTS_PURPOSE = ConsentEvent._meta.get_field("purpose").set_cached_value
_EVENTS_VERSION = ConsentEvent._meta.get_field("purpose_version").set_cached_value
_VERSIONS_PURPOSE = PurposeVersion._meta.get_field("purpose").set_cached_value


def events_with_previous(customer: Customer) -> list[ConsentEvent]:
    """`customer_events`, newest first, each with the previous event about its purpose as
    `consent.renewals.with_previous` annotates it (its window, done in one pass over the
    chain's order instead of in SQL the ORM would build on every request)."""
    events = customer_events(customer)
    last: dict[Any, ConsentEvent] = {}
    for event in events:
        previous = last.get(event.purpose_id)
        annotated: Any = event  # what `with_previous` annotates is not in the model's type
        annotated.previous_action = previous.action if previous else None
        annotated.previous_version_id = previous.purpose_version_id if previous else None
        annotated.previous_occurred_at = previous.occurred_at if previous else None
        last[event.purpose_id] = event
    events.reverse()
    return events


_EVENTS_SQL = f"""
    SELECT {columns(ConsentEvent, "event")}, {columns(Purpose, "purpose")},
           {columns(PurposeVersion, "version")}
      FROM {ConsentEvent._meta.db_table} event
      LEFT JOIN {Purpose._meta.db_table} purpose ON purpose.id = event.purpose_id
      LEFT JOIN {PurposeVersion._meta.db_table} version ON version.id = event.purpose_version_id
     WHERE event.customer_id = %s
     ORDER BY event.sequence
"""


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


@dataclass(frozen=True)
class HistoryEntry:
    """A line another app adds to the customer's history (`signals.history_entries`),
    in the page's language: something that happened to the customer's data that is not a
    choice in the ledger (e.g. an app given access, or that access revoked), so it has no
    receipt."""

    at: dt.datetime
    anchor: str  # the line's id on the page, unique among the entries
    title: str  # what it is about, e.g. the app's name
    what: str  # what happened, e.g. "toegang ingetrokken"
    how: str  # by whom or how
    ended: bool  # something stopped (shown like a withdrawal)


@dataclass(frozen=True)
class HistoryPage:
    proof_kept: str  # how long the proof of consent is kept, as the notices say it
    # The events and the other apps' entries, newest first: (event, None) or (None, entry).
    lines: list[tuple[ConsentEvent | None, HistoryEntry | None]]


def history_page(customer: Customer, *, language: str, at: dt.datetime) -> HistoryPage:
    """The history, with what other apps add to it, and how long it is kept (the notices
    in effect: one query more)."""
    proof = periods(on=timezone.localdate(at)).get("consent_proof")
    events = events_with_previous(customer)
    entries = sorted(
        answers(signals.history_entries, customer=customer, language=language),
        key=lambda entry: entry.at,
        reverse=True,
    )
    lines = heapq.merge(
        [(event.occurred_at, event, None) for event in events],
        [(entry.at, None, entry) for entry in entries],
        key=lambda line: line[0],
        reverse=True,
    )
    return HistoryPage(
        proof_kept=proof.text(language) if proof else "",
        lines=[(event, entry) for _at, event, entry in lines],
    )
