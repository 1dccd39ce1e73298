"""Leaving the bank: the relationship ends, and nothing more is done with the customer's
data but keep what the law and the notices say, for as long as they say."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.catalogue import statement_sha256
from consent.choices import append_event, lock_customer, withdraw_granted
from consent.models import Customer
from infra.effects import Effects, collect
from ledger.models import Action, Channel, ConsentEvent

from . import signals


class CannotClose(Exception):
    """The relationship cannot end on that day (or ended on another). Nothing was written."""


@dataclass(frozen=True)
class ClosedCustomer:
    customer: Customer
    events: list[ConsentEvent]
    effects: Effects = field(default_factory=Effects)
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
    open offers, the API revokes tokens: `signals.customer_closed`) and the login is
    disabled. From then on validity counts nothing of theirs (`consent.validity`), so the
    engine and the pages skip them, and the periods "after the relationship ends" run
    from `on` (`enforce_retention`).

    Idempotent: closing again on the same day changes nothing; on another day is an error.
    """
    with transaction.atomic():
        locked = lock_customer(customer)
        if locked.closed_on is not None:
            if locked.closed_on != on:
                raise CannotClose(
                    _("Klant %(number)s is al af sinds %(date)s.")
                    % {"number": locked.customer_number, "date": locked.closed_on.isoformat()}
                )
            return ClosedCustomer(customer=locked, events=[], already_closed=True)
        _check_may_close(locked, on=on, at=at)
        locked.closed_on = on
        locked.save(update_fields=["closed_on"])
        type(locked.user).objects.filter(pk=locked.user_id).update(is_active=False)
        events, effects = withdraw_granted(
            locked,
            direct_marketing_only=False,
            channel=Channel.SYSTEM,
            actor=None,
            at=at,
            language=locked.language,
        )
        left, _effects = append_event(
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
        effects += collect(signals.customer_closed, customer_id=locked.pk, at=at)
    return ClosedCustomer(customer=locked, events=events, effects=effects)


def _check_may_close(customer: Customer, *, on: dt.date, at: dt.datetime) -> None:
    """What the database's trigger refuses too, said in words first."""
    if on > timezone.localdate(at):
        raise CannotClose(
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
        raise CannotClose(
            _("Klant %(number)s koos nog iets op %(chosen)s, dus vertrok niet op %(date)s.")
            % {
                "number": customer.customer_number,
                "chosen": timezone.localdate(last_own).isoformat(),
                "date": on.isoformat(),
            }
        )
