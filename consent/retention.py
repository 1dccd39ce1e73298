"""How long the bank keeps each kind of data, and removing it when that time is up
(GDPR Art. 5(1)(e), storage limitation; issue #14).

**One source.** The periods live in the published notices and nowhere else: each
`PurposeVersion` holds `retention_rules`, a short list of rules such as

    {"data": "offers", "years": 1, "from": "offer_closed"}

(which kind of data, how many years, counted from what; optionally `because`, the legal
reason). For versions published from now on (`notice_format` 2) the notice's readable
retention sentence is generated from the rules and the rules themselves are a line of the
hashed notice text (`machine_line`), so the proof of what a customer read covers the
exact periods. The first versions (format 1, published before rules existed) keep their
text and hash; their rules were written down by migration `consent.0008_retention`, from
what their sentences say (`catalogue.RETENTION_RULES`, tested against those sentences).

The periods that apply on a day are those of each purpose's newest version published by
then (`periods`). Several purposes may keep the same kind of data (payments and fraud
detection both keep transactions): a record goes only when every rule that keeps it has
run out, so the longest wins.

**Removing.** `enforce_retention` runs the removers in `KIND_ORDER`; each kind's remover
is registered by the app that holds that data (`register_kind`), so `consent` knows
nothing of offers or transactions. What the runtime database role may not delete (the
ledger, offer events, the feed) is removed by owner functions that check the period again
in SQL against the database's own date (`retention_today()`, `consent.dbroles.OwnerFunction`
in the migrations): whoever holds the runtime role can erase only what is truly past its
period.

The machine-readable rules of the first versions also state the proof-of-consent period
(5 years after the relationship ends), which their words do not: it is shown on the
history and erasure pages, and inside the hashed text of each purpose's next version.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection
from django.db.models import DateField, F, Func
from django.utils.text import capfirst

from infra.languages import text_language
from ledger.audit import add_years

# --- The vocabulary of rules ----------------------------------------------------------------
# What each word means and how a notice says it. These wordings become part of hashed
# notice texts, so they are constants here (like NOTICE_LABELS), never translations.
KINDS = {
    "offers": {
        "nl": "aanbiedingen en uw antwoorden daarop",
        "en": "offers and your answers to them",
    },
    "data_use": {
        "nl": "het overzicht van wat wij met uw gegevens deden",
        "en": "the log of what we did with your data",
    },
    "consent_proof": {
        "nl": "het bewijs van uw keuzes (uw geschiedenis en de bewijzen daarvan)",
        "en": "the proof of your choices (your history and its receipts)",
    },
    "transactions": {"nl": "uw betalingen", "en": "your payments"},
    "accounts": {
        "nl": "uw rekeningen, saldi en producten",
        "en": "your accounts, balances and products",
    },
    "profile": {
        "nl": "uw naam, e-mailadres, telefoonnummer en geboortedatum",
        "en": "your name, e-mail address, phone number and date of birth",
    },
}
ANCHORS = {
    "offer_closed": {"nl": "nadat het aanbod is afgesloten", "en": "after the offer was closed"},
    "read": {"nl": "nadat wij ze lazen", "en": "after we read them"},
    "transaction": {"nl": "na de transactie", "en": "after the transaction"},
    "relationship_end": {
        "nl": "na het einde van de klantrelatie",
        "en": "after the customer relationship ends",
    },
}
BECAUSE = {
    "tax": {"nl": "fiscale bewaarplicht", "en": "tax record-keeping"},
    "wwft": {"nl": "Wwft", "en": "Dutch anti-money-laundering act"},
    "claims": {
        "nl": "zolang u of de toezichthouder ons erop kan aanspreken",
        "en": "as long as you or the regulator can hold us to account for it",
    },
}
# From what each kind's periods can count: what the removers know how to apply.
ANCHORS_OF = {
    "offers": ("offer_closed",),
    "data_use": ("read",),
    "consent_proof": ("relationship_end",),
    "transactions": ("transaction", "relationship_end"),
    "accounts": ("relationship_end",),
    "profile": ("relationship_end",),
}
# What stays once the proof of consent is gone: that it was removed (the tombstone).
AFTER_PROOF = {
    "nl": "daarna bewaren wij alleen dat het is verwijderd",
    "en": "after that we keep only the fact that it was removed",
}
# The order in which kinds are removed: what refers to the ledger goes before the ledger,
# transactions before the accounts they belong to, the profile last.
KIND_ORDER = ("offers", "data_use", "consent_proof", "transactions", "accounts", "profile")


class InvalidRules(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    data: str
    years: int
    anchor: str
    because: str | None = None

    def as_json(self) -> dict:
        rule = {"data": self.data, "years": self.years, "from": self.anchor}
        if self.because:
            rule["because"] = self.because
        return rule


def parse_rules(raw) -> tuple[Rule, ...]:
    """The rules of a notice, checked: known words, whole positive years, and each (kind,
    counted from) at most once. Raises InvalidRules."""
    if not isinstance(raw, list | tuple):
        raise InvalidRules("retention rules are a list")
    rules, seen = [], set()
    for item in raw:
        if isinstance(item, Rule):
            item = item.as_json()
        if not isinstance(item, dict) or set(item) - {"data", "years", "from", "because"}:
            raise InvalidRules(f"a rule is data, years, from (and because): {item!r}")
        data, years, anchor = item.get("data"), item.get("years"), item.get("from")
        because = item.get("because")
        if data not in KINDS:
            raise InvalidRules(f"unknown kind of data {data!r}: one of {', '.join(KINDS)}")
        if anchor not in ANCHORS_OF[data]:
            raise InvalidRules(
                f"{data} is counted from {' or '.join(ANCHORS_OF[data])}, not {anchor!r}"
            )
        if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 100:
            raise InvalidRules(f"years must be a whole number from 1 to 100: {years!r}")
        if because is not None and because not in BECAUSE:
            raise InvalidRules(f"unknown reason {because!r}: one of {', '.join(BECAUSE)}")
        if (data, anchor) in seen:
            raise InvalidRules(f"two rules for {data} counted from {anchor}")
        seen.add((data, anchor))
        rules.append(Rule(data, years, anchor, because))
    return tuple(rules)


def period_text(rule: Rule, language: str) -> str:
    """'1 jaar nadat het aanbod is afgesloten' / '7 years after … (tax record-keeping)'."""
    language = text_language(language)
    if language == "en":
        amount = f"{rule.years} year" + ("" if rule.years == 1 else "s")
    else:
        amount = f"{rule.years} jaar"
    text = f"{amount} {ANCHORS[rule.anchor][language]}"
    if rule.because:
        text += f" ({BECAUSE[rule.because][language]})"
    return text


def describe_rules(rules: Iterable, language: str) -> str:
    """The readable retention sentence of a notice, generated from its rules: one sentence
    per kind, in the order of the rules. Deterministic, so it can be hashed."""
    language = text_language(language)
    by_kind: dict[str, list[Rule]] = {}
    for rule in parse_rules(list(rules)):
        by_kind.setdefault(rule.data, []).append(rule)
    sentences = []
    for kind, rules_of_kind in by_kind.items():
        label = KINDS[kind][language]
        periods = (" en " if language == "nl" else " and ").join(
            period_text(rule, language) for rule in rules_of_kind
        )
        if len(rules_of_kind) > 1:
            periods = ("tot het laatste van: " if language == "nl" else "until the last of: ") + (
                periods
            )
        sentence = f"{capfirst(label)}: {periods}"
        if kind == "consent_proof":
            sentence += f"; {AFTER_PROOF[language]}"
        sentences.append(sentence + ".")
    return " ".join(sentences)


def machine_line(rules: Iterable) -> str:
    """The rules as one line of the hashed notice text (ISO 8601 periods), e.g.
    'offers=P1Y/offer_closed; data_use=P1Y/read'."""
    return "; ".join(
        f"{rule.data}=P{rule.years}Y/{rule.anchor}" for rule in parse_rules(list(rules))
    )


def rules_match_sentences(rules: Iterable, *, nl: str, en: str) -> bool:
    """For a format-1 notice (text written before rules existed): every period its rules
    name is in its sentences, in both languages. The migration's rules are tested with
    this; later notices generate the sentences from the rules instead."""
    rules = parse_rules(list(rules))
    return all(
        f"{rule.years} jaar" in nl and f"{rule.years} year" in en for rule in rules
    ) and bool(rules)


# --- The periods in effect ----------------------------------------------------------------
def subtract_years(day: dt.date, years: int) -> dt.date:
    """The latest start date whose period of `years` has run out by `day`:
    `add_years(start, years) <= day` exactly when `start <= subtract_years(day, years)`."""
    target = day.year - years
    if (day.month, day.day) == (2, 28) and _leap(target) and not _leap(day.year):
        return dt.date(target, 2, 29)  # 29 February plus the years is this 28 February
    try:
        return day.replace(year=target)
    except ValueError:  # `day` is 29 February and `target` has none
        return dt.date(target, 2, 28)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True)
class StatedRule:
    """A rule as a purpose's notice in effect states it."""

    rule: Rule
    purpose_code: str
    version: int


