"""Bad input gets a clear answer: every CSV import, NUL bytes and
over-long fields, line-numbered, nothing imported; the Art. 30 CSV cannot carry formulas."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from banking.models import Account, Holding, Transaction
from banking.synthetic import iban
from consent.models import Customer, Purpose
from consent.records import processing_record_csv
from tests.factories import CustomerFactory, publish_version

IBAN = iban("NL", "DEMO", 1)
CUSTOMERS = "customer_number,first_name,last_name,email,birth_date,language"
ACCOUNTS = "iban,customer_number,kind,balance,currency"
HOLDINGS = "customer_number,product_code"
TRANSACTIONS = (
    "transaction_id,iban,booked_at,amount,currency,counterparty_name,counterparty_iban,"
    "mcc,country,description"
)
GOOD = {
    "import_customers": (CUSTOMERS, "700001,Anna,Jansen,anna@example.nl,1980-01-01,nl"),
    "import_accounts": (ACCOUNTS, f"{IBAN},600001,checking,10.00,EUR"),
    "import_holdings": (HOLDINGS, "600001,travel_insurance_europe"),
    "import_transactions": (
        TRANSACTIONS,
        f"T1,{IBAN},2026-11-02T14:05:00+01:00,-1.00,EUR,Shop,,5812,NL,koffie",
    ),
}
COUNTS = {
    "import_customers": lambda: Customer.objects.count(),
    "import_accounts": lambda: Account.objects.count(),
    "import_holdings": lambda: Holding.objects.count(),
    "import_transactions": lambda: Transaction.objects.count(),
}


@pytest.fixture
def banking(db):
    """A customer with an account, so that every import has something to refer to."""
    customer = CustomerFactory(customer_number="600001")
    Account.objects.create(iban=IBAN, customer=customer, kind="checking", balance="1.00")


def refused(command, tmp_path, capsys, *lines, raw: bytes = b""):
    path = tmp_path / "file.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode() + raw)
    before = COUNTS[command]()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(command, str(path))
    assert COUNTS[command]() == before
    return capsys.readouterr().err


@pytest.mark.parametrize("command", sorted(GOOD))
def test_a_nul_byte_in_any_import_is_a_line_numbered_error(command, banking, tmp_path, capsys):
    header, good = GOOD[command]
    bad = good.replace(",", ",\x00", 1)
    err = refused(command, tmp_path, capsys, header, good, bad)
    assert "line 3: " in err and "NUL" in err
    assert "line 2" not in err and "Traceback" not in err


@pytest.mark.parametrize("command", sorted(GOOD))
def test_an_overlong_field_in_any_import_is_a_line_numbered_error(
    command, banking, tmp_path, capsys
):
    header, good = GOOD[command]
    fields = good.split(",")
    fields[1] = "x" * 5000  # first_name, iban, product_code, iban
    err = refused(command, tmp_path, capsys, header, good, ",".join(fields))
    assert "line 3: " in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("column", "length"),
    [("first_name", 101), ("last_name", 101), ("email", 255)],
)
def test_customer_fields_longer_than_their_column_are_refused(db, tmp_path, capsys, column, length):
    row = dict(zip(CUSTOMERS.split(","), GOOD["import_customers"][1].split(","), strict=True))
    row[column] = (
        "a" * (length - len("@example.nl")) + "@example.nl" if column == "email" else ("a" * length)
    )
    err = refused("import_customers", tmp_path, capsys, CUSTOMERS, ",".join(row.values()))
    assert f"line 2: {column} is longer than" in err


def test_a_field_larger_than_the_csv_reader_allows_is_a_line_numbered_error(db, tmp_path, capsys):
    err = refused(
        "import_customers",
        tmp_path,
        capsys,
        CUSTOMERS,
        GOOD["import_customers"][1],
        "700002," + "b" * 200_000 + ",Jansen,b@example.nl,1980-01-01,nl",
    )
    assert "line 3: " in err and "Traceback" not in err


# --- The Art. 30 record -----------------------------------------------------------------
@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_art30_cells_that_a_spreadsheet_would_run_are_neutralised(db, start):
    # A privacy officer publishes a title that starts like a formula (the record reads the
    # published notice; publishing trims surrounding white space, so a tab or CR can only
    # come from the purpose's own fields; retention sentences are made from rules), and
    # the DPIA reference is edited to one.
    formula = f'{start}HYPERLINK("http://evil.example")'
    publish_version("offers_spending", material=False, title_nl=formula)
    Purpose.objects.filter(code="offers_spending").update(dpia_reference=f"{start}1+1")
    rows = list(csv.DictReader(io.StringIO(processing_record_csv())))
    row = next(r for r in rows if r["purpose"] == "offers_spending")
    assert row["name_nl"] == ("'" + formula if start.strip() else formula.strip())
    assert row["dpia_reference"] == f"'{start}1+1"
    for cells in rows:
        for value in cells.values():
            assert not value or value[0] not in "=+-@\t\r", value
