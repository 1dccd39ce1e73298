"""The data migrations that rewrite the ledger run with the code they carry, on events.

A fresh database has no events, so `consent` 0005 (re-chain every event under the chain
key), `ledger` 0002 (give every event its log entry) and `consent` 0010 (a `left` event
for every customer who had left) do nothing there. Here a database is migrated to
`consent` 0004 (events without a chain key), given customers, choices and an objection,
migrated to `consent` 0009, given a departure (`closed_on`, as an import set it then), and
migrated to the end: every chain verifies under the chain key (HMACs, links, entries), and
the departure is a `left` event. Each migration used only what it carries (its hashing,
the key from the settings, the trigger names of its time); before they were frozen, 0005
read today's `ledger` model, whose columns that database did not have yet.
"""

import json

import pytest

pytestmark = [pytest.mark.slow]

STAGED = r"""
import datetime as dt
import hashlib
import json
import uuid

import django

django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from infra.database import as_owner


# Django's executor, without `migrate`'s post_migrate: as a database of that time.
def migrate_to(target):
    with as_owner(connection):
        MigrationExecutor(connection).migrate([target])

BEFORE_THE_KEY = ("consent", "0004_notices_complete_and_objection")
START = dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC)

migrate_to(BEFORE_THE_KEY)
with as_owner(connection):
    apps = MigrationExecutor(connection).loader.project_state(BEFORE_THE_KEY).apps
    User = apps.get_model("auth", "User")
    Customer = apps.get_model("consent", "Customer")
    PurposeVersion = apps.get_model("consent", "PurposeVersion")
    ConsentEvent = apps.get_model("consent", "ConsentEvent")
    ConsentState = apps.get_model("consent", "ConsentState")
    for number, language, choices in (
        ("400001", "nl", [("offers_spending", "granted"), ("offers_income", "granted"),
                          ("offers_spending", "withdrawn")]),
        ("400002", "en", [("offers_balance", "granted"), (None, "objected")]),
    ):
        user = User.objects.create(username=number)
        customer = Customer.objects.create(
            user=user, customer_number=number, first_name="Eva", last_name="Oud",
            email=f"{number}@example.org", birth_date=dt.date(1980, 5, 1), language=language,
        )
        previous = "0" * 64  # the chain of that time: plain SHA-256, no key
        for sequence, (code, action) in enumerate(choices, start=1):
            version = (
                PurposeVersion.objects.get(purpose__code=code, version=1) if code else None
            )
            event = ConsentEvent.objects.create(
                receipt_id=uuid.uuid4(), customer=customer, action=action,
                occurred_at=START + dt.timedelta(days=sequence), channel="web", actor=user,
                notice_language=language, notice_sha256="0" * 64, sequence=sequence,
                previous_hash=previous,
                hash=hashlib.sha256(f"{number}/{sequence}/{previous}".encode()).hexdigest(),
                purpose=version.purpose if version else None, purpose_version=version,
            )
            previous = event.hash
            ConsentState.objects.update_or_create(
                customer=customer, purpose=event.purpose,
                defaults={"state": action, "purpose_version": version,
                          "changed_at": event.occurred_at, "event": event},
            )

migrate_to(("consent", "0009_ledger_moved_out"))
with as_owner(connection), connection.cursor() as cursor:
    cursor.execute(
        "UPDATE consent_customer SET closed_on = %s WHERE customer_number = '400002'",
        [dt.date(2025, 1, 31)],
    )

call_command("migrate", verbosity=0)  # the rest, as a deployment runs it

from ledger.audit import broken_chains
from ledger.models import ConsentEvent

print(json.dumps({
    "broken": broken_chains(),
    "events": [
        [e.customer.customer_number, e.sequence, e.action, e.left_on and e.left_on.isoformat()]
        for e in ConsentEvent.objects.select_related("customer").order_by("customer", "sequence")
    ],
}))
"""


def test_events_from_before_the_chain_key_are_chained_logged_and_verify(scratch, tmp_path):
    result = scratch.python("-c", STAGED, LEDGER_CHECKPOINT_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["broken"] == {}
    assert found["events"] == [
        ["400001", 1, "granted", None],
        ["400001", 2, "granted", None],
        ["400001", 3, "withdrawn", None],
        ["400002", 1, "granted", None],
        ["400002", 2, "objected", None],
        ["400002", 3, "left", "2025-01-31"],
    ]