@dataclass(frozen=True)
class Period:
    """Everything the notices in effect say about one kind of data."""

    kind: str
    stated: tuple[StatedRule, ...]

    def years(self, anchor: str) -> int | None:
        """The longest period counted from `anchor`, or None if no notice counts from it."""
        found = [s.rule.years for s in self.stated if s.rule.anchor == anchor]
        return max(found) if found else None

    @property
    def anchors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.rule.anchor for s in self.stated))

    def cutoff(self, anchor: str, as_of: dt.date) -> dt.date | None:
        """Records whose `anchor` date is on or before this day are past this anchor's
        period on `as_of`."""
        years = self.years(anchor)
        return None if years is None else subtract_years(as_of, years)

    def text(self, language: str) -> str:
        """The promised period, as the notices say it."""
        longest: dict[str, Rule] = {}
        for stated in self.stated:
            rule = stated.rule
            if rule.anchor not in longest or rule.years > longest[rule.anchor].years:
                longest[rule.anchor] = rule
        joiner = " en " if text_language(language) == "nl" else " and "
        return joiner.join(period_text(rule, language) for rule in longest.values())


def periods(*, on: dt.date) -> dict[str, Period]:
    """Kind of data -> what the newest version of each purpose published by the end of
    `on` says about it. One query."""
    from .models import PurposeVersion
    from .validity import end_of_day

    versions = (
        PurposeVersion.objects.filter(published_at__lt=end_of_day(on))
        .select_related("purpose")
        .order_by("purpose_id", "-version")
        .distinct("purpose_id")
    )
    stated: dict[str, list[StatedRule]] = {}
    for version in versions:
        for rule in parse_rules(version.retention_rules):
            stated.setdefault(rule.data, []).append(
                StatedRule(rule, version.purpose.code, version.version)
            )
    return {kind: Period(kind, tuple(rules)) for kind, rules in stated.items()}


