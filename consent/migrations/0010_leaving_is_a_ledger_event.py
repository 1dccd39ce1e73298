"""Leaving the bank is a ledger event, and retention counts from it.

- `relationship_end(customer)`: the day the relationship ended, as the ledger proves it:
  the customer's `left` event's day, or the day the log took that event in if that is
  later (a departure recorded after the fact counts from when it was recorded: the log
  can prove that day, not a day someone claims). NULL until the event is in the log;
  once retention removed the chain, from the departure its tombstone keeps.
  Never `Customer.closed_on`, a column anyone with the runtime role could have written.
- `remove_consent_proof` counts from it, refuses while any event of the chain is not yet
  in the log, and writes into the tombstone the `left` event's entry and place and the
  places of every leaf it removed, so the verifier can prove the removal against the
  signed tree.
- The state mirrors the latest event per purpose leaving out `left` (like erasure
  requests: neither is a choice).
- Customers who left before this migration get their `left` event now (chain key needed
  when there are any; counted from today, as they were not in the log before).
"""

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models

from infra.dbroles import RETENTION_TIME_ZONE, OwnerFunction

TZ = RETENTION_TIME_ZONE

RELATIONSHIP_END = f"""
CREATE FUNCTION relationship_end(p_customer bigint) RETURNS date
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    WITH departure(left_on, logged_at) AS (
        SELECT e.left_on, l.sequenced_at
          FROM public.consent_consentevent e
          JOIN public.ledger_logleaf l ON l.event_id = e.id
         WHERE e.customer_id = p_customer AND e.action = 'left'
        UNION ALL
        -- After retention removed the chain, its tombstone keeps the departure.
        SELECT (t.left_entry::jsonb ->> 'left_on')::date, l.sequenced_at
          FROM public.consent_ledgertombstone t
          JOIN public.ledger_logleaf l ON l.index = t.left_leaf
         WHERE t.customer_id = p_customer
    )
    SELECT greatest(left_on, (logged_at AT TIME ZONE '{TZ}')::date) FROM departure LIMIT 1
$$;
"""
DROP_RELATIONSHIP_END = "DROP FUNCTION IF EXISTS relationship_end(bigint);"

STATE_MIRRORS_LEDGER = """
CREATE OR REPLACE FUNCTION consent_state_mirrors_ledger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM public.consent_consentevent e
         WHERE e.id = NEW.event_id
           AND e.customer_id = NEW.customer_id
           AND e.purpose_id IS NOT DISTINCT FROM NEW.purpose_id
           AND e.action = NEW.state
           AND e.action NOT IN ('erasure_requested', 'left')
           AND e.purpose_version_id IS NOT DISTINCT FROM NEW.purpose_version_id
           AND e.occurred_at = NEW.changed_at
           AND NOT EXISTS (
               SELECT 1 FROM public.consent_consentevent later
                WHERE later.customer_id = e.customer_id
                  AND later.purpose_id IS NOT DISTINCT FROM e.purpose_id
                  AND later.action NOT IN ('erasure_requested', 'left')
                  AND later.sequence > e.sequence)
    ) THEN
        RAISE EXCEPTION 'consent state of customer % must mirror the latest ledger event',
            NEW.customer_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""

REMOVE_CONSENT_PROOF = """
DECLARE
    v_today date := least(p_as_of, retention_today());
    v_years integer := retention_years('consent_proof', 'relationship_end', v_today);
    v_customer public.consent_customer%ROWTYPE;
    v_ended date;
    v_events integer;
    v_last integer;
    v_hash text;
    v_unlogged integer;
    v_left public.consent_consentevent%ROWTYPE;
    v_left_leaf bigint;
    v_leaves bigint[];
    v_previous text;
BEGIN
    IF v_years IS NULL THEN
        RAISE EXCEPTION 'no notice in effect on % says how long the proof of consent is kept',
            v_today USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO v_customer FROM public.consent_customer WHERE id = p_customer FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no customer %', p_customer USING ERRCODE = 'insufficient_privilege';
    END IF;
    v_ended := relationship_end(p_customer);
    IF v_ended IS NULL OR (v_ended + make_interval(years => v_years))::date > v_today THEN
        RAISE EXCEPTION 'the proof of consent of customer % is not past its retention period'
            ' (counted from the logged end of the relationship: %)', p_customer, v_ended
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*), max(sequence) INTO v_events, v_last
      FROM public.consent_consentevent WHERE customer_id = p_customer;
    IF v_events = 0 THEN
        RETURN 0;
    END IF;
    SELECT count(*) INTO v_unlogged
      FROM public.consent_consentevent e
     WHERE e.customer_id = p_customer
       AND NOT EXISTS (SELECT FROM public.ledger_logleaf l WHERE l.event_id = e.id);
    IF v_unlogged > 0 THEN
        RAISE EXCEPTION 'customer % has % event(s) not yet in the log: the next checkpoint'
            ' takes them in', p_customer, v_unlogged USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT hash INTO v_hash FROM public.consent_consentevent
     WHERE customer_id = p_customer AND sequence = v_last;
    SELECT * INTO v_left FROM public.consent_consentevent
     WHERE customer_id = p_customer AND action = 'left' ORDER BY sequence DESC LIMIT 1;
    SELECT index INTO v_left_leaf FROM public.ledger_logleaf WHERE event_id = v_left.id;
    SELECT array_agg(l.index ORDER BY l.index) INTO v_leaves
      FROM public.ledger_logleaf l
      JOIN public.consent_consentevent e ON e.id = l.event_id
     WHERE e.customer_id = p_customer;
    v_previous := retention_ignore_row_triggers(
        ARRAY['public.consent_consentevent', 'public.consent_staffaction']::regclass[]);
    DELETE FROM public.consent_staffaction
     WHERE event_id IN (SELECT id FROM public.consent_consentevent
                         WHERE customer_id = p_customer);
    DELETE FROM public.consent_consentstate WHERE customer_id = p_customer;
    DELETE FROM public.consent_consentevent WHERE customer_id = p_customer;
    PERFORM retention_restore_row_triggers(v_previous);
    INSERT INTO public.consent_ledgertombstone (
        customer_id, customer_number, events, last_sequence, last_hash, reason, as_of,
        removed_at, left_entry, left_leaf, leaves)
    VALUES (p_customer, v_customer.customer_number, v_events, v_last, v_hash, 'retention',
            v_today, now(), v_left.entry, v_left_leaf, v_leaves);
    RETURN v_events;
