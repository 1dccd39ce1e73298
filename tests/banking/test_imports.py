"""import_accounts, import_holdings, import_transactions: all or nothing, keyed."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from banking.models import Account, Holding, Transaction, transaction_partitions
from banking.synthetic import iban
from tests.factories import CustomerFactory

IBAN_1, IBAN_2 = iban("NL", "DEMO", 1), iban("NL", "DEMO", 2)
TX_HEADER = (
    "transaction_id,iban,booked_at,amount,currency,counterparty_name,counterparty_iban,"
    "mcc,country,description"
)


@pytest.fixture
def customers(db):
    return [CustomerFactory(customer_number="600001"), CustomerFactory(customer_number="600002")]


@pytest.fixture
def write(tmp_path):
    def write(name, *lines):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    return write


def run(command, path, capsys):
    call_command(command, path)
    return capsys.readouterr().out


def failing(command, path, capsys):
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(command, path)
    return capsys.readouterr().err


@pytest.fixture
def accounts(customers, write, capsys):
    path = write(
        "accounts.csv",
        "iban,customer_number,kind,balance,currency",
        f"{IBAN_1},600001,checking,1234.56,EUR",
        f"{IBAN_2},600002,savings,10000.00,EUR",
    )
    run("import_accounts", path, capsys)
    return path


def test_accounts_import_and_reimport_changes_nothing(accounts, capsys):
    assert str(Account.objects.get(iban=IBAN_1).balance) == "1234.56"
    assert (
        run("import_accounts", accounts, capsys).strip() == "created: 0, updated: 0, unchanged: 2"
    )


def test_bad_accounts_name_every_line_and_import_nothing(customers, write, capsys):
    path = write(
        "accounts.csv",
        "iban,customer_number,kind,balance,currency",
        f"{IBAN_1},600001,checking,12.5,EUR",
        "NL00DEMO0000000001,600001,checking,1.00,EUR",
        "not-an-iban,600001,checking,1.00,EUR",
        f"{IBAN_2},999999,pension,1.2.3,euro",
        f"{IBAN_1},600002,checking,1.00,EUR",
    )
    err = failing("import_accounts", path, capsys)
    assert "line 3: iban NL00DEMO0000000001 has a wrong check digit" in err
    assert "line 4: iban 'not-an-iban' is not an IBAN" in err
    assert "line 5: unknown customer_number '999999'" in err
    assert "line 5: kind 'pension' must be one of" in err
    assert "line 5: balance '1.2.3' is not a decimal" in err
    assert "line 5: currency 'euro' is not a three-letter code" in err
    assert f"line 6: duplicate iban {IBAN_1} (first on line 2)" in err
    assert not Account.objects.exists()


def test_holdings_import_is_keyed_and_checks_products(customers, write, capsys):
    good = write("holdings.csv", "customer_number,product_code", "600001,travel_insurance_europe")
    assert run("import_holdings", good, capsys).strip() == "created: 1, unchanged: 0"
    assert run("import_holdings", good, capsys).strip() == "created: 0, unchanged: 1"
    bad = write(
        "bad.csv",
        "customer_number,product_code",
        "600002,mortgage",
        "600009,savings_account",
        "600002,travel_insurance_world",
        "600002,travel_insurance_world",
    )
    err = failing("import_holdings", bad, capsys)
    assert "line 2: unknown product_code 'mortgage'" in err
    assert "line 3: unknown customer_number '600009'" in err
    assert "line 5: duplicate customer_number/product_code" in err
    assert Holding.objects.count() == 1


def test_transactions_import_and_reimport_changes_nothing(accounts, write, capsys):
    path = write(
        "tx.csv",
        TX_HEADER,
        f"T1,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Joe's Diner,,5812,US,",
        f'T2,{IBAN_1},2026-10-25T09:00:00Z,312.00,EUR,DUO,NL40INGB0705001234,,NL,"Studie, okt"',
    )
    assert run("import_transactions", path, capsys).strip() == "created: 2, unchanged: 0"
    assert run("import_transactions", path, capsys).strip() == "created: 0, unchanged: 2"
    t2 = Transaction.objects.get(transaction_id="T2")
    assert (t2.mcc, t2.description, t2.account.iban) == (None, "Studie, okt", IBAN_1)


def test_bad_transactions_name_every_line_and_import_nothing(accounts, write, capsys):
    path = write(
        "tx.csv",
        TX_HEADER,
        f"T1,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,US,",
        f"T2,{IBAN_1},2026-11-31T14:05:00+01:00,-1.00,EUR,Shop,,5812,US,",
        f"T3,{IBAN_1},2026-11-02T14:05:00,-1.00,EUR,Shop,,5812,US,",
        f"T4,{IBAN_1},2026-11-02T14:05:00Z,-1.005,EUR,Shop,,5812,US,",
        f"T5,{IBAN_2.replace('NL', 'DE')},2026-11-02T14:05:00Z,-1.00,EUR,Shop,,5812,US,",
        "T6,NL99NOPE0000000001,2026-11-02T14:05:00Z,-1.00,EUR,Shop,,5812,US,",
        f"T7,{IBAN_1},2026-11-02T14:05:00Z,-1.00,EUR,Shop,,58,XX,",
        f"T8,{IBAN_1},2026-11-02T14:05:00Z,-1.00,EUR,Shop,bad iban,5812,NL,",
        f"T1,{IBAN_1},2026-11-02T14:05:00Z,-1.00,EUR,Shop,,5812,NL,",
    )
    err = failing("import_transactions", path, capsys)
    assert "line 3: booked_at '2026-11-31T14:05:00+01:00' is not a time" in err
    assert "line 4: booked_at '2026-11-02T14:05:00' is not a time" in err
    assert "line 5: amount '-1.005' is not a decimal" in err
    assert "line 6: unknown iban DE" in err
    assert "line 7: unknown iban NL99NOPE0000000001" in err
    assert "line 8: mcc '58' is not a four-digit merchant category code" in err
    assert "line 8: country 'XX' is not an ISO 3166-1 alpha-2 code" in err
    assert "line 9: counterparty_iban 'bad iban' is not an IBAN" in err
    assert not Transaction.objects.exists()


def test_a_duplicate_transaction_id_in_a_file_is_named(accounts, write, capsys):
    path = write(
        "tx.csv",
        TX_HEADER,
        f"T1,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,US,",
        f"T1,{IBAN_1},2026-11-02T15:05:00+01:00,-4.10,EUR,Shop,,5812,US,",
    )
    err = failing("import_transactions", path, capsys)
    assert "line 3: duplicate transaction_id T1 (first on line 2)" in err
    assert not Transaction.objects.exists()


def test_a_changed_transaction_is_refused(accounts, write, capsys):
    row = f"T1,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,US,"
    run("import_transactions", write("a.csv", TX_HEADER, row), capsys)
    err = failing(
        "import_transactions", write("b.csv", TX_HEADER, row.replace("-84.10", "-8.41")), capsys
    )
    assert "line 2: transaction_id T1 was imported before with different data" in err


def test_rows_with_the_wrong_number_of_fields_are_all_named(accounts, write, capsys):
    path = write(
        "tx.csv",
        TX_HEADER,
        f"T1,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR",
        f"T2,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,US,",
        "T3,too,few",
    )
    err = failing("import_transactions", path, capsys)
    assert "line 2: expected 10 fields, found 5" in err
    assert "line 4: expected 10 fields, found 3" in err


def test_a_field_spanning_lines_keeps_line_numbers_right(accounts, write, capsys):
    path = write(
        "tx.csv",
        TX_HEADER,
        f'T1,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,US,"two\nlines"',
        f"T2,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,QQ,",
    )
    err = failing("import_transactions", path, capsys)
    assert "line 4: country 'QQ'" in err


def test_a_wrong_header_is_refused(accounts, write, capsys):
    err = failing("import_transactions", write("tx.csv", "id,iban"), capsys)
    assert "line 1: the header must be exactly" in err


# --- Big files: loaded in parallel as fresh months, published at once --------------------
# A file from BULK_LOAD_BYTES on takes the parallel path; here every file does. Its
# connections commit their own work, so these tests commit too (transaction=True).
bulk = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bulk_load(monkeypatch):
    from banking import imports

    monkeypatch.setattr(imports, "BULK_LOAD_BYTES", 0)


def row(transaction_id, booked_at, amount="-1.00", *, iban=IBAN_1, mcc="5812", country="NL"):
    return f"{transaction_id},{iban},{booked_at},{amount},EUR,Shop,,{mcc},{country},"


def partition_of(transaction_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM offers_transaction WHERE transaction_id = %s",
            [transaction_id],
        )
        return cursor.fetchone()[0]


def staging_tables():
    """Whatever an import left in its schema: nothing, once it is done or has failed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename::text FROM pg_tables WHERE schemaname = 'import_staging'")
        return [name for (name,) in cursor.fetchall()]