# --- The database's date --------------------------------------------------------------------
def database_today() -> dt.date:
    """The date the owner's retention functions count with (`retention_today()`): the
    database server's date in Amsterdam, which the runtime role cannot move."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT retention_today()")
        return cursor.fetchone()[0]


# --- The removers, registered by the apps that hold the data ---------------------------------
@dataclass(frozen=True)
class Retention:
    """One enforcement: the day it counts for and the periods in effect on it."""

    as_of: dt.date
    now: dt.datetime
    periods: dict[str, Period]

    def period(self, kind: str) -> Period | None:
        return self.periods.get(kind)

    def cutoff(self, kind: str, anchor: str) -> dt.date | None:
        """`Period.cutoff` of `kind`'s period on `as_of`; None (remove nothing) when no
        notice states a period for `kind` or none counted from `anchor`."""
        period = self.period(kind)
        return None if period is None else period.cutoff(anchor, self.as_of)


@dataclass(frozen=True)
class Oldest:
    """The oldest record of a kind still held: the day its period started counting."""

    day: dt.date | None
    anchor: str


class RelationshipEnd(Func):
    """The day a customer's relationship ended as the ledger proves it: their `left`
    event's day, or the day the log took it in if later (SQL `relationship_end`, which
    the owner's retention functions count with too). NULL until it is in the log; never
    `Customer.closed_on`, which the runtime role could have written."""

    function = "relationship_end"
    output_field = DateField()

    def __init__(self, customer: str = "pk") -> None:
        super().__init__(F(customer))


@dataclass(frozen=True)
class KindHandler:
    kind: str
    # remove(retention) -> Counter of what was removed, e.g. {"offers": 3, "offer_events": 9}
    remove: Callable[[Retention], Counter]
    # oldest(on, period) -> the oldest record still held whose period is running, for the
    # privacy overview (one query)
    oldest: Callable[[dt.date, "Period | None"], Oldest]


KIND_HANDLERS: dict[str, KindHandler] = {}


def register_kind(kind: str, *, remove: Callable, oldest: Callable) -> None:
    """An app that holds data of `kind` says how to remove it and how old it is."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of data {kind!r}")
    KIND_HANDLERS[kind] = KindHandler(kind, remove, oldest)


