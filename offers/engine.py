"""The offers engine (docs/gate.md): gate → rules → contact policy → offers, set-based.

A run (`OfferRun`) is a set of chunks (`OfferRunChunk`), each a slice of customer ids.
A chunk is a function of (run, customer slice) and commits on its own, in one
transaction with its row marked `done`: its offers, their events and the data-use log
are there with it, or none of them are. Every write is keyed (one offer per customer,
rule and as-of date; one open offer per customer and product, as unique indexes), so
redone work writes nothing twice.

Who does the chunks is the caller's choice: this process, one after the other
(`generate_offers`, the default, no worker needed; one chunk unless asked otherwise,
which reads the transactions table once: README, Benchmarks), or `offers_worker`
processes on any number of machines (README, Runs and workers), one task per chunk
(`offers.tasks`). Either way:

- `open_run` opens the run for an as-of date: a new one, whose expiry and retraction
  step runs once, in the transaction that creates it; or, when the date's latest run is
  unfinished, that run, resumed: only its unfinished chunks are done again. Two runs for
  one date are never open together: the database refuses the second
  (`one_open_run_per_as_of`), whichever process or machine asks.
- `execute_chunk` does one chunk, holding a lock on the chunk's row for as long as it
  works, so a chunk marked `running` whose row nobody holds was left by a process that
  died (its lock went with its connection).
- `settle_run` finishes the run when its last chunk is done; its counts are then the sum
  of its chunks'.

Consent is judged at the run's start (`run.started_at`) and offers are stamped with it,
whichever process does a chunk and whenever: nothing here reads the clock for a
decision. `clock()` only stamps when chunks and runs ended (measurements).
"""

import datetime as dt
import os
import socket
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone

from banking.models import Product
from consent.models import ConsentState, Customer
from consent.validity import valid_consents
from infra.dbroles import STAGING_SCHEMA
from infra.progress import Progress
from ledger.models import ConsentEvent

from . import contact_policy, gate, transitions
from .gate import CustomerSlice
from .models import (
    OPEN_RUN_STATUSES,
    OPEN_STATUSES,
    ActorKind,
    Cause,
    ChunkStatus,
    Offer,
    OfferRun,
    OfferRunChunk,
    OfferStatus,
    RunStatus,
)
from .rules import RULES, RULES_BY_CODE, Proposal, Rule

COUNT_NAMES = ("considered", "candidates", "offered", "already_offered", "suppressed_by_policy")
# {rule code: {count name: n}}, per chunk and summed per run.
RunCounts = dict[str, dict[str, int]]
# While a chunk works, PostgreSQL checks this often whether the process that asked is
# still there, and if not stops the work and lets go of the chunk (it would otherwise
# finish a long read for nobody, holding the chunk, before noticing).
LOST_CLIENT_CHECK = "2s"


class RunInProgress(Exception):
    """The as-of date's run is open elsewhere, or cannot be resumed as asked."""


class RunUnfinished(RunInProgress):
    """The date's run is unfinished with other rules than asked: resume that one first."""

    def __init__(self, message: str, run: OfferRun):
        super().__init__(message)
        self.run = run


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
    *,
    rules: Iterable[Rule],
    as_of: dt.date,
    at: dt.datetime,
    customers: CustomerSlice | None = None,
    run_id: int | None = None,
) -> tuple[list[Candidate], Counter[str]]:
    """Ask the gate, let every rule decide. Returns candidates and how many customers each
    rule considered (those with valid consent at `at`, when the data is read; `as_of`
    only places the data windows). With `run_id`, the gate logs what it read."""
    considered: Counter[str] = Counter()
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


