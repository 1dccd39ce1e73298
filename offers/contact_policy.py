"""The contact policy: which of the offers the rules propose a customer actually gets.

The rules say what would fit; the bank promises not to pester. For each customer:

1. nothing twice for one day: a rule offers at most once per as-of date (a rerun of the
   same date adds nothing);
2. one offer per product at a time: none while an offer of that product is open
   (proposed or approved), and when two rules propose the same product, the rule first in
   `offers.rules.RULES` wins;
3. an answer is respected: after an offer of a product was dismissed, accepted or
   rejected, that product is not offered again for `OFFERS_COOLDOWN_DAYS` (180) days;
4. at most `MAX_OPEN_PER_CUSTOMER` (3) open offers; beyond that the order of `RULES`
   decides which proposals go ahead.

What the policy holds back is counted per rule as `suppressed_by_policy` in the run's
counts. It is applied set-based, inside the statement that inserts a chunk's offers
(`offers.engine.write_offers`): `candidates_sql` is that statement's part that judges and
chooses the candidates, `parameters` its values.
"""

import datetime as dt
from typing import Any

from django.conf import settings

from consent.validity import start_of_day

from .models import OPEN_STATUSES, OfferStatus

MAX_OPEN_PER_CUSTOMER = 3
# Answers after which a product rests for the cooling-down period.
ANSWERED = (OfferStatus.DISMISSED, OfferStatus.ACCEPTED, OfferStatus.REJECTED)


def candidates_sql(*, candidate: str, offer: str, product: str) -> str:
    """The CTEs `judged` (every candidate with what the policy looks at), and `chosen`
    (what the policy lets through, with `place`, its rank for the customer), over the
    candidate table and the offer and product tables."""
    return f"""
            judged AS (
                SELECT c.*, p.id AS product_id,
                       EXISTS (SELECT FROM {offer} o WHERE o.customer_id = c.customer_id
                                  AND o.rule = c.rule AND o.as_of = %(as_of)s) AS done_before,
                       EXISTS (SELECT FROM {offer} o WHERE o.customer_id = c.customer_id
                                  AND o.product_id = p.id AND o.status = ANY(%(open)s))
                           AS open_already,
                       EXISTS (SELECT FROM {offer} o WHERE o.customer_id = c.customer_id
                                  AND o.product_id = p.id AND o.status = ANY(%(answered)s)
                                  AND o.status_changed_at >= %(cooldown_from)s) AS cooling_down,
                       (SELECT count(*) FROM {offer} o WHERE o.customer_id = c.customer_id
                           AND o.status = ANY(%(open)s)) AS open_count
                  FROM {candidate} c JOIN {product} p ON p.code = c.product
            ),
            one_per_product AS (
                SELECT DISTINCT ON (customer_id, product_id) * FROM judged
                 WHERE NOT done_before AND NOT open_already AND NOT cooling_down
                 ORDER BY customer_id, product_id, priority
            ),
            chosen AS (
                SELECT * FROM (
                    SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY priority)
                              AS place
                      FROM one_per_product) ranked
                 WHERE open_count + place <= %(max_open)s
            )"""


def parameters(*, as_of: dt.date) -> dict[str, Any]:
    """The values `candidates_sql` reads, for a run as of `as_of`."""
    return {
        "as_of": as_of,
        "open": [status.value for status in OPEN_STATUSES],
        "answered": [status.value for status in ANSWERED],
        "cooldown_from": start_of_day(as_of - dt.timedelta(days=settings.OFFERS_COOLDOWN_DAYS)),
        "max_open": MAX_OPEN_PER_CUSTOMER,
    }
