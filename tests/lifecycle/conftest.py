"""Retention tests travel years ahead. Two clocks move together: the app's (time-machine)
and the database's retention clock (`retention_today()`), which only the owner can set;
the owner functions never count with a later day than it."""

import datetime as dt

import pytest
from django.utils import timezone

from consent.choices import notice_on_screen, record_choice
from ledger.models import Action, Channel


@pytest.fixture
def travel(_frozen_clock, database_date):
    """Move both clocks to noon (Amsterdam) of `day`."""

    def travel(day: dt.date) -> dt.datetime:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        _frozen_clock.move_to(moment)
        database_date(day)
        return moment

    return travel


@pytest.fixture
def grant():
    def grant(customer, purpose_code, *, at=None, channel=Channel.WEB):
        at = at or timezone.now()
        return record_choice(
            customer=customer,
            purpose_code=purpose_code,
            action=Action.GRANTED,
            channel=channel,
            actor=customer.user,
            at=at,
            **notice_on_screen(purpose_code=purpose_code, at=at),
        )

    return grant
