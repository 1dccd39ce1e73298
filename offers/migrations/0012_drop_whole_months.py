"""Retention drops whole monthly partitions of transactions where it can.

`drop_transaction_months_past_retention(p_as_of)` is an owner function for the runtime
role (infra/dbroles.py `OwnerFunction`): it detaches and drops every month of which
*every* row is past every rule the notices in effect state for transactions (counted
from the transaction, and from the end of the relationship), judged on the database's
date. A month with one row still kept stays whole; `offers.retention` then deletes its
rows that are past their period, one by one. The check errs on the safe side: a month
goes only when it ends before the first day still kept.
"""

from django.db import migrations

from infra.dbroles import RETENTION_TIME_ZONE, OwnerFunction

DROP_MONTHS = f"""
DECLARE
    v_today date := least(p_as_of, retention_today());
    v_booked integer := retention_years('transactions', 'transaction', v_today);
    v_left integer := retention_years('transactions', 'relationship_end', v_today);
    v_kept_from timestamptz;
    v_keep boolean;
    v_rows bigint;
    p record;
BEGIN
    months := 0;
    removed_rows := 0;
    IF v_booked IS NULL AND v_left IS NULL THEN
        RETURN NEXT;  -- no notice states a period: keep everything
        RETURN;
    END IF;
    IF v_booked IS NOT NULL THEN
        -- The first moment still kept by the rule counted from the transaction.
        v_kept_from := ((v_today - make_interval(years => v_booked))::date)::timestamp
                       AT TIME ZONE '{RETENTION_TIME_ZONE}';
    END IF;
    FOR p IN
        SELECT c.oid::regclass AS part,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                             'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS ends
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'offers_transaction'::regclass
         ORDER BY 2
    LOOP
        CONTINUE WHEN v_kept_from IS NOT NULL AND p.ends > v_kept_from;
        IF v_left IS NOT NULL THEN
            EXECUTE format(
                'SELECT EXISTS (SELECT 1 FROM %s t'
                ' JOIN offers_account a ON a.id = t.account_id'
                ' JOIN consent_customer c ON c.id = a.customer_id'
                ' WHERE c.closed_on IS NULL OR c.closed_on > %L)',
                p.part, (v_today - make_interval(years => v_left))::date)
              INTO v_keep;
            CONTINUE WHEN v_keep;
        END IF;
        EXECUTE format('SELECT count(*) FROM %s', p.part) INTO v_rows;
        EXECUTE format('ALTER TABLE offers_transaction DETACH PARTITION %s', p.part);
        EXECUTE format('DROP TABLE %s', p.part);
        months := months + 1;
        removed_rows := removed_rows + v_rows;
    END LOOP;
    RETURN NEXT;
END
"""


class Migration(migrations.Migration):
    dependencies = [("offers", "0011_retention")]

    operations = [
        OwnerFunction(
            "drop_transaction_months_past_retention",
            "p_as_of date",
            "TABLE(months integer, removed_rows bigint)",
            DROP_MONTHS,
        )
    ]
