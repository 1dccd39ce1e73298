"""Retention and erasure (issue #14) for offers.

- A retraction may say the customer left the bank (`Cause.CUSTOMER_LEFT`).
- Two owner functions let the runtime role remove offers together with their
  append-only events (infra/dbroles.py `OwnerFunction`), each checking its own
  condition in SQL: `remove_offers_past_retention` only offers closed longer ago than
  the period the notices in effect state (on the database's date);
  `erase_offers_on_request` only the offers made before an `erasure_requested` event
  in the ledger, of that event's customer.
"""

from django.conf import settings
from django.db import migrations, models

from infra.dbroles import RETENTION_TIME_ZONE, OwnerFunction

# Remove offers by id with their events, follow-ups and the consents they relied on (the
# runtime role may not delete offer events). Owner-only: called by the two functions
# below, never by the runtime role itself.
DELETE_OFFERS = """
CREATE FUNCTION retention_delete_offers(p_ids bigint[])
RETURNS TABLE(removed_offers integer, removed_events integer, removed_follow_ups integer)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_previous text;
BEGIN
    removed_offers := 0;
    removed_events := 0;
    removed_follow_ups := 0;
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    v_previous := retention_ignore_row_triggers(ARRAY['offers_offerevent']::regclass[]);
    DELETE FROM offers_offerevent WHERE offer_id = ANY(p_ids);
    GET DIAGNOSTICS removed_events = ROW_COUNT;
    PERFORM retention_restore_row_triggers(v_previous);
    DELETE FROM offers_followup WHERE offer_id = ANY(p_ids);
    GET DIAGNOSTICS removed_follow_ups = ROW_COUNT;
    DELETE FROM offers_offer_relied_on WHERE offer_id = ANY(p_ids);
    DELETE FROM offers_offer WHERE id = ANY(p_ids);
    GET DIAGNOSTICS removed_offers = ROW_COUNT;
    RETURN NEXT;
END $$;
REVOKE ALL ON FUNCTION retention_delete_offers(bigint[]) FROM PUBLIC;
"""
DROP_DELETE_OFFERS = "DROP FUNCTION IF EXISTS retention_delete_offers(bigint[]);"

# An offer is closed when it is no longer open (proposed, approved); it closed at its
# last event (a status change, or the contact centre's last step with it). At most
# `p_limit` offers per call, so a caller removes in batches.
REMOVE_OFFERS_PAST_RETENTION = f"""
DECLARE
    v_today date := least(p_as_of, retention_today());
    v_years integer := retention_years('offers', 'offer_closed', v_today);
    v_ids bigint[];
BEGIN
    IF v_years IS NULL THEN
        RETURN QUERY SELECT 0, 0, 0;
        RETURN;
    END IF;
    SELECT array_agg(chosen.id) INTO v_ids FROM (
        SELECT o.id FROM offers_offer o
         WHERE o.status NOT IN ('proposed', 'approved')
           AND ((greatest(o.status_changed_at,
                          (SELECT max(e.occurred_at) FROM offers_offerevent e
                            WHERE e.offer_id = o.id))
                 AT TIME ZONE '{RETENTION_TIME_ZONE}')::date
                + make_interval(years => v_years))::date <= v_today
         ORDER BY o.id
         LIMIT p_limit
           FOR UPDATE OF o) chosen;
    RETURN QUERY SELECT * FROM retention_delete_offers(v_ids);
END
"""

ERASE_OFFERS_ON_REQUEST = """
DECLARE
    v_event consent_consentevent%ROWTYPE;
    v_ids bigint[];
BEGIN
    SELECT * INTO v_event FROM consent_consentevent
     WHERE id = p_event AND action = 'erasure_requested';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event % is not a request to erase', p_event
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT array_agg(id) INTO v_ids FROM offers_offer
     WHERE customer_id = v_event.customer_id AND created_at <= v_event.occurred_at;
    RETURN QUERY SELECT * FROM retention_delete_offers(v_ids);
END
"""
REMOVED = "TABLE(removed_offers integer, removed_events integer, removed_follow_ups integer)"


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_retention"),
        ("offers", "0010_partitioned_transactions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="offerevent",
            name="offer_event_cause_known",
        ),
        migrations.AlterField(
            model_name="offerevent",
            name="cause",
            field=models.CharField(
                choices=[
                    ("engine", "voorgesteld door de engine"),
                    ("review", "beoordeling"),
                    ("customer_answer", "antwoord van de klant"),
                    ("consent_withdrawn", "toestemming ingetrokken"),
                    ("material_change", "tekst materieel gewijzigd"),
                    ("consent_lapsed", "toestemming geldt niet meer"),
                    ("past_valid_until", "geldigheidsdatum voorbij"),
                    ("follow_up", "terugbellen"),
                    ("customer_left", "klant is vertrokken"),
                ],
                max_length=20,
                verbose_name="aanleiding",
            ),
        ),
        migrations.AddConstraint(
            model_name="offerevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "cause__in",
                        [
                            "engine",
                            "review",
                            "customer_answer",
                            "consent_withdrawn",
                            "material_change",
                            "consent_lapsed",
                            "past_valid_until",
                            "follow_up",
                            "customer_left",
                        ],
                    )
                ),
                name="offer_event_cause_known",
            ),
        ),
        migrations.RunSQL(DELETE_OFFERS, DROP_DELETE_OFFERS),
        OwnerFunction(
            "remove_offers_past_retention",
            "p_as_of date, p_limit integer",
            REMOVED,
            REMOVE_OFFERS_PAST_RETENTION,
        ),
        OwnerFunction(
            "erase_offers_on_request", "p_event bigint", REMOVED, ERASE_OFFERS_ON_REQUEST
        ),
    ]
