"""No temporary table can stand in for ours, and the runtime role deletes no protected data.

- Every function the owner has gets a fixed search path with `pg_temp` last
  (`PinSearchPaths`); before, the triggers that keep the state a mirror of the ledger
  and `closed_on` a fact had none, and the owner's functions searched `pg_temp` first,
  so a temporary `consent_consentevent` of the runtime role's session was read instead
  of the ledger. The two triggers and `retention_today()` are made again naming their
  tables with the schema.
- Only the owner may create temporary tables (`RevokeTemporaryTables`).
- The runtime role may not delete customers or state rows (`OwnerDeletesOnly`): the app
  never does, retention does through `remove_consent_proof`.
- `retention_cutoff(years, today)`: the latest day whose period of `years` has run out
  by `today`, for the owner's retention functions (the SQL twin of
  `consent.retention.subtract_years`).
"""

from django.db import migrations

from infra.dbroles import (
    RETENTION_TIME_ZONE,
    SEARCH_PATH,
    OwnerDeletesOnly,
    PinSearchPaths,
    RevokeTemporaryTables,
)

TZ = RETENTION_TIME_ZONE

# 0010's trigger function, with schema-qualified names and the pinned search path.
STATE_MIRRORS_LEDGER = f"""
CREATE OR REPLACE FUNCTION consent_state_mirrors_ledger() RETURNS trigger
LANGUAGE plpgsql SET search_path = {SEARCH_PATH} AS $$
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
STATE_MIRRORS_LEDGER_BEFORE = """
CREATE OR REPLACE FUNCTION consent_state_mirrors_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM consent_consentevent e
         WHERE e.id = NEW.event_id
           AND e.customer_id = NEW.customer_id
           AND e.purpose_id IS NOT DISTINCT FROM NEW.purpose_id
           AND e.action = NEW.state
           AND e.action <> 'erasure_requested'
           AND e.purpose_version_id IS NOT DISTINCT FROM NEW.purpose_version_id
           AND e.occurred_at = NEW.changed_at
           AND NOT EXISTS (
               SELECT 1 FROM consent_consentevent later
                WHERE later.customer_id = e.customer_id
                  AND later.purpose_id IS NOT DISTINCT FROM e.purpose_id
                  AND later.action <> 'erasure_requested'
                  AND later.sequence > e.sequence)
    ) THEN
        RAISE EXCEPTION 'consent state of customer % must mirror the latest ledger event',
            NEW.customer_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""


def closed_on_is_set_once(*, schema: str, search_path: str) -> str:
    """0008's trigger function; `schema` and `search_path` empty: exactly as 0008 made it."""
    return f"""
CREATE OR REPLACE FUNCTION consent_customer_closed_on() RETURNS trigger
LANGUAGE plpgsql SET search_path = {search_path} AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.closed_on IS NOT NULL
       AND NEW.closed_on IS DISTINCT FROM OLD.closed_on THEN
        RAISE EXCEPTION 'customer % left on %; that date cannot change',
            OLD.customer_number, OLD.closed_on USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.closed_on IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.closed_on IS NULL) THEN
        IF NEW.closed_on > {schema}retention_today() THEN
            RAISE EXCEPTION 'customer % cannot leave on % (in the future)',
                NEW.customer_number, NEW.closed_on
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF EXISTS (SELECT FROM {schema}consent_consentevent e
                    WHERE e.customer_id = NEW.id AND e.channel <> 'system'
                      AND (e.occurred_at AT TIME ZONE '{TZ}')::date > NEW.closed_on) THEN
            RAISE EXCEPTION 'customer % made a choice after %, so did not leave then',
                NEW.customer_number, NEW.closed_on
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""


RETENTION_TODAY = f"""
CREATE OR REPLACE FUNCTION retention_today() RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
    SELECT coalesce((SELECT max(today) FROM public.retention_clock),
                    (now() AT TIME ZONE '{TZ}')::date)
$$;
"""
RETENTION_TODAY_BEFORE = f"""
CREATE OR REPLACE FUNCTION retention_today() RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce((SELECT max(today) FROM retention_clock),
                    (now() AT TIME ZONE '{TZ}')::date)
$$;
"""

# `add_years(d, years) <= today` exactly when `d <= retention_cutoff(years, today)`; a
# date plus years moves 29 February to 28 February, as `ledger.audit.add_years` does.
RETENTION_CUTOFF = f"""
CREATE FUNCTION retention_cutoff(p_years integer, p_today date) RETURNS date
LANGUAGE sql IMMUTABLE SET search_path = {SEARCH_PATH} AS $$
    SELECT CASE WHEN (guess + 1 + make_interval(years => p_years))::date <= p_today
                THEN guess + 1 ELSE guess END
      FROM (SELECT (p_today - make_interval(years => p_years))::date AS guess) first_guess
$$;
REVOKE ALL ON FUNCTION retention_cutoff(integer, date) FROM PUBLIC;
"""
DROP_RETENTION_CUTOFF = "DROP FUNCTION IF EXISTS retention_cutoff(integer, date);"


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0011_choices_lost_since"),
        # After every function of the ledger's own, so that they are pinned too.
        ("ledger", "0004_restores"),
    ]

    operations = [
        migrations.RunSQL(STATE_MIRRORS_LEDGER, STATE_MIRRORS_LEDGER_BEFORE),
        migrations.RunSQL(
            closed_on_is_set_once(schema="public.", search_path=SEARCH_PATH),
            closed_on_is_set_once(schema="", search_path="pg_catalog, public"),
        ),
        migrations.RunSQL(RETENTION_TODAY, RETENTION_TODAY_BEFORE),
        migrations.RunSQL(RETENTION_CUTOFF, DROP_RETENTION_CUTOFF),
        OwnerDeletesOnly("Customer"),
        OwnerDeletesOnly("ConsentState"),
        RevokeTemporaryTables(),
        PinSearchPaths(),
    ]
