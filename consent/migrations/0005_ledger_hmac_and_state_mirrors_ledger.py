"""The chain becomes an HMAC under a key kept outside the database, and the state table
can only ever mirror the latest ledger event.

Existing events (development databases; nothing was in production) are re-chained once
under the configured key, in ledger order, so that every chain verifies afterwards.
"""

import contextlib
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models

# Not a pgtrigger trigger: pgtrigger's triggers honour `SET pgtrigger.ignore`, which any
# session may set. This one refuses a state row that is not the exact mirror of the
# latest event for its customer and purpose (or objection), whoever asks.
STATE_MIRRORS_LEDGER = """
CREATE OR REPLACE FUNCTION consent_state_mirrors_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM consent_consentevent e
         WHERE e.id = NEW.event_id
           AND e.customer_id = NEW.customer_id
           AND e.purpose_id IS NOT DISTINCT FROM NEW.purpose_id
           AND e.action = NEW.state
           AND e.purpose_version_id IS NOT DISTINCT FROM NEW.purpose_version_id
           AND e.occurred_at = NEW.changed_at
           AND NOT EXISTS (
               SELECT 1 FROM consent_consentevent later
                WHERE later.customer_id = e.customer_id
                  AND later.purpose_id IS NOT DISTINCT FROM e.purpose_id
                  AND later.sequence > e.sequence)
    ) THEN
        RAISE EXCEPTION 'consent state of customer % must mirror the latest ledger event',
            NEW.customer_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER consent_state_mirrors_ledger
    BEFORE INSERT OR UPDATE ON consent_consentstate
    FOR EACH ROW EXECUTE FUNCTION consent_state_mirrors_ledger();
"""

DROP_STATE_MIRRORS_LEDGER = """
DROP TRIGGER IF EXISTS consent_state_mirrors_ledger ON consent_consentstate;
DROP FUNCTION IF EXISTS consent_state_mirrors_ledger();
"""


def chain_key() -> bytes:
    """The chain key, from where the settings said it was kept when this migration was
    written (`LEDGER_HMAC_KEY`, or the file `LEDGER_HMAC_KEY_FILE`)."""
    if settings.LEDGER_HMAC_KEY:
        return settings.LEDGER_HMAC_KEY.strip().encode()
    file = settings.LEDGER_HMAC_KEY_FILE
    if file and Path(file).is_file():
        return Path(file).read_text().strip().encode()
    raise ImproperlyConfigured(
        f"LEDGER_HMAC_KEY is not set and {file} does not exist: re-chaining the existing"
        " events needs the chain key."
    )


def event_hash(event, *, key: bytes, fingerprint: str) -> str:
    """An event's HMAC as the ledger made it when this migration was written."""
    payload = {
        "key": fingerprint,
        "receipt_id": str(event.receipt_id),
        "customer": event.customer.customer_number,
        "purpose": event.purpose.code if event.purpose else None,
        "version": event.purpose_version.version if event.purpose_version else None,
        "action": event.action,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
        "channel": event.channel,
        "actor": event.actor_id,
        "notice_language": event.notice_language,
        "notice_sha256": event.notice_sha256,
        "sequence": event.sequence,
        "previous_hash": event.previous_hash,
    }
    message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@contextlib.contextmanager
def triggers_ignored(schema_editor, *names):
    """`pgtrigger.ignore`, with the triggers named as the database had them at this
    migration (`pgtrigger.ignore` would look them up in today's models)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"]
        )
    try:
        yield
    finally:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


def rechain(apps, schema_editor):
    ConsentEvent = apps.get_model("consent", "ConsentEvent")
    if not ConsentEvent.objects.exists():
        return
    # Only development databases of that time had events.
    key = chain_key()
    fingerprint = hashlib.sha256(key).hexdigest()[:16]
    previous_customer, previous_hash = None, "0" * 64
    events = (
        ConsentEvent.objects.select_related("customer", "purpose", "purpose_version")
        .order_by("customer_id", "sequence")
        .iterator()
    )
    # The ledger's append-only trigger as consent 0001 named it.
    with triggers_ignored(schema_editor, "pgtrigger_append_only_3dd0f"):
        for event in events:
            if event.customer_id != previous_customer:
                previous_customer, previous_hash = event.customer_id, "0" * 64
            event.previous_hash = previous_hash
            event.hash = event_hash(event, key=key, fingerprint=fingerprint)
            ConsentEvent.objects.filter(pk=event.pk).update(
                previous_hash=previous_hash, hmac_key=fingerprint, hash=event.hash
            )
            previous_hash = event.hash


class Migration(migrations.Migration):
    dependencies = [("consent", "0004_notices_complete_and_objection")]

    operations = [
        migrations.AddField(
            model_name="consentevent",
            name="hmac_key",
            field=models.CharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.RunPython(rechain, migrations.RunPython.noop),
        migrations.RunSQL(STATE_MIRRORS_LEDGER, DROP_STATE_MIRRORS_LEDGER),
    ]
