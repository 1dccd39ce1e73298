"""import_accounts, import_holdings, import_transactions: all or nothing, keyed."""

import pytest
from django.core.management import CommandError, call_command

from offers.models import Account, Holding, Transaction
from offers.synthetic import iban
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
    t2 = Transaction.objects.get(pk="T2")
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


def test_a_bulk_load_rebuilds_the_index_and_keeps_it(accounts, write, capsys, monkeypatch):
    from django.db import connection

    from offers import imports

    monkeypatch.setattr(imports, "BULK_LOAD_ROWS", 1)
    rows = [f"T{i},{IBAN_1},2026-11-02T14:05:00+01:00,-1.00,EUR,Shop,,5812,US," for i in range(3)]
    assert run("import_transactions", write("tx.csv", TX_HEADER, *rows), capsys).startswith(
        "created: 3"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'offers_transaction'")
        assert "transaction_by_account" in {name for (name,) in cursor.fetchall()}