@bulk
def test_a_bulk_load_attaches_new_months_and_reimporting_changes_nothing(
    bulk_load, accounts, write, capsys
):
    path = write(
        "tx.csv",
        TX_HEADER,
        row("T1", "2026-10-31T23:30:00Z"),  # 1 November in Amsterdam
        row("T2", "2026-10-05T09:00:00+02:00"),
        row("T3", "2032-02-29T12:00:00+01:00"),  # a month no partition existed for
        row("T4", "2026-10-05T10:00:00+02:00", "312.00", mcc=""),
    )
    assert run("import_transactions", path, capsys).strip() == "created: 4, unchanged: 0"
    assert [partition_of(t) for t in ("T1", "T2", "T3", "T4")] == [
        "offers_transaction_y2026m11",
        "offers_transaction_y2026m10",
        "offers_transaction_y2032m02",
        "offers_transaction_y2026m10",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'offers_transaction_y2032m02'"
        )
        assert sorted(name for (name,) in cursor.fetchall()) == [
            "offers_transaction_y2032m02_pkey",
            "offers_transaction_y2032m02_transaction_by_account",
        ]
    assert Transaction.objects.get(transaction_id="T4").mcc is None
    assert staging_tables() == []

    assert run("import_transactions", path, capsys).strip() == "created: 0, unchanged: 4"
    assert Transaction.objects.count() == 4
    assert staging_tables() == []


