"""The readable export writes machine formats as people read them: amounts, dates and
times in the language of the page (`consent_tags`), never "EUR -62.10" or "1988-03-14"."""

import pytest
from django.template import Context, Template
from django.utils import translation

from consent.templatetags.consent_tags import day, iban, moment, money


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [
        ("nl", "4200.00", "€ 4.200,00"),
        ("nl", "-62.10", "€ -62,10"),
        ("nl", "0.5", "€ 0,50"),
        ("en", "4200.00", "€4,200.00"),
        ("en", "-62.10", "-€62.10"),
        ("en", "1234567.89", "€1,234,567.89"),
    ],
)
def test_amounts_are_written_as_the_language_writes_them(language, amount, expected):
    with translation.override(language):
        assert money(amount, "EUR") == expected


def test_another_currency_keeps_its_code():
    with translation.override("nl"):
        assert money("-10.00", "USD") == "USD -10,00"


def test_times_are_shown_in_local_time_like_the_history():
    template = Template('{% load consent_tags %}{{ at|moment|date:"j F Y, H:i" }}')
    with translation.override("nl"):
        # 00:26 UTC on 7 December is 01:26 in Amsterdam.
        assert template.render(Context({"at": "2026-12-07T00:26:00+00:00"})) == (
            "7 december 2026, 01:26"
        )
    with translation.override("en"):
        assert template.render(Context({"at": "2026-07-05T09:30:00+00:00"})) == (
            "5 July 2026, 11:30"
        )


def test_a_days_date_is_the_local_day():
    assert str(day("1988-03-14")) == "1988-03-14"
    # 23:30 UTC on 31 December is already 1 January in Amsterdam.
    assert str(day("2026-12-31T23:30:00+00:00")) == "2027-01-01"
    assert day(None) is None and moment(None) is None


def test_an_iban_is_grouped_by_four():
    assert iban("NL50DEMO0001000010") == "NL50 DEMO 0001 0000 10"
