"""How long the bank keeps each kind of data, as its published notices say (GDPR Art.
5(1)(e), storage limitation): the vocabulary of the rules and the periods in effect.

**One source.** The periods live in the published notices and nowhere else: each
`PurposeVersion` holds `retention_rules`, a short list of rules such as

    {"data": "offers", "years": 1, "from": "offer_closed"}

(which kind of data, how many years, counted from what; optionally `because`, the legal
reason). For versions published from format 2 on, the notice's readable retention
sentence is generated from the rules and the rules themselves are a line of the hashed
notice text (`machine_line`), so the proof of what a customer read covers the exact
periods. The first versions (format 1) keep their text and hash; their rules were written
down by migration from what their sentences say.

The periods that apply on a day are those of each purpose's newest version published by
then (`periods`). Several purposes may keep the same kind of data (payments and fraud
detection both keep transactions): a record goes only when every rule that keeps it has
run out, so the longest wins. Removing what is past them is `lifecycle.retention`'s.
"""

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.text import capfirst

from infra.dates import subtract_years
from infra.languages import text_language
from infra.precompiled import Inputs, PrecompiledQuerySet, precompile_queryset, sample_moments

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
# In words a customer reads without a lawyer: the law named by what it is for, its
# abbreviation only next to that (versions published before keep the words they had).
BECAUSE = {
    "tax": {
        "nl": "de belastingwet verplicht ons dit zo lang te bewaren",
        "en": "tax law requires us to keep it that long",
    },
    "wwft": {
        "nl": (
            "de wet tegen witwassen en terrorismefinanciering, de Wwft, verplicht ons dit zo"
            " lang te bewaren"
        ),
        "en": (
            "the Dutch law against money laundering and terrorist financing, the Wwft,"
            " requires us to keep it that long"
        ),
    },
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
    """'1 jaar nadat het aanbod is afgesloten' / '7 years after … (tax law requires …)'."""
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
    per period, in the order of the rules, naming every kind kept that long together
    ("Uw betalingen, uw rekeningen … en uw naam …: 7 jaar na …"), so that a period is
    said once. Deterministic, so it can be hashed."""
    language = text_language(language)
    by_kind: dict[str, list[Rule]] = {}
    for rule in parse_rules(list(rules)):
        by_kind.setdefault(rule.data, []).append(rule)
    by_period: dict[str, list[str]] = {}
    for kind, rules_of_kind in by_kind.items():
        periods = (" en " if language == "nl" else " and ").join(
            period_text(rule, language) for rule in rules_of_kind
        )
        if len(rules_of_kind) > 1:
            periods = ("tot het laatste van: " if language == "nl" else "until the last of: ") + (
                periods
            )
        if kind == "consent_proof":
            periods += f"; {AFTER_PROOF[language]}"
        by_period.setdefault(periods, []).append(KINDS[kind][language])
    sentences = [
        f"{capfirst(_listed(labels, language))}: {periods}."
        for periods, labels in by_period.items()
    ]
    return " ".join(sentences)


def _listed(items: list[str], language: str) -> str:
    """'a', 'a en b', 'a, b en c' (the last joined with a comma too when the items have
    their own "en", so the list stays readable)."""
    if len(items) == 1:
        return items[0]
    word = " en " if language == "nl" else " and "
    last = ("," if any(word in item for item in items) else "") + word
    return ", ".join(items[:-1]) + last + items[-1]


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
    from .validity import end_of_day

    stated: dict[str, list[StatedRule]] = {}
    newest = _newest_versions().rows({"before": end_of_day(on)})
    for version_id, retention_rules, purpose_code, version in newest:
        for rule in _version_rules(version_id, retention_rules):
            stated.setdefault(rule.data, []).append(StatedRule(rule, purpose_code, version))
    return {kind: Period(kind, tuple(rules)) for kind, rules in stated.items()}


@functools.cache
def _newest_versions() -> PrecompiledQuerySet:
    """Each purpose's newest version published before a moment: what `periods` reads of
    it. Its SQL compiled once per process (`infra.precompiled`): the history page asks on
    every request, and compiling it was about 0.3 ms of its CPU (issue #24); only these
    values, not instances: making a version and its purpose with every text of theirs
    was as much again."""
    from .models import PurposeVersion

    def build(inputs: Inputs) -> QuerySet:
        return (
            PurposeVersion.objects.filter(published_at__lt=inputs["before"])
            .order_by("purpose_id", "-version")
            .distinct("purpose_id")
            .values_list("pk", "retention_rules", "purpose__code", "version")
        )

    first, second = sample_moments()
    return precompile_queryset(build, ({"before": first}, {"before": second}))


def _version_rules(version_id: int, stored: Any) -> tuple[Rule, ...]:
    # A published version never changes (a trigger refuses it): its rules are parsed once
    # per process (the stored rules are compared, not trusted to match the id).
    cached = _PARSED.get(version_id)
    if cached is None or cached[0] != stored:
        cached = _PARSED[version_id] = (stored, parse_rules(stored))
    return cached[1]


_PARSED: dict[int, tuple[Any, tuple[Rule, ...]]] = {}


# --- consent's own kinds: the proof of consent and the profile -------------------------------