@bulk
def test_a_bulk_load_adds_to_a_month_that_has_rows(bulk_load, accounts, write, capsys):
    run("import_transactions", write("a.csv", TX_HEADER, row("T1", "2026-10-05T09:00:00Z")), capsys)
    path = write(
        "b.csv",
        TX_HEADER,
        row("T1", "2026-10-05T09:00:00Z"),
        row("T2", "2026-10-06T09:00:00Z"),
        row("T3", "2026-09-06T09:00:00Z"),
    )
    assert run("import_transactions", path, capsys).strip() == "created: 2, unchanged: 1"
    assert {partition_of(t) for t in ("T1", "T2")} == {"offers_transaction_y2026m10"}
    assert partition_of("T3") == "offers_transaction_y2026m09"


@bulk
def test_a_bulk_load_with_bad_rows_names_every_one_and_imports_nothing(
    bulk_load, accounts, write, capsys
):
    path = write(
        "tx.csv",
        TX_HEADER,
        row("T1", "2026-11-02T14:05:00+01:00"),
        row("T2", "2026-11-31T14:05:00+01:00"),  # no such day: the cast fails
        row("T3", "2026-11-02T14:05:00Z", mcc="58"),  # the table's constraint refuses
        row("T4", "2026-11-02T14:05:00Z", iban="NL99NOPE0000000001"),  # no account to join
        row("T5", "2026-11-02T14:05:00Z", "-1.005"),  # only the load's own test
        row("T6", "2033-01-02T14:05:00Z", country="XX"),
    )
    err = failing("import_transactions", path, capsys)
    assert "line 3: booked_at '2026-11-31T14:05:00+01:00' is not a time" in err
    assert "line 4: mcc '58' is not a four-digit merchant category code" in err
    assert "line 5: unknown iban NL99NOPE0000000001" in err
    assert "line 6: amount '-1.005' is not a decimal" in err
    assert "line 7: country 'XX' is not an ISO 3166-1 alpha-2 code" in err
    assert not Transaction.objects.exists()
    assert not [
        p for p in transaction_partitions() if p.name.startswith("offers_transaction_y2033")
    ]
    assert staging_tables() == []


