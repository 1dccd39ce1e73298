"""The consent gate (docs/gate.md): the only code that reads banking data for offers.

A rule never sees a transaction, a balance or a holding. It names the features it needs
and the purposes it rests on; the gate answers with one SQL statement in which

- the set-based definition of valid consent (`consent.validity.valid_consents`) is
  joined for each purpose, so customers without valid consent contribute no rows;
- transactions at merchants in `EXCLUDED_MCCS` are dropped before any feature exists;
- payments to or from private persons and free text are never features: only card
  payments (they have a merchant category code) are read, plus incoming payments from
  the allow-listed student-finance payer, matched on name or IBAN and used only as a
  yes/no;
- the transactions table is read once for all rules and all customers (docs/gate.md).

A run can be split into customer-id slices (README, Runs and workers): every statement takes an
optional `customers=(first_id, last_id)`.

Every read for an engine run is logged for the customer ("Wat wij met uw gegevens
deden"): in the same transaction as the read, before any rule sees a feature, one
INSERT writes one `DataUse` row per (run, customer, purpose) from the rows the read
returned, with the consent event it relied on. Not a data-modifying CTE in the read
itself: PostgreSQL plans no parallel query for a statement that writes, and the read is
the scan of every transaction.
"""

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from django.utils import timezone

from banking.models import Account, AccountKind, Holding, Product, Transaction
from consent.models import Customer, Purpose
from consent.validity import end_of_day, start_of_day, valid_consents

from .features import CountryPayments, Features
from .models import DataUse
from .rules.base import Rule

# Special categories of personal data (GDPR Art. 9 and 10, EDPB guidelines 06/2020 on
# PSD2) and signs of vulnerability: payments at these merchants are never read for offers,
# whatever the rule. (code, what it reveals)
EXCLUDED_MCCS: tuple[tuple[str, str], ...] = (
    ("8651", "political organisations"),
    ("8661", "religious organisations"),
    ("8641", "civic, social and fraternal associations"),
    ("8699", "membership organisations, incl. trade unions"),
    ("8398", "charitable and social service organisations"),
    ("8011", "doctors"),
    ("8021", "dentists and orthodontists"),
    ("8031", "osteopaths"),
    ("8041", "chiropractors"),
    ("8042", "optometrists and ophthalmologists"),
    ("8043", "opticians and optical goods"),
    ("8049", "podiatrists and chiropodists"),
    ("8050", "nursing and personal care facilities"),
    ("8062", "hospitals"),
    ("8071", "medical and dental laboratories"),
    ("8099", "medical services and health practitioners"),
    ("5122", "drugs and druggists' sundries"),
    ("5912", "drug stores and pharmacies"),
    ("5975", "hearing aids"),
    ("5976", "orthopaedic goods and prosthetic devices"),
    ("7277", "counselling services (debt, marriage, personal)"),
    ("7273", "dating and escort services"),
    ("7297", "massage parlours"),
    ("5967", "direct marketing — inbound teleservices (adult content)"),
    ("9223", "bail and bond payments (criminal data, Art. 10)"),
    ("7995", "betting, lottery tickets and casino chips (vulnerability)"),
    ("5933", "pawn shops (vulnerability)"),
)
EXCLUDED_MCC_CODES = tuple(code for code, _ in EXCLUDED_MCCS)

# The only counterparty names ever compared: student finance (DUO), case-insensitive.
STUDENT_FINANCE_NAMES = ("duo", "dienst uitvoering onderwijs")

TRANSACTION_FEATURES = ("card_payments", "student_finance")

# A slice of a run: customers with ids from first to last (inclusive).
CustomerSlice = tuple[int, int]
# One row of `gate_sql`, as the cursor returns it: rule, customer id, the consent events
# (one per purpose of the rule, in its order), then the features (NULL when not asked):
# age, products held, card payments as jsonb [[country, count, last day], ...], student
# finance payments and the last day of one, highest checking balance.
GateSqlRow = tuple[
    str,
    int,
    list[int],
    int | None,
    list[str] | None,
    str | list[list[Any]] | None,
    int | None,
    dt.date | None,
    Decimal | None,
]


