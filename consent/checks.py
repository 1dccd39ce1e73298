""" "May the bank use this customer for this purpose now, and if not, why?" — for the
bank's systems, one customer at a time (the API's `customers/<number>/may-use/<purpose>`).

Validity is `consent.validity`'s (the SQL of `annotate_validity`); this only reads it for
one customer and names the reason: `why_not_valid`'s codes for a granted consent that no
longer counts, and for no consent at all `not_granted` or `withdrawn`. A purpose with
another legal basis (a contract, a legal obligation) does not ask for consent: it may be
used while the customer is a customer."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ledger.models import Action

from .models import ConsentState, Customer, Purpose
from .validity import CLOSED, annotate_validity, why_not_valid

NOT_GRANTED = "not_granted"  # never chosen
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class UseCheck:
    customer_number: str
    purpose: str
    legal_basis: str
    may_use: bool
    reason: str | None
    since: dt.datetime | None  # when the consent that counts was given


class UnknownCustomer(LookupError):
    pass


def may_use(*, customer_number: str, purpose: Purpose, at: dt.datetime) -> UseCheck:
    customer = Customer.objects.filter(customer_number=customer_number).first()
    if customer is None:
        raise UnknownCustomer(customer_number)

    def answer(allowed: bool, reason: str | None, since: dt.datetime | None = None) -> UseCheck:
        return UseCheck(
            customer_number=customer.customer_number,
            purpose=purpose.code,
            legal_basis=purpose.legal_basis,
            may_use=allowed,
            reason=reason,
            since=since,
        )

    if not purpose.is_consent_based:
        if customer.closed_on is not None:
            return answer(False, CLOSED)
        return answer(True, None)
    state: Any = (
        annotate_validity(
            ConsentState.objects.filter(customer=customer, purpose=purpose).select_related(
                "purpose", "purpose_version"
            ),
            at=at,
        )
        .order_by()
        .first()
    )
    if state is None:
        return answer(False, NOT_GRANTED)
    if state.state != Action.GRANTED:
        return answer(False, WITHDRAWN)
    if state.is_valid:
        return answer(True, None, state.changed_at)
    return answer(False, why_not_valid(state, customer, at=at))
