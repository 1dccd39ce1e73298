"""Synthetic banking data as CSV files in the import formats of README, Commands.

Used by `load_demo --customers N` and by `make bench`. Customers, accounts and holdings
are made in Python (they are few); transactions are made by PostgreSQL itself and
streamed out with `COPY … TO STDOUT`, because ten million rows made one by one in
Python would take longer than importing them.
"""

import csv
import datetime as dt
import random
import uuid
import zoneinfo
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from consent.validity import end_of_day, sixteenth_birthday, start_of_day
from infra.dbroles import STAGING_SCHEMA

STUDENT_FINANCE_IBAN = "NL11INGB0000000001"  # synthetic: matched by name, not by this IBAN

# Merchant category codes for everyday card payments: the demo data's default (the
# benchmark uses every code of offers/data/mcc_codes.csv).
EVERYDAY_MCCS = ("5411", "5812", "5814", "5541", "4111", "5311", "5999", "7011", "4511", "5691")
# A few codes the gate must exclude (docs/gate.md): a hospital, a pharmacy, a union, betting.
SENSITIVE_MCCS = ("8062", "5912", "8699", "7995", "8651", "8011")
# Countries on either side of the travel rule's Europe (a test holds them against it).
OUTSIDE_EUROPE = ("US", "TH", "JP", "MA", "AU", "CA", "MX", "ID", "ZA", "AE")
TRAVEL_EUROPE = ("BE", "DE", "FR", "ES", "IT", "AT", "GB", "GR", "PT", "CH")
FIRST_NAMES = ("Sanne", "Daan", "Emma", "Lucas", "Noor", "Sem", "Julia", "Finn", "Tess", "Milan")
LAST_NAMES = ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit")