def this_process() -> str:
    """How a chunk names the process doing it: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Runs -------------------------------------------------------------------------------
def generate_offers(
    *,
    as_of: dt.date,
    now: dt.datetime,
    rule_codes: Iterable[str] | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    clock: Callable[[], dt.datetime] = timezone.now,
) -> OfferRun:
    """One engine run starting at `now`, done in this process (or the date's unfinished
    run, resumed). `progress` is told about each step."""
    say = (progress or Progress.silent()).say
    run, resumed = open_run(as_of=as_of, now=now, rule_codes=rule_codes, chunk_size=chunk_size)
    chunks = list(run.chunks.order_by("number").values_list("pk", "number", "status"))
    if resumed:
        left = sum(status != ChunkStatus.DONE for _, _, status in chunks)
        say(
            f"resuming run {run.pk} of {run.started_at:%Y-%m-%d %H:%M}: {left} of"
            f" {len(chunks)} chunks left"
        )
    else:
        say(f"expired {run.expired}, retracted {run.retracted} (consent no longer valid)")
    worker = this_process()
    try:
        for chunk_id, number, status in chunks:
            if status == ChunkStatus.DONE:
                continue
            say(f"chunk {number}/{len(chunks)}")
            chunk = execute_chunk(chunk_id=chunk_id, worker=worker, clock=clock, wait=True)
            # Waiting for its lock, this process always gets the chunk (None: not ours).
            assert chunk is not None
            say(f"chunk {number}/{len(chunks)} {chunk.status}: " + describe_counts(chunk.counts))
    except BaseException:
        OfferRun.objects.filter(pk=run.pk, status__in=OPEN_RUN_STATUSES).update(
            status=RunStatus.FAILED
        )
        raise
    return settle_run(run_id=run.pk, clock=clock)


def open_run(
    *,
    as_of: dt.date,
    now: dt.datetime,
    rule_codes: Iterable[str] | None = None,
    chunk_size: int | None = None,
    started_by: User | None = None,
) -> tuple[OfferRun, bool]:
    """The run for `as_of` and whether it was resumed: the date's latest run when it is
    unfinished (queued, running or failed), else a new run starting at `now`, with its
    chunks and its expiry and retraction step done. Raises RunInProgress when another
    process opens a run for the date at the same moment (the database refuses it)."""
    rules = select_rules(rule_codes)
    with transaction.atomic():
        latest = OfferRun.objects.select_for_update().filter(as_of=as_of).order_by("-pk").first()
        if latest is not None and latest.status != RunStatus.FINISHED:
            if latest.chunks.exists():
                return _resume(latest, rule_codes=rule_codes, rules=rules), True
            # A run from before runs had chunks rows, stopped half-way: it stays as it was.
            if latest.is_open:
                latest.status = RunStatus.INTERRUPTED
                latest.save(update_fields=["status"])
        return _create(
            as_of=as_of, now=now, rules=rules, chunk_size=chunk_size, started_by=started_by
        ), False


def _create(
    *,
    as_of: dt.date,
    now: dt.datetime,
    rules: tuple[Rule, ...],
    chunk_size: int | None,
    started_by: User | None,
) -> OfferRun:
    try:
        with transaction.atomic():
            run = OfferRun.objects.create(
                as_of=as_of,
                rules=[rule.code for rule in rules],
                started_at=now,
                status=RunStatus.QUEUED,
                counts={rule.code: zero_counts() for rule in rules},
                started_by=started_by,
            )
    except IntegrityError as exc:
        if _constraint(exc) == "one_open_run_per_as_of":
            raise RunInProgress(f"a run for {as_of} is being opened by another process") from None
        raise
    # Once per run: in the transaction that creates it, so a resumed run never does it again.
    run.expired = expire_overdue(today=timezone.localdate(now), at=now, run=run)
    run.retracted = retract_where_consent_ended(at=now, run=run)
    slices = customer_slices(chunk_size)
    OfferRunChunk.objects.bulk_create(
        OfferRunChunk(
            run=run, number=number, first_customer_id=lo, last_customer_id=hi, queued_at=now
        )
        for number, (lo, hi) in enumerate(slices, start=1)
    )
    fields = ["expired", "retracted"]
    if not slices:  # no customers: nothing to do, done
        run.status, run.finished_at = RunStatus.FINISHED, now
        fields += ["status", "finished_at"]
    run.save(update_fields=fields)
    return run


def _resume(
    run: OfferRun, *, rule_codes: Iterable[str] | None, rules: tuple[Rule, ...]
) -> OfferRun:
    if rule_codes and {rule.code for rule in rules} != set(run.rules):
        raise RunUnfinished(
            f"run {run.pk} for {run.as_of} is unfinished with rules {', '.join(run.rules)};"
            " resume it with those rules, or without naming any",
            run,
        )
    # Failed chunks, and chunks left `running` by a process that died (nobody holds
    # their row), start afresh. Chunks another live process holds stay its own.
    stuck = run.chunks.filter(status__in=[ChunkStatus.FAILED, ChunkStatus.RUNNING])
    for chunk in stuck.select_for_update(skip_locked=True):
        chunk.status, chunk.attempts, chunk.task_id = ChunkStatus.QUEUED, 0, ""
        chunk.save(update_fields=["status", "attempts", "task_id"])
    if not run.is_open:
        run.status, run.finished_at = RunStatus.QUEUED, None
        try:
            with transaction.atomic():
                run.save(update_fields=["status", "finished_at"])
        except IntegrityError as exc:
            if _constraint(exc) == "one_open_run_per_as_of":
                raise RunInProgress(f"another run for {run.as_of} is open") from None
            raise
    return run


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def settle_run(*, run_id: int, clock: Callable[[], dt.datetime]) -> OfferRun:
    """When no chunk is left to do: the run is finished, its counts the sum of its
    chunks' (or failed, when a chunk failed for good). Otherwise nothing changes."""
    with transaction.atomic():
        run = OfferRun.objects.select_for_update().get(pk=run_id)
        if not run.is_open:
            return run
        chunks = list(run.chunks.values_list("status", "counts"))
        statuses = Counter(status for status, _ in chunks)
        if statuses[ChunkStatus.QUEUED] or statuses[ChunkStatus.RUNNING]:
            return run
        if statuses[ChunkStatus.FAILED]:
            run.status = RunStatus.FAILED
            run.save(update_fields=["status"])
            return run
        run.counts = sum_counts(run.rules, (counts for _, counts in chunks))
        run.status = RunStatus.FINISHED
        run.finished_at = max(run.started_at, clock())
        run.save(update_fields=["counts", "status", "finished_at"])
        return run


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_NAMES, 0)