@bulk
def test_a_bulk_load_refuses_a_stored_transaction_moved_to_another_month(
    bulk_load, accounts, write, capsys
):
    run("import_transactions", write("a.csv", TX_HEADER, row("T1", "2026-10-05T09:00:00Z")), capsys)
    path = write(
        "b.csv", TX_HEADER, row("T2", "2026-11-05T09:00:00Z"), row("T1", "2026-11-05T09:00:00Z")
    )
    err = failing("import_transactions", path, capsys)
    assert "line 3: transaction_id T1 was imported before with different data" in err
    assert list(Transaction.objects.values_list("transaction_id", flat=True)) == ["T1"]


@bulk
@pytest.mark.parametrize(
    "second", ["2026-11-05T09:00:00Z", "2026-10-05T09:00:00Z"], ids=["other month", "same row"]
)
def test_a_bulk_load_names_a_transaction_id_given_twice(bulk_load, accounts, write, capsys, second):
    path = write(
        "tx.csv",
        TX_HEADER,
        row("T1", "2026-10-05T09:00:00Z"),
        row("T2", "2026-10-05T09:00:00Z"),
        row("T1", second),
    )
    err = failing("import_transactions", path, capsys)
    assert "line 4: duplicate transaction_id T1 (first on line 2)" in err
    assert not Transaction.objects.exists()
    assert staging_tables() == []


@bulk
def test_a_bulk_load_finds_the_month_of_a_row_it_did_not_expect(bulk_load, accounts, write, capsys):
    """The months to prepare are guessed from a sample of the file; a row outside them
    makes the load look at every row and try again."""
    rows = [row(f"T{n}", "2026-10-05T09:00:00Z") for n in range(20)]
    path = write("tx.csv", TX_HEADER, *rows, row("OLD", "1999-12-31T23:30:00+01:00"))
    assert run("import_transactions", path, capsys).strip() == "created: 21, unchanged: 0"
    assert partition_of("OLD") == "offers_transaction_y1999m12"


@bulk
def test_a_bulk_load_reads_a_field_spanning_lines_the_slow_way(bulk_load, accounts, write, capsys):
    path = write(
        "tx.csv",
        TX_HEADER,
        f'T1,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,US,"two\nlines"',
        f"T2,{IBAN_1},2026-11-02T14:05:00+01:00,-84.10,EUR,Shop,,5812,QQ,",
    )
    err = failing("import_transactions", path, capsys)
    assert "line 4: country 'QQ'" in err
    assert staging_tables() == []


@bulk
def test_a_bulk_load_cleans_up_after_one_that_died(bulk_load, accounts, write, capsys):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE import_staging.transactions_died_0 (line bigint)")
        cursor.execute("SELECT prepare_offers_transaction_load('{2026-10-01}'::date[])")
    path = write("tx.csv", TX_HEADER, row("T1", "2026-10-05T09:00:00Z"))
    assert run("import_transactions", path, capsys).strip() == "created: 1, unchanged: 0"
    assert staging_tables() == []


