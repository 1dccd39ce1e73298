import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from consent.models import Customer
from tests.factories import UserFactory

HEADER = "customer_number,first_name,last_name,email,birth_date,language\n"
GOOD = (
    HEADER
    + "500001,Fleur,de Boer,fleur@example.nl,1990-04-01,nl\n"
    + "500002,Tom,Smit,tom@example.com,2001-12-31,en\n"
)


@pytest.fixture
def csv_file(tmp_path):
    def write(text, name="customers.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def import_customers(path):
    call_command("import_customers", path)


def test_imports_customers_with_a_login_whose_password_is_unusable(db, csv_file, capsys):
    import_customers(csv_file(GOOD))
    assert "created: 2, updated: 0, unchanged: 0" in capsys.readouterr().out
    fleur = Customer.objects.get(customer_number="500001")
    assert (fleur.first_name, fleur.last_name, str(fleur.birth_date), fleur.language) == (
        "Fleur",
        "de Boer",
        "1990-04-01",
        "nl",
    )
    assert fleur.user.username == "500001"
    assert not fleur.user.has_usable_password()
    assert not fleur.user.is_staff


def test_reimporting_the_same_file_changes_nothing(db, csv_file, capsys):
    path = csv_file(GOOD)
    import_customers(path)
    before = list(Customer.objects.values_list("pk", "user_id", "user__password", "email"))
    import_customers(path)
    assert "created: 0, updated: 0, unchanged: 2" in capsys.readouterr().out
    after = list(Customer.objects.values_list("pk", "user_id", "user__password", "email"))
    assert after == before


def test_a_changed_row_updates_that_customer_only(db, csv_file, capsys):
    import_customers(csv_file(GOOD))
    import_customers(csv_file(GOOD.replace("tom@example.com", "tom@example.org")))
    assert "created: 0, updated: 1, unchanged: 1" in capsys.readouterr().out
    assert Customer.objects.get(customer_number="500002").email == "tom@example.org"


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(db, csv_file, capsys):
    bad = (
        GOOD
        + "500003,Anna,Mulder,anna@example.nl,1990-02-30,nl\n"  # line 4: no such date
        + "500004,Bram,Bos,bram@example.nl,1980-01-01,de\n"  # line 5: unknown language
        + "500005,,Dekker,c@example.nl,1980-01-01,nl\n"  # line 6: missing first name
        + "500001,Fleur,de Boer,fleur@example.nl,1990-04-01,nl\n"  # line 7: duplicate
        + "500006,Ruben,Kok,not-an-email,1980-01-01,nl\n"  # line 8: bad email
        + "500007,Lisa,Vos,lisa@example.nl,1980-01-01\n"  # line 9: a field short
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        import_customers(csv_file(bad))
    err = capsys.readouterr().err
    assert "line 4: birth_date '1990-02-30' is not a date" in err
    assert "line 5: language 'de' must be one of: nl, en" in err
    assert "line 6: first_name is missing" in err
    assert "line 8: email 'not-an-email' is not an e-mail address" in err
    assert "line 9: expected 6 fields, found 5" in err
    assert not Customer.objects.exists()
    assert not get_user_model().objects.exists()


def test_a_customer_number_twice_in_one_file_is_reported_and_nothing_is_imported(
    db, csv_file, capsys
):
    path = csv_file(GOOD + "500001,Fleur,de Boer,fleur@example.nl,1990-04-01,nl\n")
    with pytest.raises(CommandError):
        import_customers(path)
    assert "line 4: duplicate customer_number 500001 (first on line 2)" in capsys.readouterr().err
    assert not Customer.objects.exists()


def test_a_wrong_header_is_refused(db, csv_file, capsys):
    with pytest.raises(CommandError):
        import_customers(csv_file(GOOD.replace("birth_date", "dob")))
    assert "line 1: the header must be exactly" in capsys.readouterr().err


def test_a_customer_number_taken_by_a_staff_login_is_refused(db, csv_file, capsys):
    UserFactory(username="500002", is_staff=True)
    with pytest.raises(CommandError):
        import_customers(csv_file(GOOD))
    assert "line 3: customer_number 500002 is already the username" in capsys.readouterr().err
    assert not Customer.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(db, tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "500001,Zoë,Brügge,z@example.nl,1990-04-01,nl\n").encode("latin-1"))
    with pytest.raises(CommandError):
        import_customers(str(path))
    assert "not UTF-8" in capsys.readouterr().err
    assert not Customer.objects.exists()


def test_a_missing_file_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no such file"):
        import_customers("/nonexistent/customers.csv")