END
"""


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# The statement a `left` event records (consent.catalogue.LEFT_NOTICES, as of this migration).
LEFT_STATEMENT = {
    "nl": (
        "U bent geen klant meer van de bank. Wij hebben al uw toestemmingen uitgezet en"
        " gebruiken uw gegevens niet meer voor aanbiedingen. Wat de wet ons laat of"
        " verplicht te bewaren, bewaren wij zo lang als de teksten zeggen, gerekend vanaf"
        " de dag dat u vertrok; daarna verwijderen wij het."
    ),
    "en": (
        "You are no longer a customer of the bank. We switched off every consent you"
        " gave and no longer use your data for offers. What the law allows or obliges us"
        " to keep, we keep as long as the notices say, counted from the day you left;"
        " then we remove it."
    ),
}


def chain_key() -> bytes:
    """The chain key, from where the settings said it was kept when this migration was
    written (`LEDGER_HMAC_KEY`, or the file `LEDGER_HMAC_KEY_FILE`)."""
    if settings.LEDGER_HMAC_KEY:
        return settings.LEDGER_HMAC_KEY.strip().encode()
    file = settings.LEDGER_HMAC_KEY_FILE
    if file and Path(file).is_file():
        return Path(file).read_text().strip().encode()
    raise ImproperlyConfigured(
        f"LEDGER_HMAC_KEY is not set and {file} does not exist: recording the departures"
        " of customers who left needs the chain key."
    )


def record_departures_so_far(apps, schema_editor):
    """A `left` event for every customer who left before leaving was an event."""
    Customer = apps.get_model("consent", "Customer")
    ConsentEvent = apps.get_model("ledger", "ConsentEvent")
    left = Customer.objects.filter(closed_on__isnull=False).exclude(
        pk__in=ConsentEvent.objects.filter(action="left").values("customer_id")
    )
    if not left.exists():
        return
    secret = chain_key()  # only databases with departures need the key
    fingerprint = hashlib.sha256(secret).hexdigest()[:16]
    now = dt.datetime.now(dt.UTC)
    for customer in left.order_by("pk"):
        last = ConsentEvent.objects.filter(customer=customer).order_by("-sequence").first()
        language = customer.language if customer.language in LEFT_STATEMENT else "nl"
        fields = {
            "key": fingerprint,
            "receipt_id": str(uuid.uuid4()),
            "customer": customer.customer_number,
            "purpose": None,
            "version": None,
            "action": "left",
            "occurred_at": now.isoformat(),
            "channel": "system",
            "actor": None,
            "notice_language": language,
            "notice_sha256": hashlib.sha256(LEFT_STATEMENT[language].encode()).hexdigest(),
            "sequence": last.sequence + 1 if last else 1,
            "previous_hash": last.hash if last else "0" * 64,
            "left_on": customer.closed_on.isoformat(),
        }
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        digest = hmac.new(secret, payload, hashlib.sha256).hexdigest()
        entry = {**fields, "format": 1, "hash": digest, "salt": secrets.token_hex(32)}
        ConsentEvent.objects.create(
            receipt_id=fields["receipt_id"],
            customer=customer,
            action="left",
            occurred_at=now,
            channel="system",
            notice_language=language,
            notice_sha256=fields["notice_sha256"],
            sequence=fields["sequence"],
            previous_hash=fields["previous_hash"],
            hash=digest,
            hmac_key=fingerprint,
            left_on=customer.closed_on,
            entry=canonical(entry),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0009_ledger_moved_out"),
        ("ledger", "0002_transparency_log"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consentstate",
            name="state",
            field=models.CharField(
                choices=[
                    ("granted", "toestemming gegeven"),
                    ("withdrawn", "toestemming ingetrokken"),
                    ("objected", "bezwaar tegen direct marketing"),
                    ("objection_lifted", "bezwaar opgeheven"),
                    ("erasure_requested", "verwijdering gevraagd"),
                    ("left", "klant vertrokken"),
                ],
                max_length=20,
                verbose_name="stand",
            ),
        ),
        migrations.RunSQL(STATE_MIRRORS_LEDGER, migrations.RunSQL.noop),
        migrations.RunSQL(RELATIONSHIP_END, DROP_RELATIONSHIP_END),
        migrations.RunSQL(
            "DROP FUNCTION remove_consent_proof(bigint, date)", migrations.RunSQL.noop
        ),
        OwnerFunction(
            "remove_consent_proof",
            "p_customer bigint, p_as_of date",
            "integer",
            REMOVE_CONSENT_PROOF,
        ),
        migrations.RunPython(record_departures_so_far, migrations.RunPython.noop),
    ]
