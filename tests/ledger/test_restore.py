"""A restore of an older backup that everyone survives: dump, choose, checkpoint, restore,
then verify, follow, choose. The witness keeps cosigning, the verifier lists the lost
choices instead of calling the restore tampering, those customers' consent-based
processing stops until they choose again (and they are told), and the feed's followers
never skip a change: ids continue above anything they read, behind a marker that sends
them to take a snapshot again."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from django.utils.formats import date_format

from api.models import ChangeKind, ConsentChange
from consent.models import Customer
from consent.validity import is_consent_valid
from infra.database import superuser_connection
from ledger import keys
from ledger.models import Action, ConsentEvent, Restore
from tests.api.conftest import bearer, issue_token, register_system
from tests.api.follower import Follower, truth
from tests.factories import CustomerFactory
from tests.proof import checkpoint


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def stop_everything_else() -> None:
    """What an operator does before a restore: no process of the app stays connected."""
    connections.close_all()
    name = connection.settings_dict["NAME"]
    with superuser_connection() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


@pytest.fixture
def witnessed(start_witness, settings):
    witness = start_witness(keys.public_key())
    settings.LEDGER_WITNESS_URLS = [witness.url]
    settings.LEDGER_WITNESS_KEYS = [witness.verifier_key]
    return witness


@pytest.mark.django_db(transaction=True)
def test_a_restore_of_an_older_backup_is_survived_by_everyone(
    witnessed, choose, tmp_path, settings, client
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"read": "1000/min", "choose": "1000/min", "feed": "1000/min"},
    }
    sanne = CustomerFactory(customer_number="980001")
    daan = CustomerFactory(customer_number="980002")
    choose(sanne, "offers_spending")
    choose(daan, "offers_income")
    checkpoint()
    backup = run("backup", "--into", str(tmp_path))
    assert "database.dump" in str(list(tmp_path.glob("backup-*/*")))
    assert " files, " in backup
    (folder,) = tmp_path.glob("backup-*")

    # After the backup: Sanne withdraws, Daan switches on a second purpose; the hourly
    # checkpoint takes both in, the witness cosigns, the CRM reads the feed.
    choose(sanne, "offers_spending", Action.WITHDRAWN)
    choose(daan, "offers_balance")
    checkpoint()
    crm = Follower(lambda: bearer(issue_token(register_system(), scope="consent:feed")))
    crm.catch_up()
    read_up_to = crm.cursor

    # The database is lost; the app is stopped (other tests' servers too) and the backup
    # goes back.
    stop_everything_else()
    out = run("restore", str(folder), "--yes")
    assert "2 leaves put back, 2 of them without their event" in out
    assert "customer 980001: choice(s) 2 to 2 of their chain lost" in out
    assert "customer 980002: choice(s) 2 to 2 of their chain lost" in out

    # Verify: the restore is named as one, with what it lost, not as tampering.
    checkpoint()  # the witness cosigns again: the tree is the one it saw, and more
    verified = run("verify_consent_ledger")
    assert "ledger ok" in verified
    assert "customer 980001: choice(s) 2 of their chain lost; asked to choose again" in verified
    assert Restore.objects.count() == 1

    # Sanne's withdrawal was lost; the restored ledger says "granted". Nothing rests on it:
    # the system withdrew it, and her dashboard says why and asks her to choose again.
    sanne = Customer.objects.get(customer_number="980001")
    assert not is_consent_valid(customer=sanne, purpose_code="offers_spending", at=timezone.now())
    assert sanne.choices_lost_since is not None
    client.force_login(sanne.user)
    dashboard = client.get("/").content.decode()
    assert "Uw laatste keuzes zijn verloren gegaan" in dashboard
    # To the minute: on the day of the backup, "after 7 December" would be wrong.
    since = date_format(timezone.localtime(sanne.choices_lost_since), "j F Y, H:i")
    assert f"keuzes die u na {since} maakte" in dashboard

    # Follow: the marker is above everything the CRM read; it takes snapshots again and
    # holds exactly what counts.
    (marker,) = ConsentChange.objects.filter(kind=ChangeKind.RESNAPSHOT)
    assert marker.id > read_up_to
    # What the restore itself wrote (the system's withdrawal of Sanne's restored grant)
    # comes after the marker: no id the CRM read is handed out again for another row.
    withdrawn_by_restore = ConsentChange.objects.get(customer=sanne, may_use=False)
    assert withdrawn_by_restore.id > marker.id
    crm.catch_up()
    assert crm.resnapshots == 1
    assert crm.holds(at=timezone.now()) == truth(at=timezone.now())

    # Choose: Sanne switches something on again; it is in the ledger and the feed, after
    # the marker, and the notice has done its work.
    choose(sanne, "offers_income", at=timezone.now())
    assert ConsentEvent.objects.filter(customer=sanne, purpose__code="offers_income").exists()
    assert ConsentChange.objects.filter(customer=sanne).latest("id").id > marker.id
    sanne.refresh_from_db()
    assert sanne.choices_lost_since is None
    crm.catch_up()
    assert crm.holds(at=timezone.now()) == truth(at=timezone.now())
    checkpoint()
    assert "ledger ok" in run("verify_consent_ledger")
