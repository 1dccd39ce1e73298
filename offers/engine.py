"""The offers engine (DESIGN §7): gate → rules → contact policy → offers, set-based.

A run is a sequence of chunks; a chunk is a function of (run, customer-id slice) and
commits on its own, so an interrupted run is completed by running again: every write
is keyed (one offer per customer, rule and as-of date; one open offer per customer and
product, as unique indexes), so redone work writes nothing twice. The default run is
one chunk, which reads the transactions table once (DESIGN §12, §13).
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone

from consent.models import ConsentEvent, ConsentState, Customer
from consent.validity import start_of_day, valid_consents

from . import gate, transitions
from .models import (
    OPEN_STATUSES,
    ActorKind,
    Cause,
    Offer,
    OfferRun,
    OfferStatus,
    Product,
    RunStatus,
)
from .rules import RULES, RULES_BY_CODE, Proposal, Rule

ADVISORY_LOCK = 4_250_711  # one engine run at a time, whatever the process
MAX_OPEN_PER_CUSTOMER = 3
ANSWERED = (OfferStatus.DISMISSED, OfferStatus.ACCEPTED, OfferStatus.REJECTED)


class RunInProgress(Exception):
    pass


@dataclass(frozen=True)
class Candidate:
    """A rule fired for a customer: what the engine would like to offer."""

    rule: str
    customer_id: int
    consent_event_ids: tuple[int, ...]
    proposal: Proposal


def select_rules(codes: Iterable[str] | None = None) -> tuple[Rule, ...]:
    if not codes:
        return RULES
    unknown = set(codes) - set(RULES_BY_CODE)
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(sorted(unknown))}")
    return tuple(rule for rule in RULES if rule.code in codes)


def evaluate(
    *, rules: Iterable[Rule], as_of: dt.date, at: dt.datetime, customers=None, run_id=None
) -> tuple[list[Candidate], Counter]:
    """Ask the gate, let every rule decide. Returns candidates and how many customers each
    rule considered (those with valid consent at `at`, when the data is read; `as_of`
    only places the data windows). With `run_id`, the gate logs what it read."""
    considered: Counter = Counter()
    candidates = []
    rows = gate.features(rules=rules, as_of=as_of, at=at, customers=customers, run_id=run_id)
    for row in rows:
        considered[row.rule] += 1
        proposal = RULES_BY_CODE[row.rule].decide(row.features)
        if proposal is not None:
            candidates.append(Candidate(row.rule, row.customer_id, row.consent_event_ids, proposal))
    return candidates, considered


def customer_slices(chunk_size: int | None) -> list[tuple[int, int]]:
    bounds = Customer.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return []
    first, last = bounds["first"], bounds["last"]
    if not chunk_size:
        return [(first, last)]
    return [(lo, min(lo + chunk_size - 1, last)) for lo in range(first, last + 1, chunk_size)]


def generate_offers(
    *,
    as_of: dt.date,
    now: dt.datetime,
    rule_codes: Iterable[str] | None = None,
    chunk_size: int | None = None,
    progress=None,
    clock=timezone.now,
) -> OfferRun:
    """One engine run starting at `now`. `progress(text)` is told about each step;
    `clock()` only stamps when the run finished (its duration is a measurement)."""
    rules = select_rules(rule_codes)
    say = progress or (lambda text: None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
        if not cursor.fetchone()[0]:
            raise RunInProgress("another generate_offers run is in progress")
    try:
        # We hold the lock, so any run still marked running was interrupted.
        OfferRun.objects.filter(status=RunStatus.RUNNING).update(status=RunStatus.INTERRUPTED)
        run = OfferRun.objects.create(
            as_of=as_of,
            rules=[rule.code for rule in rules],
            started_at=now,
            counts={rule.code: _zero_counts() for rule in rules},
        )
        try:
            run.expired = expire_overdue(today=timezone.localdate(now), at=now, run=run)
            run.retracted = retract_where_consent_ended(at=now, run=run)
            run.save(update_fields=["expired", "retracted"])
            say(f"expired {run.expired}, retracted {run.retracted} (consent no longer valid)")
            slices = customer_slices(chunk_size)
            for number, customers in enumerate(slices, start=1):
                say(f"chunk {number}/{len(slices)}: customers {customers[0]}–{customers[1]}")
                counts = run_chunk(run=run, rules=rules, customers=customers, now=now)
                say(
                    f"chunk {number}/{len(slices)} done: "
                    + "; ".join(f"{code} {c['offered']} offered" for code, c in counts.items())
                )
        except BaseException:
            OfferRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
            raise
        run.refresh_from_db()
        run.status = RunStatus.FINISHED
        run.finished_at = max(now, clock())
        run.save(update_fields=["status", "finished_at"])
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])


def _zero_counts():
    return {"considered": 0, "candidates": 0, "offered": 0, "already_offered": 0,
            "suppressed_by_policy": 0}  # fmt: skip


@transaction.atomic
def run_chunk(*, run: OfferRun, rules: tuple[Rule, ...], customers, now: dt.datetime) -> dict:
    """Everything for one slice of customers, in one transaction."""
    # Consent is judged when the data is read: at the run's start, whatever its as-of date.
    candidates, considered = evaluate(
        rules=rules, as_of=run.as_of, at=run.started_at, customers=customers, run_id=run.pk
    )
    written = write_offers(run=run, candidates=candidates, now=now)
    proposed = Counter(c.rule for c in candidates)
    counts = {}
    locked = OfferRun.objects.select_for_update().get(pk=run.pk)
    for rule in rules:
        offered, already = written[rule.code]
        chunk = {
            "considered": considered[rule.code],
            "candidates": proposed[rule.code],
            "offered": offered,
            "already_offered": already,
            "suppressed_by_policy": proposed[rule.code] - offered - already,
        }
        total = locked.counts.setdefault(rule.code, _zero_counts())
        for name, value in chunk.items():
            total[name] = total.get(name, 0) + value
        counts[rule.code] = chunk
    locked.chunks_done = [*locked.chunks_done, list(customers)]
    locked.save(update_fields=["counts", "chunks_done"])
    return counts


def write_offers(*, run: OfferRun, candidates: list[Candidate], now: dt.datetime) -> dict:
    """Apply the contact policy and insert the offers, in a few statements.

    Returns {rule: (offered, already offered for this as-of date)}.
    """
    result = defaultdict(lambda: (0, 0))
    if not candidates:
        return result
    offer, relied = Offer._meta.db_table, Offer.relied_on.through._meta.db_table
    product, state, customer = (
        Product._meta.db_table,
        ConsentState._meta.db_table,
        Customer._meta.db_table,
    )
    priority = {rule.code: i for i, rule in enumerate(RULES)}
    with connection.cursor() as cursor:
        # Within one transaction (several chunks under a test, say) the table may exist.
        cursor.execute("DROP TABLE IF EXISTS offer_candidate")
        cursor.execute(
            "CREATE TEMPORARY TABLE offer_candidate (customer_id bigint, rule text,"
            " product text, priority int, event_ids bigint[], explanation_nl text,"
            " explanation_en text, evidence_nl text, evidence_en text, staff_evidence_nl text,"
            " staff_evidence_en text) ON COMMIT DROP"
        )
        with cursor.copy("COPY offer_candidate FROM STDIN") as copy:
            for c in candidates:
                p = c.proposal
                copy.write_row(
                    (c.customer_id, c.rule, RULES_BY_CODE[c.rule].product, priority[c.rule],
                     list(c.consent_event_ids), p.explanation_nl, p.explanation_en,
                     p.evidence_nl, p.evidence_en, p.staff_evidence_nl, p.staff_evidence_en)
                )  # fmt: skip
        # A customer withdrawing right now must not end up with a fresh offer: lock the
        # customers (as a withdrawal does first) and the consent states relied on, then
        # drop candidates whose consent changed since the gate read it. A withdrawal
        # waiting on these locks retracts the new offers once this chunk commits.
        cursor.execute(
            f"SELECT FROM {customer} WHERE id IN (SELECT customer_id FROM offer_candidate)"
            " ORDER BY id FOR KEY SHARE"
        )
        cursor.execute(
            f"SELECT FROM {state} WHERE event_id IN"
            " (SELECT unnest(event_ids) FROM offer_candidate) FOR SHARE"
        )
        cursor.execute(
            f"""DELETE FROM offer_candidate c WHERE EXISTS (
                    SELECT FROM unnest(c.event_ids) e(id) WHERE NOT EXISTS (
                        SELECT FROM {state} s WHERE s.event_id = e.id AND s.state = 'granted'))"""
        )
        open_statuses = [s.value for s in OPEN_STATUSES]
        cursor.execute(
            f"""
            WITH judged AS (
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
                  FROM offer_candidate c JOIN {product} p ON p.code = c.product
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
            ),
            inserted AS (
                INSERT INTO {offer} (customer_id, product_id, rule, run_id, as_of, status,
                                     explanation_nl, explanation_en, evidence_nl, evidence_en,
                                     staff_evidence_nl, staff_evidence_en, created_at,
                                     valid_until, status_changed_at, rejection_reason)
                SELECT customer_id, product_id, rule, %(run)s, %(as_of)s, 'proposed',
                       explanation_nl, explanation_en, evidence_nl, evidence_en,
                       staff_evidence_nl, staff_evidence_en, %(now)s, %(valid_until)s, %(now)s, ''
                  FROM chosen
                ON CONFLICT DO NOTHING
                RETURNING id, customer_id, rule
            ),
            linked AS (
                INSERT INTO {relied} (offer_id, consentevent_id)
                SELECT i.id, unnest(c.event_ids)
                  FROM inserted i JOIN chosen c USING (customer_id, rule)
            ),
            proposal_events AS ({transitions.proposal_events_sql(offers_cte="inserted")})
            SELECT rule, 0, count(*) FILTER (WHERE done_before) FROM judged GROUP BY rule
            UNION ALL
            SELECT rule, count(*), 0 FROM inserted GROUP BY rule
            """,
            {
                "as_of": run.as_of,
                "open": open_statuses,
                "answered": [s.value for s in ANSWERED],
                "cooldown_from": start_of_day(
                    run.as_of - dt.timedelta(days=settings.OFFERS_COOLDOWN_DAYS)
                ),
                "max_open": MAX_OPEN_PER_CUSTOMER,
                "run": run.pk,
                "now": now,
                "valid_until": run.as_of + dt.timedelta(days=settings.OFFERS_VALID_DAYS),
            },
        )
        for rule, offered, already in cursor.fetchall():
            before = result[rule]
            result[rule] = (before[0] + offered, before[1] + already)
    return result


def expire_overdue(*, today: dt.date, at: dt.datetime, run: OfferRun | None = None) -> int:
    """Open offers past their `valid_until` become `expired` (one statement, with their
    events)."""
    return len(
        transitions.change_status(
            offers=Offer.objects.filter(status__in=OPEN_STATUSES, valid_until__lt=today),
            to=OfferStatus.EXPIRED,
            cause=Cause.PAST_VALID_UNTIL,
            actor_kind=ActorKind.SYSTEM,
            at=at,
            run=run,
        )
    )


def retract_where_consent_ended(*, at: dt.datetime, run: OfferRun | None = None) -> int:
    """Open offers relying on a purpose for which the customer no longer has valid
    consent (it expired, a material new version took effect, …) become `retracted`.
    Withdrawals retract at once through the hook; this catches consent that lapsed,
    including a material version published ahead of its date, once that date comes."""
    still_valid = valid_consents(at=at).filter(
        customer_id=OuterRef("customer_id"), purpose_id=OuterRef("purpose_id")
    )
    lapsed = ConsentEvent.objects.filter(~Exists(still_valid))
    return len(
        transitions.change_status(
            offers=Offer.objects.filter(status__in=OPEN_STATUSES, relied_on__in=lapsed),
            to=OfferStatus.RETRACTED,
            cause=Cause.CONSENT_LAPSED,
            actor_kind=ActorKind.SYSTEM,
            at=at,
            run=run,
        )
    )


def retract_on_withdrawal(*, customer_id, purpose_code, event, at) -> dict[str, int]:
    """The `consent.hooks` hook: runs inside the withdrawal's transaction, and names the
    withdrawal (`event`) on each retraction."""
    retracted = transitions.change_status(
        offers=Offer.objects.filter(
            customer_id=customer_id,
            status__in=OPEN_STATUSES,
            relied_on__purpose__code=purpose_code,
        ),
        to=OfferStatus.RETRACTED,
        cause=Cause.CONSENT_WITHDRAWN,
        actor_kind=ActorKind.SYSTEM,
        at=at,
        consent_event=event,
    )
    return {"offers_retracted": len(retracted)}


def retract_on_material_change(*, purpose_code, version, at) -> dict[str, int]:
    """The `consent.hooks` material-change hook: runs inside the publication's transaction.

    Every open offer that relied on a consent to an older version of the purpose is
    retracted at once, in one UPDATE: that consent no longer counts (DESIGN §4), so the
    offer must not be approved or shown, whatever the engine's next run would find.
    """
    retracted = transitions.change_status(
        offers=Offer.objects.filter(
            status__in=OPEN_STATUSES,
            relied_on__purpose__code=purpose_code,
            relied_on__purpose_version__version__lt=version.version,
        ),
        to=OfferStatus.RETRACTED,
        cause=Cause.MATERIAL_CHANGE,
        actor_kind=ActorKind.SYSTEM,
        at=at,
        purpose_version=version,
    )
    return {"offers_retracted": len(retracted)}


def offers_retracted_by_material_change(*, purpose_code, at) -> dict[str, int]:
    """The `consent.hooks` preview: how many open offers a material new version of the
    purpose would retract if it took effect at `at` (every open offer that relies on a
    consent to the purpose; they were all given to an older version). Reads only."""
    count = (
        Offer.objects.filter(status__in=OPEN_STATUSES, relied_on__purpose__code=purpose_code)
        .distinct()
        .count()
    )
    return {"offers_retracted": count}