def iban(country: str, bank: str, number: int) -> str:
    """A well-formed IBAN with correct check digits (ISO 13616 mod 97)."""
    bban = f"{bank}{number:010d}"
    digits = "".join(str(int(ch, 36)) for ch in f"{bban}{country}00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def write_csv(path: Path, header: tuple[str, ...], rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def customer_rows(*, count: int, first_number: int, today: dt.date, seed: int):
    rng = random.Random(seed)
    for i in range(count):
        # Ages 14 to 85: some too young to consent, some students, mostly adults.
        birth = today - dt.timedelta(days=rng.randint(14 * 365, 85 * 365))
        number = str(first_number + i)
        yield (
            number,
            rng.choice(FIRST_NAMES),
            rng.choice(LAST_NAMES),
            f"{number}@example.nl",
            birth.isoformat(),
            "en" if rng.random() < 0.15 else "nl",
        )


def account_rows(*, customer_numbers, seed: int, first_account: int = 1):
    """Every customer has a checking account; some a savings and a student account.

    A tenth of checking balances are 10,000 EUR or more (the savings rule's threshold).
    """
    rng = random.Random(seed)
    number = first_account
    for customer_number in customer_numbers:
        kinds = ["checking"]
        if rng.random() < 0.2:
            kinds.append("savings")
        if rng.random() < 0.08:
            kinds.append("student")
        for kind in kinds:
            rich = rng.random() < 0.1
            balance = rng.uniform(10_000, 60_000) if rich else rng.uniform(-500, 9_999.99)
            yield (iban("NL", "DEMO", number), customer_number, kind, f"{balance:.2f}", "EUR")
            number += 1


def holding_rows(*, customer_numbers, seed: int):
    rng = random.Random(seed)
    for customer_number in customer_numbers:
        draw = rng.random()
        if draw < 0.3:
            yield (customer_number, "travel_insurance_europe")
        elif draw < 0.35:
            yield (customer_number, "travel_insurance_world")


class Step(StrEnum):
    GRANT = "grant"
    WITHDRAW = "withdraw"
    STOP_ALL_OFFERS = "stop_all_offers"  # the objection to direct marketing
    LEAVE = "leave"


@dataclass(frozen=True)
class PlannedChoice:
    customer_number: str
    step: Step
    at: dt.datetime
    purpose: str | None = None  # grants and withdrawals


@dataclass(frozen=True)
class Mix:
    """How often synthetic customers do what: each offers purpose is switched on with
    `grant`; a grant is withdrawn later with `withdraw`; a customer stops all personal
    offers with `stop_all_offers` and leaves the bank with `leave`."""

    grant: float = 1 / 3
    withdraw: float = 0.0
    stop_all_offers: float = 0.0
    leave: float = 0.0


# What `load_demo --customers N` shows: a bit of everything a customer can do.
DEMO_MIX = Mix(withdraw=0.15, stop_all_offers=0.03, leave=0.01)
OFFERS_PURPOSES = ("offers_spending", "offers_income", "offers_balance")
HISTORY_DAYS = 600  # how far back synthetic choices go


def consent_histories(
    *,
    customers,
    texts_from: dict[str, dt.datetime],
    now: dt.datetime,
    leave_by: dt.date,
    seed: int,
    mix: Mix = Mix(),
):
    """Choices that each customer, given as (customer number, birth date), could really
    have made, customer by customer and each customer's in the order made (a chain is in
    time order). Only what `consent.services` allows, so none is refused:

    - a grant from the customer's 16th birthday on (Amsterdam), and once the purpose's
      text was published (`texts_from`: its first version, or the one to grant on); a
      customer under 16 today switches nothing on;
    - a withdrawal after the grant it withdraws;
    - "stop all personal offers" (the objection) after every other choice: no grant
      under an objection;
    - leaving last, on a day no later than `leave_by` (the database's date: it refuses a
      departure in its future): no choice after leaving.
    """
    rng = random.Random(seed)
    history_from = now - dt.timedelta(days=HISTORY_DAYS)
    for number, birth_date in customers:
        may_choose_from = max(history_from, start_of_day(sixteenth_birthday(birth_date)))
        choices: list[PlannedChoice] = []
        for purpose in OFFERS_PURPOSES:
            if rng.random() >= mix.grant:
                continue
            from_ = max(may_choose_from, texts_from[purpose])
            if from_ > now:
                continue  # too young still (or no text yet): nothing to switch on
            granted_at = _between(rng, from_, now)
            choices.append(PlannedChoice(number, Step.GRANT, granted_at, purpose))
            if rng.random() < mix.withdraw:
                withdrawn_at = _between(rng, granted_at, now)
                choices.append(PlannedChoice(number, Step.WITHDRAW, withdrawn_at, purpose))
        choices.sort(key=lambda choice: choice.at)
        last = choices[-1].at if choices else history_from
        if rng.random() < mix.stop_all_offers:
            last = _between(rng, last, now)
            choices.append(PlannedChoice(number, Step.STOP_ALL_OFFERS, last))
        leave_until = min(now, end_of_day(leave_by) - dt.timedelta(seconds=1))
        if last <= leave_until and rng.random() < mix.leave:
            choices.append(PlannedChoice(number, Step.LEAVE, _between(rng, last, leave_until)))
        yield from choices


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    return start + (end - start) * rng.random()


def first_day_of_months(as_of: dt.date, months: int) -> dt.datetime:
    """The first instant of the month `months - 1` before that of `as_of`, in Amsterdam:
    from there to `as_of` are the `months` calendar months a bank keeps (13: this month
    and the twelve before it)."""
    month = as_of.year * 12 + as_of.month - 1 - (months - 1)
    first = dt.datetime(month // 12, month % 12 + 1, 1)
    return first.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def write_transactions_csv(
    path: Path,
    *,
    ibans: list[str],
    count: int,
    as_of: dt.date,
    days: float = 365,
    since: dt.datetime | None = None,
    mccs: tuple[str, ...] = EVERYDAY_MCCS,
    first_id: int = 1,
    seed: float = 0.42,
) -> Path:
    """`count` transactions over the `days` before `as_of` (or since the instant
    `since`), spread over `ibans`.

    The mix: card payments (mostly in the Netherlands, some elsewhere in Europe, a few
    outside it, some at sensitive merchants), refunds, transfers to and from private
    persons, and student finance from DUO into one account in eight.
    """
    sql = """
        SELECT 'T' || lpad(n::text, 10, '0'), i.iban,
               to_char((%(end)s::timestamptz - (random() * %(days)s) * interval '1 day')
                       AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
               CASE WHEN kind < 0.03 OR kind >= 0.97 THEN round((random() * 400)::numeric, 2)
                    ELSE -round((1 + random() * 150)::numeric, 2) END,
               'EUR',
               CASE WHEN duo THEN 'DUO'
                    WHEN kind >= 0.80 THEN 'J. de Vries'
                    ELSE 'Merchant ' || mod(n, 997) END,
               CASE WHEN duo THEN %(duo)s
                    WHEN kind >= 0.80 THEN 'NL02ABNA0123456789' END,
               CASE WHEN kind < 0.80 THEN coalesce(s.mcc, m.mcc) END,
               CASE WHEN kind >= 0.80 OR place < 0.85 THEN 'NL'
                    WHEN place < 0.96 THEN (%(europe)s::text[])[1 + mod(n, %(europe_n)s)]
                    ELSE (%(outside)s::text[])[1 + mod(n, %(outside_n)s)] END,
               CASE WHEN duo THEN 'Studiefinanciering'
                    WHEN kind >= 0.80 THEN 'Tikkie'
                    ELSE '' END
          FROM (SELECT *, kind >= 0.985 AND mod(account, 8) = 0 AS duo
                  FROM (SELECT n, random() AS kind, random() AS place,
                               mod(mod(mod(n, 2147483647) * 2654435761, 2147483647),
                                   %(ibans_n)s) AS account
                          FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n) g0
               ) g
          JOIN {pool}_iban i ON i.k = g.account
          JOIN {pool}_mcc m ON m.k = mod(n, %(mccs_n)s)
          LEFT JOIN {pool}_sensitive s ON g.place < 0.03 AND s.k = mod(n, %(sensitive_n)s)
    """
    end = dt.datetime.combine(as_of, dt.time(20, 0), tzinfo=dt.UTC)
    if since is not None:
        days = (end - since).total_seconds() / 86400
    params = {
        "end": end,
        "days": days,
        "duo": STUDENT_FINANCE_IBAN,
        "ibans_n": len(ibans),
        "mccs_n": len(mccs),
        "sensitive_n": len(SENSITIVE_MCCS),
        "europe": list(TRAVEL_EUROPE),
        "europe_n": len(TRAVEL_EUROPE),
        "outside": list(OUTSIDE_EUROPE),
        "outside_n": len(OUTSIDE_EUROPE),
        "first": first_id,
        "last": first_id + count - 1,
    }
    pools = {"iban": ibans, "mcc": list(mccs), "sensitive": list(SENSITIVE_MCCS)}
    header = (
        "transaction_id,iban,booked_at,amount,currency,counterparty_name,"
        "counterparty_iban,mcc,country,description\n"
    )
    # Lookup tables, joined by number: subscripting a long text[] costs O(index). Unlogged
    # tables of this transaction in the staging schema (the runtime role may create no
    # temporary tables), dropped before it commits.
    pool = f"{STAGING_SCHEMA}.synthetic_{uuid.uuid4().hex}"
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        open(path, "wb") as handle,
    ):
        cursor.execute("SELECT setseed(%s)", [seed])
        for name, values in pools.items():
            cursor.execute(
                f"CREATE UNLOGGED TABLE {pool}_{name} AS SELECT (k - 1)::bigint AS k,"
                f" v AS {name if name != 'sensitive' else 'mcc'}"
                " FROM unnest(%s::text[]) WITH ORDINALITY AS u(v, k)",
                [values],
            )
            cursor.execute(f"ANALYZE {pool}_{name}")
        handle.write(header.encode())
        with cursor.copy(
            f"COPY ({cursor.mogrify(sql.format(pool=pool), params)}) TO STDOUT WITH (FORMAT csv)"
        ) as copy:
            for data in copy:
                handle.write(data)
        for name in pools:
            cursor.execute(f"DROP TABLE {pool}_{name}")
    return path
