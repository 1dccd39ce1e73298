"""The runtime role deletes no banking data, no data-use log and no offers.

Before, it could delete accounts (past their trigger, with `SET pgtrigger.ignore`),
transactions (in every monthly partition too), holdings, the data-use log, offers, their
follow-ups and the consents they relied on. Now it has no DELETE or TRUNCATE on any of
them (`OwnerDeletesOnly`); a new month of transactions gets exactly the table's
privileges (`RefreshMonthlyPartitions`). What retention and erasure remove goes through
owner functions that check why in SQL, on the database's date (`retention_today()`) or
behind an `erasure_requested` event in the ledger, whatever the caller passes:

- `remove_data_use_past_retention(as_of, limit)`: reads older than the period (a batch);
- `erase_data_use_on_request(event)`: the customer's reads up to their erasure request;
- `remove_transactions_past_retention(as_of, accounts)`: of those accounts, the
  transactions past every rule that keeps them (from the booking, and from the end of the
  relationship);
- `remove_accounts_past_retention(as_of)`: accounts without transactions and products
  held, of customers who left longer ago than the period.
"""

from django.conf import settings
from django.db import migrations

from infra.dbroles import (
    RETENTION_TIME_ZONE,
    OwnerDeletesOnly,
    OwnerFunction,
    PinSearchPaths,
    RefreshMonthlyPartitions,
)

TZ = RETENTION_TIME_ZONE

REMOVE_DATA_USE_PAST_RETENTION = f"""
DECLARE
    v_today date := least(p_as_of, public.retention_today());
    v_years integer := public.retention_years('data_use', 'read', v_today);
    v_removed integer;
BEGIN
    IF v_years IS NULL THEN
        RETURN 0;  -- no notice states a period: keep everything
    END IF;
    DELETE FROM public.offers_datause
     WHERE (customer_id, run_id, purpose_id) IN (
           SELECT customer_id, run_id, purpose_id FROM public.offers_datause
            WHERE read_at < (public.retention_cutoff(v_years, v_today) + 1)::timestamp
                            AT TIME ZONE '{TZ}'
            LIMIT p_limit);
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    RETURN v_removed;
END
"""

ERASE_DATA_USE_ON_REQUEST = """
DECLARE
    v_event public.consent_consentevent%ROWTYPE;
    v_removed integer;
BEGIN
    SELECT * INTO v_event FROM public.consent_consentevent
     WHERE id = p_event AND action = 'erasure_requested';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event % is not a request to erase', p_event
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM public.offers_datause
     WHERE customer_id = v_event.customer_id AND read_at <= v_event.occurred_at;
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    RETURN v_removed;
END
"""

# Planned afresh each call (EXECUTE), so that a bound on the booking prunes the months.
REMOVE_TRANSACTIONS_PAST_RETENTION = f"""
DECLARE
    v_today date := least(p_as_of, public.retention_today());
    v_booked integer := public.retention_years('transactions', 'transaction', v_today);
    v_left integer := public.retention_years('transactions', 'relationship_end', v_today);
    v_before timestamptz;
    v_left_by date;
    v_removed bigint;
BEGIN
    IF v_booked IS NULL AND v_left IS NULL THEN
        RETURN 0;  -- no notice states a period: keep everything
    END IF;
    IF v_booked IS NOT NULL THEN
        v_before := (public.retention_cutoff(v_booked, v_today) + 1)::timestamp
                    AT TIME ZONE '{TZ}';
    END IF;
    IF v_left IS NOT NULL THEN
        v_left_by := public.retention_cutoff(v_left, v_today);
    END IF;
    EXECUTE 'DELETE FROM public.offers_transaction t WHERE t.account_id = ANY($1)'
         || CASE WHEN v_before IS NULL THEN '' ELSE ' AND t.booked_at < $2' END
         || CASE WHEN v_left_by IS NULL THEN '' ELSE
                ' AND t.account_id IN (SELECT a.id FROM public.offers_account a'
             || ' JOIN public.consent_customer c ON c.id = a.customer_id'
             || ' WHERE a.id = ANY($1) AND public.relationship_end(c.id) <= $3)' END
      USING p_accounts, v_before, v_left_by;
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    RETURN v_removed;
END
"""

