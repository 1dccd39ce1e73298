"""One source for retention periods: the published notices. The first versions keep their
text and hash; versions published from now on carry their rules inside the hashed text."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from hypothesis import example, given
from hypothesis import strategies as st

from consent.models import PurposeVersion
from consent.publishing import PublishError
from consent.retention_rules import (
    InvalidRules,
    describe_rules,
    machine_line,
    parse_rules,
    periods,
    rules_match_sentences,
)
from infra.dates import add_years, subtract_years
from ledger.models import ConsentEvent
from tests.factories import publish_version
from tests.proof import checkpoint_and_verify

ON = dt.date(2026, 11, 2)
# What the migration that gave the first versions their rules wrote (frozen there).
RETENTION_RULES = importlib.import_module("consent.migrations.0008_retention").RETENTION_RULES


def test_the_published_versions_keep_their_text_and_hash(customer_who_consented):
    """Format 1: no rules line, so every hash the ledger stored still verifies. (Purposes
    added later, such as the contact channels of consent 0013, are published in format 2.)"""
    for version in PurposeVersion.objects.filter(purpose__code__in=RETENTION_RULES):
        assert version.notice_format == 1
        assert "Bewaarregels" not in version.notice_text("nl")
        assert "Retention rules" not in version.notice_text("en")
    event = ConsentEvent.objects.get(customer=customer_who_consented)
    assert event.notice_sha256 == event.purpose_version.notice_sha256("nl")
    checkpoint_and_verify()


def test_the_first_versions_rules_say_what_their_sentences_say(db):
    first = PurposeVersion.objects.filter(purpose__code__in=RETENTION_RULES)
    for version in first.select_related("purpose"):
        rules = parse_rules(version.retention_rules)
        assert version.retention_rules == RETENTION_RULES[version.purpose.code]
        # What the sentence states, the rules state: every period of every rule but one.
        stated = [rule for rule in rules if rule.data != "consent_proof"]
        assert rules_match_sentences(stated, nl=version.retention_nl, en=version.retention_en)
        # The proof-of-consent period is not in the first offers notices' words: it is on
        # the history page and the erasure page, and in the text of every later version.
        if any(rule.data == "consent_proof" for rule in rules):
            assert "5 jaar" not in version.retention_nl


def test_a_new_version_states_its_rules_inside_the_hashed_text(db):
    version = publish_version("offers_spending", material=False)
    assert version.notice_format == 2
    nl, en = version.notice_text("nl"), version.notice_text("en")
    line = "offers=P1Y/offer_closed; data_use=P1Y/read; consent_proof=P5Y/relationship_end"
    assert f"Bewaarregels (machineleesbaar): {line}" in nl
    assert f"Retention rules (machine-readable): {line}" in en
    # The readable sentences are made from the same rules.
    assert version.retention_nl == describe_rules(version.retention_rules, "nl")
    assert "Aanbiedingen en uw antwoorden daarop: 1 jaar nadat het aanbod is afgesloten." in nl
    assert "5 years after the customer relationship ends" in en
    # Other rules, another text, another hash.
    shorter = publish_version(
        "offers_spending",
        material=False,
        retention_rules=[{"data": "offers", "years": 1, "from": "offer_closed"}],
    )
    assert shorter.notice_sha256("nl") != version.notice_sha256("nl")
    assert "consent_proof" not in shorter.notice_text("nl")


def test_typed_retention_sentences_give_way_to_the_rules(db):
    version = publish_version("offers_spending", material=False, retention_nl="Voor altijd.")
    assert version.retention_nl == describe_rules(version.retention_rules, "nl")
    assert "altijd" not in version.notice_text("nl")


@pytest.mark.parametrize(
    "rules",
    [
        [{"data": "offers", "years": 1, "from": "the_moon"}],
        [{"data": "transactions", "years": 1, "from": "offer_closed"}],
        [{"data": "dreams", "years": 1, "from": "read"}],
        [{"data": "offers", "years": 0, "from": "offer_closed"}],
        [{"data": "offers", "years": "1", "from": "offer_closed"}],
        [{"data": "offers", "years": 1, "from": "offer_closed", "why": "x"}],
        [
            {"data": "offers", "years": 1, "from": "read"},
            {"data": "offers", "years": 2, "from": "read"},
        ],
        [],
    ],
)
def test_publishing_refuses_rules_it_cannot_enforce(db, rules):
    with pytest.raises(PublishError):
        publish_version("offers_spending", material=False, retention_rules=rules)
    assert PurposeVersion.objects.filter(purpose__code="offers_spending").count() == 1


def test_the_wording_is_fixed_per_rule():
    rules = [
        {"data": "transactions", "years": 7, "from": "relationship_end", "because": "tax"},
        {"data": "transactions", "years": 5, "from": "transaction", "because": "wwft"},
    ]
    assert describe_rules(rules, "nl") == (
        "Uw betalingen: tot het laatste van: 7 jaar na het einde van de klantrelatie"
        " (de belastingwet verplicht ons dit zo lang te bewaren) en 5 jaar na de transactie"
        " (de wet tegen witwassen en terrorismefinanciering, de Wwft, verplicht ons dit zo"
        " lang te bewaren)."
    )
    assert describe_rules(rules[:1], "en") == (
        "Your payments: 7 years after the customer relationship ends (tax law requires us to"
        " keep it that long)."
    )
    assert machine_line(rules) == "transactions=P7Y/relationship_end; transactions=P5Y/transaction"
    with pytest.raises(InvalidRules):
        parse_rules("7 years")


def test_several_notices_keep_the_same_data_until_the_last_rule_runs_out(db):
    in_effect = periods(on=ON)
    transactions = in_effect["transactions"]
    assert transactions.years("transaction") == 5  # fraud detection
    assert transactions.years("relationship_end") == 7  # payments
    assert {s.purpose_code for s in transactions.stated} == {"payments", "fraud_prevention"}
    assert in_effect["offers"].years("offer_closed") == 1
    assert in_effect["consent_proof"].years("relationship_end") == 5


def test_a_version_counts_from_the_day_it_takes_effect(db):
    later = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    publish_version(
        "offers_spending",
        material=False,
        at=later,
        retention_rules=[
            {"data": "offers", "years": 2, "from": "offer_closed"},
            {"data": "consent_proof", "years": 5, "from": "relationship_end"},
        ],
    )
    assert periods(on=ON)["offers"].years("offer_closed") == 1
    assert periods(on=dt.date(2027, 1, 2))["offers"].years("offer_closed") == 2


def test_the_owner_functions_count_the_same_years_as_the_app(db):
    publish_version(
        "offers_income",
        material=False,
        retention_rules=[{"data": "offers", "years": 3, "from": "offer_closed"}],
    )
    in_effect = periods(on=ON)
    with connection.cursor() as cursor:
        for kind, period in in_effect.items():
            for anchor in period.anchors:
                cursor.execute("SELECT retention_years(%s, %s, %s)", [kind, anchor, ON])
                assert cursor.fetchone()[0] == period.years(anchor), (kind, anchor)


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2200, 12, 31)))
@example(dt.date(2000, 2, 28))  # a leap year's 28 February, four years after a 29th
@example(dt.date(2033, 2, 28))  # a common year's, five years after a 29th
@example(dt.date(2032, 2, 29))
@example(dt.date(2100, 2, 28))  # 2100 is no leap year
def test_a_period_has_run_out_exactly_from_its_cutoff_on(day):
    """`start <= subtract_years(day, n)` exactly when `add_years(start, n) <= day`, around
    29 February too."""
    for years in (1, 4, 5, 7):
        cutoff = subtract_years(day, years)
        assert add_years(cutoff, years) <= day
        assert add_years(cutoff + dt.timedelta(days=1), years) > day


def test_the_database_adds_years_as_the_app_does(db):
    with connection.cursor() as cursor:
        for start in (dt.date(2028, 2, 29), dt.date(2027, 3, 1), dt.date(2026, 12, 31)):
            cursor.execute("SELECT (%s::date + make_interval(years => 5))::date", [start])
            assert cursor.fetchone()[0] == add_years(start, 5)