# One run at a time, whatever the process: tombstone ids then commit in order, which the
# checkpoints rely on (`ledger.checkpoints.tombstone_commitment`).
ADVISORY_LOCK = 4_250_714


class RetentionInProgress(Exception):
    pass


@dataclass
class Enforcement:
    as_of: dt.date
    requested: dt.date
    removed: dict[str, Counter] = field(default_factory=dict)
    unstated: list[str] = field(default_factory=list)  # kinds no notice gives a period for

    @property
    def capped(self) -> bool:
        return self.as_of < self.requested


def enforce_retention(*, as_of: dt.date, now: dt.datetime, progress=None) -> Enforcement:
    """Remove everything past the periods the notices in effect on `as_of` state, kind by
    kind in `KIND_ORDER`. Never later than the database's own date: the owner functions
    would refuse it anyway, and all kinds count with the same day. Idempotent: a second
    run on the same day removes nothing."""
    say = progress or (lambda text: None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
        if not cursor.fetchone()[0]:
            raise RetentionInProgress("another enforce_retention run is in progress")
    try:
        return _enforce(as_of=as_of, now=now, say=say)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])


def _enforce(*, as_of: dt.date, now: dt.datetime, say) -> Enforcement:
    effective = min(as_of, database_today())
    retention = Retention(as_of=effective, now=now, periods=periods(on=effective))
    result = Enforcement(as_of=effective, requested=as_of)
    for kind in KIND_ORDER:
        handler = KIND_HANDLERS.get(kind)
        if handler is None:
            continue
        period = retention.period(kind)
        if period is None:
            # No notice states a period: keep everything (and say so), never guess one.
            result.unstated.append(kind)
            result.removed[kind] = Counter()
            continue
        say(f"{kind}: removing what is past {period.text('en')}")
        result.removed[kind] = handler.remove(retention)
    return result


@dataclass(frozen=True)
class HeldRow:
    """One line of the privacy overview's retention table."""

    kind: str
    label: str
    promised: str
    oldest: dt.date | None
    anchor: str
    removable_from: dt.date | None

    today: dt.date = dt.date.min

    @property
    def overdue(self) -> bool:
        return self.removable_from is not None and self.removable_from < self.today


def oldest_held(*, on: dt.date, language: str) -> list[HeldRow]:
    """Per kind of data: the promised period and the oldest record still held (the day its
    period started counting), with the day it may go. One query per kind, plus one."""
    in_effect = periods(on=on)
    rows = []
    for kind in KIND_ORDER:
        handler, period = KIND_HANDLERS.get(kind), in_effect.get(kind)
        label = KINDS[kind][text_language(language)]
        if handler is None:
            continue
        oldest = handler.oldest(on, period)
        years = period.years(oldest.anchor) if period else None
        rows.append(
            HeldRow(
                kind=kind,
                label=capfirst(label),
                promised=period.text(language) if period else "",
                oldest=oldest.day,
                anchor=oldest.anchor,
                removable_from=add_years(oldest.day, years) if oldest.day and years else None,
                today=on,
            )
        )
    return rows