# An account goes only once nothing refers to it any more (its transactions are gone).
REMOVE_ACCOUNTS_PAST_RETENTION = """
DECLARE
    v_today date := least(p_as_of, public.retention_today());
    v_years integer := public.retention_years('accounts', 'relationship_end', v_today);
    v_left_by date;
    v_previous text;
BEGIN
    removed_accounts := 0;
    removed_holdings := 0;
    IF v_years IS NULL THEN
        RETURN NEXT;
        RETURN;
    END IF;
    v_left_by := public.retention_cutoff(v_years, v_today);
    DELETE FROM public.offers_holding h USING public.consent_customer c
     WHERE c.id = h.customer_id AND public.relationship_end(c.id) <= v_left_by;
    GET DIAGNOSTICS removed_holdings = ROW_COUNT;
    v_previous := public.retention_ignore_row_triggers(
        ARRAY['public.offers_account']::regclass[]);
    DELETE FROM public.offers_account a USING public.consent_customer c
     WHERE c.id = a.customer_id AND public.relationship_end(c.id) <= v_left_by
       AND NOT EXISTS (SELECT FROM public.offers_transaction t WHERE t.account_id = a.id);
    GET DIAGNOSTICS removed_accounts = ROW_COUNT;
    PERFORM public.retention_restore_row_triggers(v_previous);
    RETURN NEXT;
END
"""


# offers 0012's whole-month dropper, counting "after the relationship ends" from the
# ledger's departure (`relationship_end`), never from `closed_on`.
DROP_MONTHS_COUNTED_FROM_THE_LEDGER = (
    """
CREATE OR REPLACE FUNCTION drop_transaction_months_past_retention(p_as_of date)
RETURNS TABLE(months integer, removed_rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_today date := least(p_as_of, public.retention_today());
    v_booked integer := public.retention_years('transactions', 'transaction', v_today);
    v_left integer := public.retention_years('transactions', 'relationship_end', v_today);
    v_kept_from timestamptz;
    v_keep boolean;
    v_rows bigint;
    p record;
BEGIN
    months := 0;
    removed_rows := 0;
    IF v_booked IS NULL AND v_left IS NULL THEN
        RETURN NEXT;
        RETURN;
    END IF;
    IF v_booked IS NOT NULL THEN
        v_kept_from := ((v_today - make_interval(years => v_booked))::date)::timestamp
                       AT TIME ZONE '"""
    + TZ
    + """';
    END IF;
    FOR p IN
        SELECT c.oid::regclass AS part,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                             'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS ends
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'public.offers_transaction'::regclass
         ORDER BY 2
    LOOP
        CONTINUE WHEN v_kept_from IS NOT NULL AND p.ends > v_kept_from;
        IF v_left IS NOT NULL THEN
            EXECUTE format(
                'SELECT EXISTS (SELECT 1 FROM %s t'
                ' JOIN public.offers_account a ON a.id = t.account_id'
                ' WHERE public.relationship_end(a.customer_id) IS NULL'
                '    OR public.relationship_end(a.customer_id) > %L)',
                p.part, (v_today - make_interval(years => v_left))::date)
              INTO v_keep;
            CONTINUE WHEN v_keep;
        END IF;
        EXECUTE format('SELECT count(*) FROM %s', p.part) INTO v_rows;
        EXECUTE format('ALTER TABLE public.offers_transaction DETACH PARTITION %s', p.part);
        EXECUTE format('DROP TABLE %s', p.part);
        months := months + 1;
        removed_rows := removed_rows + v_rows;
    END LOOP;
    RETURN NEXT;
END $$;
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0012_immune_to_shadowing_and_deletes"),
        ("consent", "0010_leaving_is_a_ledger_event"),  # relationship_end()
        ("offers", "0014_consent_events_in_the_ledger"),
    ]

    operations = [
        RefreshMonthlyPartitions("Transaction", column="booked_at", time_zone=settings.TIME_ZONE),
        *(
            OwnerDeletesOnly(model)
            for model in (
                "Account",
                "Holding",
                "Transaction",
                "DataUse",
                "Offer",
                "Offer_relied_on",
                "FollowUp",
            )
        ),
        OwnerFunction(
            "remove_data_use_past_retention",
            "p_as_of date, p_limit integer",
            "integer",
            REMOVE_DATA_USE_PAST_RETENTION,
        ),
        OwnerFunction(
            "erase_data_use_on_request", "p_event bigint", "integer", ERASE_DATA_USE_ON_REQUEST
        ),
        OwnerFunction(
            "remove_transactions_past_retention",
            "p_as_of date, p_accounts bigint[]",
            "bigint",
            REMOVE_TRANSACTIONS_PAST_RETENTION,
        ),
        OwnerFunction(
            "remove_accounts_past_retention",
            "p_as_of date",
            "TABLE(removed_accounts integer, removed_holdings integer)",
            REMOVE_ACCOUNTS_PAST_RETENTION,
        ),
        migrations.RunSQL(DROP_MONTHS_COUNTED_FROM_THE_LEDGER, migrations.RunSQL.noop),
        PinSearchPaths(),
    ]
