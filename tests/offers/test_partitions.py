"""Transactions partitioned by booking month: the months, their bounds, who may
make them, and reads that touch only the months of their window."""

import datetime as dt
import itertools
import re
import zoneinfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from banking.models import Transaction, transaction_partitions
from offers import gate
from offers.rules import RULES

from .factories import AccountFactory, TransactionFactory

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
TABLE = Transaction._meta.db_table


def attempt(sql, params=None):
    """Run `sql` as the runtime role; return the database's refusal (or fail the test)."""
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return str(refused.value)


def scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def partition_of(transaction_id):
    return scalar(
        f"SELECT tableoid::regclass::text FROM {TABLE} WHERE transaction_id = %s", [transaction_id]
    )


def partitions_read_by(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    return sorted(set(re.findall(rf"\b{TABLE}_y\d{{4}}m\d{{2}}\b", plan)))


def test_a_migration_made_a_partition_for_every_month_of_2025_to_2027(db):
    partitions = {p.name: p for p in transaction_partitions()}
    for year in (2025, 2026, 2027):
        for month in range(1, 13):
            partition = partitions[f"{TABLE}_y{year}m{month:02d}"]
            assert partition.start == dt.datetime(year, month, 1, tzinfo=AMSTERDAM)
            next_month = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=AMSTERDAM)
            assert partition.end == next_month


def test_the_months_follow_each_other_without_gaps_or_overlaps(db):
    partitions = transaction_partitions()
    for earlier, later in itertools.pairwise(partitions):
        assert earlier.end <= later.start
    may = [p for p in partitions if p.name.endswith("y2026m05")]
    assert may[0].end - may[0].start == dt.timedelta(days=31)


@pytest.mark.parametrize(
    ("booked_at", "month"),
    [
        # 23:30 UTC on 31 October is 00:30 on 1 November in Amsterdam (winter time).
        (dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC), "y2026m11"),
        (dt.datetime(2026, 10, 31, 22, 59, tzinfo=dt.UTC), "y2026m10"),
        # 22:30 UTC on 31 March is 00:30 on 1 April (summer time).
        (dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC), "y2026m04"),
    ],
)
def test_a_transaction_lands_in_the_partition_of_its_month_in_amsterdam(db, booked_at, month):
    TransactionFactory(transaction_id="TX-MONTH", booked_at=booked_at)
    assert partition_of("TX-MONTH") == f"{TABLE}_{month}"


def test_the_engines_window_reads_only_the_months_it_covers(db):
    """The gate's windows are constants (`booked_at >= start AND booked_at < end`), so
    PostgreSQL leaves the other months out of the plan: 90 days before 2 November 2026
    are 4 August to 2 November, the months August to November."""
    as_of = dt.date(2026, 11, 2)
    sql = gate.gate_sql(rules=RULES, as_of=as_of, at=timezone.now())
    expected = [f"{TABLE}_y2026m{month:02d}" for month in (8, 9, 10, 11)]
    assert partitions_read_by(str(sql), sql.params) == expected


def test_the_benchmarks_floor_reads_the_same_months(db):
    purposes = sorted({p for rule in RULES for p in rule.purposes})
    lookback = max(rule.lookback_days for rule in RULES)
    sql = gate.scan_sql(
        purposes=purposes, as_of=dt.date(2026, 11, 2), at=timezone.now(), lookback_days=lookback
    )
    assert partitions_read_by(str(sql), sql.params) == [
        f"{TABLE}_y2026m{month:02d}" for month in (8, 9, 10, 11)
    ]


def test_a_new_month_is_made_on_demand_once_with_amsterdam_bounds(db):
    name = scalar(f"SELECT ensure_{TABLE}_partition(%s)", [dt.date(2031, 5, 17)])
    again = scalar(f"SELECT ensure_{TABLE}_partition(%s)", [dt.date(2031, 5, 1)])
    assert name == again == f"{TABLE}_y2031m05"
    (made,) = [p for p in transaction_partitions() if p.name == name]
    assert (made.start, made.end) == (
        dt.datetime(2031, 5, 1, tzinfo=AMSTERDAM),
        dt.datetime(2031, 6, 1, tzinfo=AMSTERDAM),
    )
    indexes = scalar(
        "SELECT array_agg(indexname::text ORDER BY 1) FROM pg_indexes WHERE tablename = %s", [name]
    )
    assert indexes == [f"{name}_pkey", f"{name}_transaction_by_account"]


def test_a_transaction_id_is_the_key_within_its_month(db):
    row = TransactionFactory(transaction_id="TX-KEY")
    assert row.pk == ("TX-KEY", row.booked_at)
    assert "duplicate key" in attempt(
        f"INSERT INTO {TABLE} SELECT * FROM {TABLE} WHERE transaction_id = 'TX-KEY'"
    )


