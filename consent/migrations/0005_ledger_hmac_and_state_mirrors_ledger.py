"""The chain becomes an HMAC under a key kept outside the database, and the state table
can only ever mirror the latest ledger event.

Existing events (development databases; nothing was in production) are re-chained once
under the configured key, in ledger order, so that every chain verifies afterwards.
"""

import pgtrigger
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


def rechain(apps, schema_editor):
    ConsentEvent = apps.get_model("consent", "ConsentEvent")
    if not ConsentEvent.objects.exists():
        return
    # Only development databases of that time had events; the hashing lives in the ledger.
    from ledger.keys import chain_keyring
    from ledger.models import ConsentEvent as LiveEvent  # for its hashing methods

    key = chain_keyring().current
    previous_customer, previous_hash = None, "0" * 64
    events = (
        LiveEvent.objects.select_related("customer", "purpose", "purpose_version")
        .order_by("customer_id", "sequence")
        .iterator()
    )
    with pgtrigger.ignore("ledger.ConsentEvent:append_only"):
        for event in events:
            if event.customer_id != previous_customer:
                previous_customer, previous_hash = event.customer_id, "0" * 64
            event.previous_hash = previous_hash
            event.hmac_key = key.fingerprint
            event.hash = event.compute_hash(
                key=key.secret,
                customer_number=event.customer.customer_number,
                purpose_code=event.purpose.code if event.purpose else None,
                version=event.purpose_version.version if event.purpose_version else None,
            )
            LiveEvent.objects.filter(pk=event.pk).update(
                previous_hash=event.previous_hash, hmac_key=event.hmac_key, hash=event.hash
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