@dataclass(frozen=True)
class GateRow:
    """One customer, for one rule, with valid consent for every purpose the rule needs."""

    rule: str
    customer_id: int
    consent_event_ids: tuple[int, ...]
    features: Features


class Sql:
    """SQL text and its parameters, built in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []  # values the database driver adapts

    def add(self, text: str, *params: Any) -> Self:
        self.parts.append(text)
        self.params.extend(params)
        return self

    def add_query(self, queryset: QuerySet[Any, Any]) -> Self:
        sql, params = queryset.query.sql_with_params()
        return self.add(sql, *params)

    def __str__(self) -> str:
        return "\n".join(self.parts)


def window_start(as_of: dt.date, days: int) -> dt.datetime:
    """The start of a look-back of `days` days before `as_of` (so "90 days before 2 Nov"
    includes 4 Aug, the 90th day before, and the as-of date itself)."""
    return start_of_day(as_of - dt.timedelta(days=days))


def _sql_list(values: Iterable[str]) -> str:
    # Fixed codes from this module, never input; inlined so PostgreSQL can hash the list.
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def gate_sql(
    *,
    rules: Iterable[Rule],
    as_of: dt.date,
    at: dt.datetime,
    customers: CustomerSlice | None = None,
) -> Sql:
    """The one statement behind `features`. Public so that tests can run it themselves.

    Consent is judged at `at`, the moment the data is read; `as_of` places the windows."""
    rules = tuple(rules)
    purposes = sorted({p for rule in rules for p in rule.purposes})
    customer_table, account, holding, product, txn = (
        Customer._meta.db_table,
        Account._meta.db_table,
        Holding._meta.db_table,
        Product._meta.db_table,
        Transaction._meta.db_table,
    )
    in_slice = "" if customers is None else " AND customer_id BETWEEN %s AND %s"
    slice_params = () if customers is None else tuple(customers)

    sql = Sql().add("WITH")
    for i, purpose in enumerate(purposes):
        sql.add(f"consent_{i} AS (SELECT customer_id, event_id FROM (")
        sql.add_query(valid_consents(purpose_code=purpose, at=at).values("customer_id", "event_id"))
        sql.add(f") v WHERE true{in_slice}),", *slice_params)
    for k, rule in enumerate(rules):
        joined = [purposes.index(p) for p in rule.purposes]
        first = joined[0]
        sql.add(
            f"eligible_{k} AS (SELECT c{first}.customer_id,"
            f" ARRAY[{', '.join(f'c{j}.event_id' for j in joined)}] AS event_ids"
            f" FROM consent_{first} c{first}"
            + "".join(f" JOIN consent_{j} c{j} USING (customer_id)" for j in joined[1:])
            + "),"
        )
    sql.add(
        "eligible AS (SELECT DISTINCT customer_id FROM ("
        + " UNION ALL ".join(f"SELECT customer_id FROM eligible_{k}" for k in range(len(rules)))
        + ") e),"
    )
    # Products held: holdings, and accounts by kind (README, Commands), of eligible customers only.
    sql.add(
        f"""products AS (
            SELECT customer_id, array_agg(DISTINCT code) AS codes FROM (
                SELECT h.customer_id, p.code
                  FROM {holding} h JOIN {product} p ON p.id = h.product_id
                 WHERE h.customer_id IN (SELECT customer_id FROM eligible)
                UNION ALL
                SELECT a.customer_id, CASE a.kind WHEN 'checking' THEN 'checking_account'
                       WHEN 'savings' THEN 'savings_account' ELSE 'student_account' END
                  FROM {account} a WHERE a.customer_id IN (SELECT customer_id FROM eligible)
            ) held GROUP BY customer_id),
        balances AS (
            SELECT customer_id, max(balance) AS highest FROM {account}
             WHERE kind = %s AND customer_id IN (SELECT customer_id FROM eligible)
             GROUP BY customer_id),""",
        AccountKind.CHECKING.value,
    )
    _transactions_pass(sql, rules, as_of, txn, account, customers)
    branches = []
    for k, rule in enumerate(rules):
        branches.append(_rule_branch(k, rule, as_of, customer_table))
    sql.add(" UNION ALL ".join(text for text, _ in branches))
    for _, params in branches:
        sql.params.extend(params)
    return sql


def _transactions_pass(
    sql: Sql,
    rules: tuple[Rule, ...],
    as_of: dt.date,
    txn: str,
    account: str,
    customers: CustomerSlice | None,
) -> None:
    """`tx`: per customer, the transaction features of every rule, in one scan."""
    reading = [(k, r) for k, r in enumerate(rules) if set(r.features) & set(TRANSACTION_FEATURES)]
    if not reading:
        sql.add("tx AS (SELECT NULL::bigint AS customer_id WHERE false)")
        return
    tz = settings.TIME_ZONE
    student_finance = (
        f"(lower(t.counterparty_name) IN {_sql_list(STUDENT_FINANCE_NAMES)}"
        " OR t.counterparty_iban = ANY(%s))"
    )
    inner: list[str] = []
    outer: list[str] = []
    params: list[Any] = []
    for k, rule in reading:
        start = window_start(as_of, rule.lookback_days)
        if "card_payments" in rule.features:
            cond = f"a.in_{k} AND t.booked_at >= %s AND t.amount < 0 AND t.mcc IS NOT NULL"
            inner.append(
                f"count(*) FILTER (WHERE {cond}) AS card_n_{k},"
                f" max(t.booked_at) FILTER (WHERE {cond}) AS card_last_{k}"
            )
            params += [start, start]
            outer.append(
                f"jsonb_agg(jsonb_build_array(country, card_n_{k},"
                f" (card_last_{k} AT TIME ZONE '{tz}')::date)"
                f" ORDER BY card_n_{k} DESC, country) FILTER (WHERE card_n_{k} > 0) AS card_{k}"
            )
        if "student_finance" in rule.features:
            cond = (
                f"a.in_{k} AND t.booked_at >= %s AND t.amount > 0"
                f" AND t.mcc IS NULL AND {student_finance}"
            )
            inner.append(
                f"count(*) FILTER (WHERE {cond}) AS sf_n_{k},"
                f" max(t.booked_at) FILTER (WHERE {cond}) AS sf_last_{k}"
            )
            ibans = list(settings.OFFERS_STUDENT_FINANCE_IBANS)
            params += [start, ibans, start, ibans]
            outer.append(
                f"sum(sf_n_{k})::int AS sf_n_{k},"
                f" (max(sf_last_{k}) AT TIME ZONE '{tz}')::date AS sf_last_{k}"
            )
    earliest = min(window_start(as_of, r.lookback_days) for _, r in reading)
    # Accounts of customers eligible for at least one of these rules, with a flag per
    # rule: transactions are joined to this once (a single hash probe per row). The
    # accounts are narrowed to the run's customers (its slice) in the subquery and to the
    # eligible ones by their flags, not by `customer_id IN (eligible …)`: PostgreSQL
    # cannot estimate consent validity (a few dozen customers where there are tens of
    # thousands), and from so few accounts it planned a nested loop of index probes into
    # every month of the window, per account: 4 times slower at 10 million transactions
    # and worse as they grow (random reads). A slice's share of the customers it does
    # estimate well: a whole run hashes the accounts and reads the window once, a small
    # slice probes the index for its own accounts.
    flags = ", ".join(
        f"a.customer_id IN (SELECT customer_id FROM eligible_{k}) AS in_{k}" for k, _ in reading
    )
    any_flag = " OR ".join(f"a.in_{k}" for k, _ in reading)
    in_slice = "" if customers is None else " AND a.customer_id BETWEEN %s AND %s"
    slice_params = () if customers is None else tuple(customers)
    ibans = list(settings.OFFERS_STUDENT_FINANCE_IBANS)
    sql.add(
        f"""tx AS (
            SELECT customer_id, {", ".join(outer)} FROM (
                SELECT a.customer_id, t.country, {", ".join(inner)}
                  FROM {txn} t
                  JOIN (SELECT a.id, a.customer_id, {flags} FROM {account} a
                         WHERE true{in_slice}) a ON a.id = t.account_id
                 WHERE ({any_flag})
                   AND t.booked_at >= %s AND t.booked_at < %s
                   -- special categories and vulnerability: gone before any feature
                   AND (t.mcc IS NULL OR t.mcc NOT IN {_sql_list(EXCLUDED_MCC_CODES)})
                   -- card payments, or the allow-listed institutional payer; never
                   -- transfers with private persons
                   AND (t.mcc IS NOT NULL OR {student_finance})
                 GROUP BY a.customer_id, t.country
            ) per_country GROUP BY customer_id)""",
        *params,
        *slice_params,
        earliest,
        end_of_day(as_of),
        ibans,
    )


def _rule_branch(k: int, rule: Rule, as_of: dt.date, customer_table: str) -> tuple[str, list[Any]]:
    wants = set(rule.features)
    tx = set(rule.features) & set(TRANSACTION_FEATURES)
    columns = [
        "%s AS rule",
        "e.customer_id",
        "e.event_ids",
        "date_part('year', age(%s::date, c.birth_date))::int AS age"
        if "age" in wants
        else "NULL::int AS age",
        "p.codes AS products" if "products" in wants else "NULL::text[] AS products",
        f"tx.card_{k} AS card_payments" if "card_payments" in wants else "NULL::jsonb",
        f"tx.sf_n_{k}, tx.sf_last_{k}" if "student_finance" in wants else "NULL::int, NULL::date",
        "b.highest" if "checking_balance" in wants else "NULL::numeric",
    ]
    params: list[Any] = [rule.code, *([as_of] if "age" in wants else [])]
    text = (
        f"(SELECT {', '.join(columns)} FROM eligible_{k} e"
        f" JOIN {customer_table} c ON c.id = e.customer_id"
        " LEFT JOIN products p ON p.customer_id = e.customer_id"
        " LEFT JOIN balances b ON b.customer_id = e.customer_id"
        + (" LEFT JOIN tx ON tx.customer_id = e.customer_id" if tx else "")
        + ")"
    )
    return text, params


def features(
    *,
    rules: Iterable[Rule],
    as_of: dt.date,
    at: dt.datetime,
    customers: CustomerSlice | None = None,
    run_id: int | None = None,
) -> Iterator[GateRow]:
    """Per rule, per customer with valid consent for the rule's purposes: its features.

    One row per eligible customer and rule: a few small values each. (Not a server-side
    cursor: PostgreSQL plans those for the first rows, not for the whole scan.) With
    `run_id` (every engine run), what was read is logged in the same transaction.
    """
    rules = tuple(rules)
    sql = gate_sql(rules=rules, as_of=as_of, at=at, customers=customers)
    with transaction.atomic(), connection.cursor() as cursor:
        # Enough memory to hash-aggregate per customer instead of sorting to disk.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(str(sql), sql.params)
        rows: list[GateSqlRow] = cursor.fetchall()
        if run_id is not None:
            record_data_use(cursor, rules=rules, rows=rows, run_id=run_id)
    for row in rows:
        yield _gate_row(row, as_of)


def data_read(rules: Iterable[Rule]) -> dict[str, tuple[list[str], int]]:
    """Per purpose: the features read under its consent and the longest look-back (days;
    0 for values read as they are now, such as a balance)."""
    read: dict[str, tuple[set[str], int]] = {}
    for rule in rules:
        # Everything the rule reads is read because of its purposes' consents, including
        # what needs no consent of its own (age, products held).
        reads_transactions = bool(set(rule.features) & set(TRANSACTION_FEATURES))
        window = rule.lookback_days if reads_transactions else 0
        for purpose in rule.purposes:
            names, days = read.get(purpose, (set(), 0))
            read[purpose] = (names | set(rule.features), max(days, window))
    return {purpose: (sorted(names), days) for purpose, (names, days) in read.items()}


def record_data_use(
    cursor: CursorWrapper, *, rules: tuple[Rule, ...], rows: Sequence[GateSqlRow], run_id: int
) -> None:
    """One `DataUse` row per (run, customer, purpose) the read returned: one INSERT of
    at most (eligible customers times purposes) rows, from arrays (no per-row round trip)."""
    scope = data_read(rules)
    by_code = {rule.code: rule for rule in rules}
    seen: set[tuple[int, str]] = set()
    customers: list[int] = []
    codes: list[str] = []
    events: list[int] = []
    for row in rows:
        rule, customer_id, event_ids = by_code[row[0]], row[1], row[2]
        for purpose, event_id in zip(rule.purposes, event_ids, strict=True):
            if (customer_id, purpose) not in seen:
                seen.add((customer_id, purpose))
                customers.append(customer_id)
                codes.append(purpose)
                events.append(event_id)
    if not customers:
        return
    cursor.execute(
        f"""
        WITH scope AS (
            SELECT key AS code, ARRAY(SELECT jsonb_array_elements_text(value -> 0)) AS features,
                   (value ->> 1)::smallint AS window_days
              FROM jsonb_each(%s::jsonb))
        INSERT INTO {DataUse._meta.db_table}
               (customer_id, run_id, purpose_id, consent_event_id, read_at, features,
                window_days)
        SELECT u.customer_id, %s, p.id, u.event_id, %s, s.features, s.window_days
          FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) AS u(customer_id, code, event_id)
          JOIN {Purpose._meta.db_table} p ON p.code = u.code
          JOIN scope s ON s.code = u.code
        ON CONFLICT DO NOTHING""",
        [json.dumps(scope), run_id, timezone.now(), customers, codes, events],
    )


def _gate_row(row: GateSqlRow, as_of: dt.date) -> GateRow:
    rule, customer_id, event_ids, age, products, cards, sf_n, sf_last, balance = row
    if isinstance(cards, str):
        cards = json.loads(cards)  # Django's connection hands jsonb over as text
    return GateRow(
        rule=rule,
        customer_id=customer_id,
        consent_event_ids=tuple(event_ids),
        features=Features(
            as_of=as_of,
            age=age,
            products=frozenset(products or ()),
            card_payments=tuple(
                CountryPayments(country=c, count=n, last_on=dt.date.fromisoformat(d))
                for c, n, d in (cards or ())
            ),
            student_finance_payments=sf_n or 0,
            student_finance_last_on=sf_last,
            highest_checking_balance=Decimal(balance) if balance is not None else None,
        ),
    )


def scan_sql(
    *, purposes: Iterable[str], as_of: dt.date, at: dt.datetime, lookback_days: int
) -> Sql:
    """The floor the engine is measured against (README, Benchmarks): one bare consent-joined
    GROUP BY over the transactions in the window, reading one column of each row (a
    count alone could be answered from the index). Not used by the engine. Consent is a
    flag on the accounts, as in the engine's read (`_transactions_pass`), so that both are
    planned alike: a hash join over the window, whatever consent is estimated to let in."""
    account, txn = Account._meta.db_table, Transaction._meta.db_table
    sql = Sql().add("WITH consenting AS (")
    sql.add_query(
        valid_consents(at=at).filter(purpose__code__in=list(purposes)).values("customer_id")
    )
    sql.add(
        f""")
        SELECT a.customer_id, count(*), sum(t.amount) FROM {txn} t
          JOIN (SELECT a.id, a.customer_id,
                       a.customer_id IN (SELECT customer_id FROM consenting) AS consenting
                  FROM {account} a) a ON a.id = t.account_id
         WHERE a.consenting
           AND t.booked_at >= %s AND t.booked_at < %s
         GROUP BY a.customer_id""",
        window_start(as_of, lookback_days),
        end_of_day(as_of),
    )
    return sql
