import datetime as dt
import io
import zoneinfo

import psycopg
import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import connection, transaction
from django.utils import timezone
from pytest_django.plugin import blocking_manager_key

from infra.database import owner_credentials
from ledger.models import Action
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory
from tests.management.commands.flush import FLUSHES

NOW = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))
AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")

# --- The clock -----------------------------------------------------------------------------
# Every test runs on a frozen clock (that keeps ticking from there), so no test depends on
# the day or the hour it runs at. Tests marked `any_hour` run once at each of these
# instants instead: the hours around midnight in Amsterdam, when a local date and a UTC
# date differ, and both days on which the clocks change.
INSTANTS = {
    "before-midnight-winter": dt.datetime(2026, 11, 28, 23, 30, tzinfo=AMSTERDAM),
    "after-midnight-winter": dt.datetime(2026, 11, 29, 0, 30, tzinfo=AMSTERDAM),
    "before-midnight-summer": dt.datetime(2026, 7, 15, 23, 59, 30, tzinfo=AMSTERDAM),
    "clocks-forward-day": dt.datetime(2026, 3, 29, 3, 30, tzinfo=AMSTERDAM),
    "clocks-back-night": dt.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=AMSTERDAM),
    "clocks-back-day-late": dt.datetime(2026, 10, 25, 23, 30, tzinfo=AMSTERDAM),
}


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("any_hour"):
        metafunc.parametrize("clock_instant", list(INSTANTS.values()), ids=list(INSTANTS))


@pytest.fixture
def clock_instant():
    return NOW


@pytest.fixture(autouse=True)
def _frozen_clock(request, clock_instant):
    # A browser, or a server in another process, runs on the machine's clock; so do their
    # tests (a session cookie from a frozen 2 November would be stale in a real browser).
    if request.node.get_closest_marker("real_clock") or request.node.get_closest_marker("browser"):
        yield None
        return
    with time_machine.travel(clock_instant, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _checkpoints_in_a_temporary_folder(settings, tmp_path):
    """Ledger checkpoints a test writes go to its own folder, never the repository's."""
    settings.LEDGER_CHECKPOINT_DIR = tmp_path / "checkpoints"


@pytest.fixture
def database_date(owner_connection):
    """Set the database's date (as the owner; `retention_clock`, which retention counts
    with and the ledger takes as today); put back afterwards. For tests whose clock goes
    past the real today: the database refuses events from a future it cannot see."""

    def set_to(day: dt.date):
        owner_connection.execute("DELETE FROM retention_clock")
        owner_connection.execute("INSERT INTO retention_clock (today) VALUES (%s)", [day])

    yield set_to
    owner_connection.execute("DELETE FROM retention_clock")


@pytest.fixture
def now(clock_instant):
    """The instant the test's clock started at (NOW, or one of INSTANTS)."""
    return clock_instant.astimezone(dt.UTC)


@pytest.fixture
def choose(now):
    """Record a customer's choice on the web, as the customer, `days_ago` before now."""

    def choose(customer, purpose_code, action=Action.GRANTED, *, days_ago=0, at=None):
        at = at or now - dt.timedelta(days=days_ago)
        return choose_on_screen(customer, purpose_code, action, at=at)

    return choose


@pytest.fixture
def customer_who_consented(db, choose):
    """Sanne switched on offers based on where she pays, ten days ago."""
    sanne = CustomerFactory(customer_number="300001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


@pytest.fixture
def customer_who_did_not(db):
    """Daan never switched anything on."""
    return CustomerFactory(customer_number="300002", first_name="Daan")


# --- The catalogue survives transactional tests' flush ----------------------------------
# live_server and threaded tests need a transactional database, which pytest-django
# empties after each test (tests/management/commands/flush.py); that would also delete
# the catalogues the data migrations created, for every later test. So the rows are
# snapshotted once and put back after each flush that actually ran (a test skipped
# before its database was set up flushed nothing, and its rows must not be re-inserted).
_snapshot: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _snapshot_migrated_data(request, django_db_blocker):
    uses_database = request.node.get_closest_marker("django_db") or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )
    if uses_database and "data" not in _snapshot:
        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            _snapshot["data"] = connection.creation.serialize_db_to_string()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    flushed = bool(FLUSHES)
    FLUSHES.clear()
    # With no next test the session (and its test database) may be gone already.
    if flushed and nextitem is not None and "data" in _snapshot:
        with item.config.stash[blocking_manager_key].unblock():
            # The flush re-created content types and permissions under new ids; put the
            # original ones back so that rows pointing at them (groups) stay right.
            ContentType.objects.all().delete()
            ContentType.objects.clear_cache()
            restore(_snapshot["data"])
            # Closed where it was opened, as Django closes a transactional test's
            # connections at its end: the one opened here after the first browser test
            # was never closed, and kept the test database from being dropped at the end
            # of the run ("being accessed by other users").
            connection.close()
    return result


def restore(data):
    """Django's deserialize_db_from_string, inserting only: the other tables are empty, and
    the runtime role may not even try an UPDATE on the append-only ones."""
    tables = set()
    with transaction.atomic():
        for obj in serializers.deserialize("json", io.StringIO(data)):
            obj.save(force_insert=True)
            tables.add(obj.object._meta.db_table)
        connection.check_constraints(table_names=tables)


# --- Connections as the other roles, for attacks on the database -------------------------
@pytest.fixture
def owner_connection(django_db_setup):
    """A separate connection to the test database as the owner role (autocommit). It sees
    only committed rows: use it in transactional tests, or on migrated data."""
    settings_dict = connection.settings_dict
    owner = owner_credentials(settings_dict)
    with psycopg.connect(
        host=owner["HOST"] or None,
        port=owner["PORT"] or None,
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
        autocommit=True,
    ) as conn:
        yield conn


@pytest.fixture
def database_down():
    """Point the connection at a database that does not exist: a real failed connect."""

    def go_down():
        connection.close()
        connection.settings_dict["NAME"] = "no_such_database"

    real_name = connection.settings_dict["NAME"]
    yield go_down
    connection.close()
    connection.settings_dict["NAME"] = real_name