# --- Who may make, change and remove months ------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (
            f"CREATE TABLE public.{TABLE}_y2040m01 PARTITION OF {TABLE}"
            " FOR VALUES FROM ('2040-01-01') TO ('2040-02-01')",
            "permission denied for schema public",
        ),
        (f"DROP TABLE {TABLE}_y2026m10", "must be owner"),
        (f"ALTER TABLE {TABLE} DETACH PARTITION {TABLE}_y2026m10", "must be owner"),
        (f"TRUNCATE {TABLE}_y2026m10", "permission denied"),
        (f"TRUNCATE {TABLE}", "permission denied"),
        (f"CREATE INDEX ON {TABLE}_y2026m10 (country)", "must be owner"),
        (f"ALTER TABLE {TABLE}_y2026m10 DROP CONSTRAINT transaction_country_code", "must be owner"),
        (f"REINDEX TABLE {TABLE}_y2026m10", "permission denied"),
        (f"SELECT attach_{TABLE}_load('2026-10-01')", "no loaded month"),
    ],
)
def test_the_runtime_role_cannot_make_change_or_remove_months_itself(db, sql, refusal):
    assert refusal in attempt(sql)


def test_the_runtime_role_cannot_attach_a_table_of_its_own(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE import_staging.mine (LIKE {TABLE} INCLUDING ALL)")
    assert "must be owner" in attempt(
        f"ALTER TABLE {TABLE} ATTACH PARTITION import_staging.mine"
        " FOR VALUES FROM ('2040-01-01') TO ('2040-02-01')"
    )


def test_the_runtime_role_may_read_and_write_a_months_rows_and_nothing_more(db):
    """As on the table itself: never DELETE (retention removes rows through the owner's
    functions, `consent.dbroles.OwnerDeletesOnly`)."""
    role = connection.settings_dict["RUNTIME_USER"]
    name = scalar(f"SELECT ensure_{TABLE}_partition('2031-07-01')")
    privileges = {
        privilege: scalar("SELECT has_table_privilege(%s, %s, %s)", [role, name, privilege])
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "MAINTAIN")
    }
    assert privileges == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": True,
        "DELETE": False,
        "TRUNCATE": False,
        "MAINTAIN": False,
    }
    assert (
        scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = %s", [name]) != role
    )


def load_month(month: str, *transaction_ids: str, account_id: int):
    """Fill a month of a prepared load the way `import_transactions` does."""
    with connection.cursor() as cursor:
        for transaction_id in transaction_ids:
            cursor.execute(
                f"INSERT INTO import_staging.{TABLE}_load (transaction_id, account_id,"
                " booked_at, amount, currency, counterparty_name, counterparty_iban, mcc,"
                " country, description)"
                " VALUES (%s, %s, %s::date + interval '2 days 12 hours', -1, 'EUR', 'Shop', '',"
                " '5411', 'NL', '')",
                [transaction_id, account_id, month],
            )
        cursor.execute(f"SELECT index_{TABLE}_load(%s)", [month])


def test_a_loaded_month_replaces_an_empty_partition_but_never_one_with_rows(db):
    account = AccountFactory()
    TransactionFactory(
        transaction_id="STORED",
        account=account,
        booked_at=dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC),
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT prepare_{TABLE}_load(%s::date[])", [["2026-09-01", "2026-10-01"]])
    load_month("2026-09-01", "NEW-SEPTEMBER", account_id=account.pk)
    load_month("2026-10-01", "NEW-OCTOBER", account_id=account.pk)

    # Both months in one transaction, like the import's publishing step: October has
    # rows, so nothing is attached, September neither.
    refusal = attempt(
        f"SELECT attach_{TABLE}_load('2026-09-01'), attach_{TABLE}_load('2026-10-01')"
    )
    assert f"partition {TABLE}_y2026m10 has rows" in refusal
    assert not Transaction.objects.filter(transaction_id__startswith="NEW-").exists()

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT attach_{TABLE}_load('2026-09-01')")
    assert partition_of("NEW-SEPTEMBER") == f"{TABLE}_y2026m09"
    assert partition_of("STORED") == f"{TABLE}_y2026m10"


def test_a_loaded_month_gets_exactly_the_tables_privileges_once_attached(db):
    """What the runtime role may do with the load (fill it, delete duplicates from it)
    ends when it becomes a month of the table: then only what it may do with the table."""
    role = connection.settings_dict["RUNTIME_USER"]
    account = AccountFactory()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT prepare_{TABLE}_load(%s::date[])", [["2031-08-01"]])
    load_month("2031-08-01", "LOADED", account_id=account.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT attach_{TABLE}_load('2031-08-01')")

    def privileges(table):
        return [
            scalar("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "MAINTAIN")
        ]

    assert partition_of("LOADED") == f"{TABLE}_y2031m08"
    assert privileges(f"{TABLE}_y2031m08") == privileges(TABLE)
    assert "permission denied" in attempt(f"DELETE FROM {TABLE}_y2031m08")


def test_the_benchmarks_transactions_span_the_thirteen_months_a_bank_keeps(db, tmp_path, capsys):
    from django.core.management import call_command

    from banking import synthetic

    as_of = dt.date(2026, 11, 2)
    since = synthetic.first_day_of_months(as_of, 13)
    assert since == dt.datetime(2025, 11, 1, tzinfo=AMSTERDAM)
    account = AccountFactory()
    path = synthetic.write_transactions_csv(
        tmp_path / "tx.csv", ibans=[account.iban], count=3000, as_of=as_of, since=since
    )
    call_command("import_transactions", str(path))
    assert capsys.readouterr().out.strip() == "created: 3000, unchanged: 0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(booked_at), count(DISTINCT tableoid) FROM {TABLE} WHERE account_id = %s",
            [account.pk],
        )
        earliest, months = cursor.fetchone()
    assert earliest >= since
    assert months == 13