def sum_counts(rule_codes: Iterable[str], chunk_counts: Iterable[RunCounts]) -> RunCounts:
    total = {code: zero_counts() for code in rule_codes}
    for counts in chunk_counts:
        for code, numbers in counts.items():
            into = total.setdefault(code, zero_counts())
            for name, value in numbers.items():
                into[name] = into.get(name, 0) + value
    return total


def describe_counts(counts: RunCounts) -> str:
    return "; ".join(f"{code} {c['offered']} offered" for code, c in counts.items()) or "-"


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: its chunks by status, and what the done ones counted."""

    run: OfferRun
    chunks: list[OfferRunChunk]

    @property
    def total(self) -> int:
        return len(self.chunks)

    def count(self, status: str) -> int:
        return sum(chunk.status == status for chunk in self.chunks)

    @property
    def done(self) -> int:
        return self.count(ChunkStatus.DONE)

    @property
    def running(self) -> int:
        return self.count(ChunkStatus.RUNNING)

    @property
    def failed(self) -> int:
        return self.count(ChunkStatus.FAILED)

    @property
    def counts(self) -> RunCounts:
        return sum_counts(
            self.run.rules, (c.counts for c in self.chunks if c.status == ChunkStatus.DONE)
        )

    @property
    def offered(self) -> int:
        return sum(c["offered"] for c in self.counts.values())


def run_progress(*, run_id: int) -> RunProgress:
    run = OfferRun.objects.get(pk=run_id)
    return RunProgress(run=run, chunks=list(run.chunks.order_by("number")))


# --- Chunks -----------------------------------------------------------------------------
# A worker holds a session lock on its chunk (this class, the chunk's id) from the moment
# it marks the chunk running until it is done with it. The row's lock covers only the
# work; between the two a supervisor must not take a live worker's chunk for an abandoned
# one. The lock dies with the worker's connection, so a dead worker's chunk is free.
CHUNK_WORKER_LOCK = 4250


def worker_alive(chunk_id: int) -> bool:
    """Some process is doing the chunk (it holds the chunk's session lock). Inside a
    transaction: a lock this takes is held until it ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [CHUNK_WORKER_LOCK, chunk_id])
        return not cursor.fetchone()[0]