@bulk
def test_a_bulk_load_leaves_the_runtime_role_owning_nothing(bulk_load, accounts, write, capsys):
    run(
        "import_transactions", write("tx.csv", TX_HEADER, row("T1", "2034-01-05T09:00:00Z")), capsys
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles"
            " WHERE rolname = current_user)"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT has_table_privilege(current_user, 'offers_transaction_y2034m01', 'TRUNCATE'),"
            " has_table_privilege(current_user, 'offers_transaction_y2034m01', 'MAINTAIN'),"
            " has_table_privilege(current_user, 'offers_transaction_y2034m01', 'DELETE')"
        )
        assert cursor.fetchone() == (False, False, False)


# --- What an import leaves for the engine's first read after it ---------------------------
def maintenance(table):
    """(rows the planner counts, analysed, every page frozen) of one month, as the
    catalogue says; and whether the partitioned table has statistics of its own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL,"
            "       c.relpages > 0 AND c.relallfrozen = c.relpages"
            "  FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.oid = %s::regclass",
            [table],
        )
        return cursor.fetchone()


def countries_in_table_statistics():
    """The countries the planner's figures for offers_transaction as a whole (ANALYZE of
    the partitioned table itself, used for joins and groups over the months) know."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text FROM pg_stats WHERE schemaname = 'public'"
            " AND tablename = 'offers_transaction' AND inherited AND attname = 'country'"
        )
        found = cursor.fetchone()
    return set(found[0].strip("{}").split(",")) if found and found[0] else set()


@bulk
def test_a_bulk_load_leaves_its_months_frozen_and_analysed_and_the_table_analysed(
    bulk_load, accounts, write, capsys
):
    path = write(
        "tx.csv",
        TX_HEADER,
        *(row(f"T{n}", f"2026-10-{1 + n % 28:02d}T09:00:00Z", country="BE") for n in range(200)),
        *(row(f"U{n}", f"2026-09-{1 + n % 28:02d}T09:00:00Z", country="BE") for n in range(100)),
    )
    assert run("import_transactions", path, capsys).strip() == "created: 300, unchanged: 0"
    # Nothing left for the engine's first read to do: no hint bits to set, no pages to
    # mark visible, no plan from a table that looks empty; nor for a later vacuum to freeze.
    assert maintenance("offers_transaction_y2026m10") == (200, True, True)
    assert maintenance("offers_transaction_y2026m09") == (100, True, True)
    assert countries_in_table_statistics() == {"BE"}


@bulk
def test_a_bulk_load_into_a_month_with_rows_analyses_it_again(bulk_load, accounts, write, capsys):
    run("import_transactions", write("a.csv", TX_HEADER, row("T0", "2026-10-05T09:00:00Z")), capsys)
    assert maintenance("offers_transaction_y2026m10")[0] == 1
    path = write(
        "b.csv",
        TX_HEADER,
        *(row(f"T{n}", f"2026-10-{1 + n % 28:02d}T09:00:00Z", country="DE") for n in range(1, 151)),
    )
    assert run("import_transactions", path, capsys).strip() == "created: 150, unchanged: 0"
    rows, analysed, _ = maintenance("offers_transaction_y2026m10")
    assert (rows, analysed) == (151, True)
    assert "DE" in countries_in_table_statistics()


@bulk
def test_a_small_import_analyses_the_months_it_wrote_and_the_table(accounts, write, capsys):
    """A file under BULK_LOAD_BYTES (a day's transactions), in one transaction."""
    path = write(
        "tx.csv",
        TX_HEADER,
        *(row(f"T{n}", f"2026-10-{1 + n % 28:02d}T09:00:00Z", country="LU") for n in range(40)),
    )
    assert run("import_transactions", path, capsys).strip() == "created: 40, unchanged: 0"
    rows, analysed, _ = maintenance("offers_transaction_y2026m10")
    assert (rows, analysed) == (40, True)
    assert countries_in_table_statistics() == {"LU"}
