"""No event lies in the future: the database refuses an event whose time is later than its
own clock (a few seconds allowed for clocks that differ a little), whoever writes it. A
host whose clock runs ahead would otherwise record choices "from the future", which
every reader judges wrongly until that moment comes.

Where the owner set a date for retention (`retention_clock`: rehearsals and tests, never
production), that whole day counts as now.
"""

from django.db import migrations

NOT_IN_THE_FUTURE = """
CREATE FUNCTION ledger_event_not_in_the_future() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE v_now timestamptz := coalesce(
    (SELECT (max(today) + 1)::timestamp AT TIME ZONE 'Europe/Amsterdam'
       FROM public.retention_clock),
    clock_timestamp());
BEGIN
    IF NEW.occurred_at > v_now + interval '5 seconds' THEN
        RAISE EXCEPTION 'event time % lies in the future (the database''s clock says %):'
            ' is this host''s clock right?', NEW.occurred_at, v_now
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION ledger_event_not_in_the_future() FROM PUBLIC;
CREATE TRIGGER ledger_event_not_in_the_future BEFORE INSERT ON public.consent_consentevent
    FOR EACH ROW EXECUTE FUNCTION ledger_event_not_in_the_future();
"""
DROP_NOT_IN_THE_FUTURE = """
DROP TRIGGER IF EXISTS ledger_event_not_in_the_future ON public.consent_consentevent;
DROP FUNCTION IF EXISTS ledger_event_not_in_the_future();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_transparency_log")]

    operations = [migrations.RunSQL(NOT_IN_THE_FUTURE, DROP_NOT_IN_THE_FUTURE)]