def execute_chunk(
    *,
    chunk_id: int,
    worker: str,
    clock: Callable[[], dt.datetime],
    wait: bool = False,
    max_attempts: int | None = None,
) -> OfferRunChunk | None:
    """Do one chunk, as `worker`. Returns the chunk as it ended, or None when another
    process holds it (then it is theirs to do). `wait`: wait for that process instead.

    Two transactions. The first counts the attempt and marks the chunk `running` (so an
    attempt whose process is killed is counted too); a chunk found `running` there was
    left by a process that died, and after `max_attempts` such attempts it fails. The
    second holds the row's lock while it works and commits the work with the row `done`.
    An error marks the chunk `failed` and is raised.
    """
    with transaction.atomic():
        chunk = _locked_chunk(chunk_id, wait=wait)
        if chunk is None or chunk.status in (ChunkStatus.DONE, ChunkStatus.FAILED):
            return chunk
        if chunk.status == ChunkStatus.RUNNING and worker_alive(chunk.pk):
            return None  # its worker is between its two transactions: theirs to do
        if max_attempts and chunk.give_up_if_abandoned(max_attempts):
            return chunk
        chunk.status, chunk.attempts, chunk.worker = ChunkStatus.RUNNING, chunk.attempts + 1, worker
        chunk.started_at, chunk.finished_at, chunk.error = clock(), None, ""
        chunk.save(
            update_fields=["status", "attempts", "worker", "started_at", "finished_at", "error"]
        )
        OfferRun.objects.filter(pk=chunk.run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [CHUNK_WORKER_LOCK, chunk.pk])
    try:
        with transaction.atomic():
            # The chunk is ours now (marked running, its session lock held): wait for its
            # row, which a supervisor may hold for a moment while it looks. Skipping it
            # here left the chunk running with nobody on it, to be done a second time.
            chunk = _locked_chunk(chunk_id, wait=True)
            if chunk is None or chunk.status in (ChunkStatus.DONE, ChunkStatus.FAILED):
                return chunk
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('client_connection_check_interval', %s, true)",
                    [LOST_CLIENT_CHECK],
                )
            run = chunk.run
            chunk.counts = run_chunk(
                run=run,
                rules=select_rules(run.rules),
                customers=(chunk.first_customer_id, chunk.last_customer_id),
                now=run.started_at,
            )
            chunk.status, chunk.finished_at = ChunkStatus.DONE, clock()
            chunk.save(update_fields=["counts", "status", "finished_at"])
            return chunk
    except Exception as exc:
        with transaction.atomic():
            failed = _locked_chunk(chunk_id, wait=True)
            if failed is not None and failed.status != ChunkStatus.DONE:
                failed.status, failed.error = ChunkStatus.FAILED, f"{type(exc).__name__}: {exc}"
                failed.save(update_fields=["status", "error"])
        raise
    finally:
        _let_go_of(chunk_id)


def _let_go_of(chunk_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CHUNK_WORKER_LOCK, chunk_id])
    except DatabaseError:
        pass  # the connection is gone, and the lock with it