# --- consent's own kinds: the proof of consent and the profile -------------------------------


def remove_consent_proof(retention: Retention) -> Counter:
    """Every chain of a customer who left longer ago than the proof-of-consent period, one
    customer per transaction, through the owner's `remove_consent_proof` (which checks the
    period again and writes the tombstone); then the apps' copies (`proof_removed`). A
    chain something still refers to (an offer kept longer than the proof, say) is kept and
    counted, never broken."""
    from django.db import IntegrityError, transaction
    from django.db.models import Exists, OuterRef

    from ledger.models import ConsentEvent

    from . import hooks
    from .models import Customer

    counts: Counter[str] = Counter()
    cutoff = retention.cutoff("consent_proof", "relationship_end")
    if cutoff is None:
        return counts
    due = (
        Customer.objects.alias(ended=RelationshipEnd())
        .filter(ended__lte=cutoff)
        .filter(Exists(ConsentEvent.objects.filter(customer=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for customer_id in list(due):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT remove_consent_proof(%s, %s)", [customer_id, retention.as_of]
                )
                (events,) = cursor.fetchone()
                effects = hooks.PROOF_REMOVED(customer_id=customer_id, at=retention.now)
                # A reference to the removed events (deferred foreign keys) fails here,
                # inside this customer's savepoint, not at the end of the run.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        except IntegrityError:
            counts["customers_kept_still_referred_to"] += 1
            continue
        counts["customers"] += 1
        counts["events"] += events
        counts.update(effects)
    return counts


def oldest_consent_proof(on: dt.date, period: Period | None = None) -> Oldest:
    """The earliest end of a relationship whose proof of consent is still held."""
    from django.db.models import Exists, Min, OuterRef

    from ledger.models import ConsentEvent

    from .models import Customer

    day = (
        Customer.objects.filter(closed_on__isnull=False)
        .filter(Exists(ConsentEvent.objects.filter(customer=OuterRef("pk"))))
        .aggregate(first=Min(RelationshipEnd()))["first"]
    )
    return Oldest(day, "relationship_end")


def pseudonymise_profiles(retention: Retention) -> Counter:
    """Customers who left longer ago than the profile's period keep only their number:
    name, e-mail address, phone and date of birth are cleared, on the customer and on
    their (disabled) login. The number stays: the tombstone and the signed checkpoints
    name the removed chain by it, and anything still kept under a longer period is
    filed under it. One UPDATE per table."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from .models import Customer

    cutoff = retention.cutoff("profile", "relationship_end")
    if cutoff is None:
        return Counter()
    due = Customer.objects.alias(ended=RelationshipEnd()).filter(
        ended__lte=cutoff, pseudonymised_on__isnull=True
    )
    with transaction.atomic():
        users = list(due.values_list("user_id", flat=True))
        done = due.update(
            first_name="",
            last_name="",
            email="",
            phone="",
            birth_date=None,
            pseudonymised_on=retention.as_of,
        )
        # An unusable password ('!' prefix, as Django's set_unusable_password).
        get_user_model().objects.filter(pk__in=users).update(
            first_name="",
            last_name="",
            email="",
            is_active=False,
            password=UNUSABLE_PASSWORD_PREFIX,
        )
    return +Counter({"customers": done})


def oldest_profile(on: dt.date, period: Period | None = None) -> Oldest:
    from django.db.models import Min

    from .models import Customer

    day = Customer.objects.filter(closed_on__isnull=False, pseudonymised_on__isnull=True).aggregate(
        first=Min(RelationshipEnd())
    )["first"]
    return Oldest(day, "relationship_end")