def _locked_chunk(chunk_id: int, *, wait: bool) -> OfferRunChunk | None:
    # Only the chunk's row: locking its run too would make every chunk wait for the others.
    chunks = OfferRunChunk.objects.select_related("run").select_for_update(
        skip_locked=not wait, of=("self",)
    )
    return chunks.filter(pk=chunk_id).first()


@transaction.atomic
def run_chunk(
    *, run: OfferRun, rules: tuple[Rule, ...], customers: CustomerSlice, now: dt.datetime
) -> RunCounts:
    """Everything for one slice of customers, in one transaction. Returns the slice's
    counts per rule; its offers, their events and the data-use log are written."""
    # Consent is judged when the data is read: at the run's start, whatever its as-of date.
    candidates, considered = evaluate(
        rules=rules, as_of=run.as_of, at=run.started_at, customers=customers, run_id=run.pk
    )
    written = write_offers(run=run, candidates=candidates, now=now)
    proposed = Counter(c.rule for c in candidates)
    counts = {}
    for rule in rules:
        offered, already = written[rule.code]
        counts[rule.code] = {
            "considered": considered[rule.code],
            "candidates": proposed[rule.code],
            "offered": offered,
            "already_offered": already,
            "suppressed_by_policy": proposed[rule.code] - offered - already,
        }
    return counts


def write_offers(
    *, run: OfferRun, candidates: list[Candidate], now: dt.datetime
) -> dict[str, tuple[int, int]]:
    """Apply the contact policy (`contact_policy`) and insert the offers, in a few
    statements.

    Returns {rule: (offered, already offered for this as-of date)}.
    """
    result: defaultdict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    if not candidates:
        return result
    offer, relied = Offer._meta.db_table, Offer.relied_on.through._meta.db_table
    product, state, customer = (
        Product._meta.db_table,
        ConsentState._meta.db_table,
        Customer._meta.db_table,
    )
    priority = {rule.code: i for i, rule in enumerate(RULES)}
    # A scratch table of this transaction (the chunk's): the runtime role may create no
    # temporary tables (infra/dbroles.py), so an unlogged one in the staging schema,
    # named for this call alone and dropped before the chunk commits. Rolled back, it
    # was never there.
    candidate = f"{STAGING_SCHEMA}.offer_candidate_{uuid.uuid4().hex}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE UNLOGGED TABLE {candidate} (customer_id bigint, rule text,"
            " product text, priority int, event_ids bigint[], explanation_nl text,"
            " explanation_en text, evidence_nl text, evidence_en text, staff_evidence_nl text,"
            " staff_evidence_en text)"
        )
        with cursor.copy(f"COPY {candidate} FROM STDIN") as copy:
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
            f"SELECT FROM {customer} WHERE id IN (SELECT customer_id FROM {candidate})"
            " ORDER BY id FOR KEY SHARE"
        )
        cursor.execute(
            f"SELECT FROM {state} WHERE event_id IN"
            f" (SELECT unnest(event_ids) FROM {candidate}) FOR SHARE"
        )
        cursor.execute(
            f"""DELETE FROM {candidate} c WHERE EXISTS (
                    SELECT FROM unnest(c.event_ids) e(id) WHERE NOT EXISTS (
                        SELECT FROM {state} s WHERE s.event_id = e.id AND s.state = 'granted'))"""
        )
        policy = contact_policy.candidates_sql(candidate=candidate, offer=offer, product=product)
        cursor.execute(
            f"""
            WITH {policy},
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
                **contact_policy.parameters(as_of=run.as_of),
                "run": run.pk,
                "now": now,
                "valid_until": run.as_of + dt.timedelta(days=settings.OFFERS_VALID_DAYS),
            },
        )
        for rule, offered, already in cursor.fetchall():
            before = result[rule]
            result[rule] = (before[0] + offered, before[1] + already)
        cursor.execute(f"DROP TABLE {candidate}")
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
